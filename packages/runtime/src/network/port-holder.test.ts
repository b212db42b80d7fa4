import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { describePortHolder } from "./port-holder.js";

test("the holder of a listening TCP port and of a bound UDP port is named with its pid", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const udp = createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  const tcpPort = (server.address() as { port: number }).port;
  try {
    const comm = `(pid ${process.pid})`;
    assert.ok(
      describePortHolder(tcpPort, "tcp")?.endsWith(comm),
      describePortHolder(tcpPort, "tcp"),
    );
    assert.ok(describePortHolder(udp.address().port, "udp")?.endsWith(comm));
  } finally {
    await new Promise((resolve) => server.close(resolve));
    udp.close();
  }
  assert.equal(describePortHolder(tcpPort, "tcp"), undefined, "nobody holds it now");
});
