// What Docker users' scripts do with the CLI: Go-template --format, several names per command,
// stats of every running container with real CPU % and network I/O.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);

describe("Docker users' scripts", () => {
  before(async () => {
    runtime = await startRuntime("scripts");
  });

  after(() => runtime.cleanup());

  test("commands with several names act on each, report each failure, exit 1", () => {
    for (const n of ["a", "b"])
      assert.equal(rt("run", "-d", "--name", n, TEST_IMAGE_NAME, "sleep", "60").code, 0);
    const stopped = rt("stop", "-t", "0", "a", "nosuch", "b");
    assert.equal(stopped.code, 1);
    assert.equal(stopped.out, "a\nb\n");
    assert.match(stopped.err, /nosuch/);
    const removed = rt("rm", "-f", "nosuch", "a", "b");
    assert.equal(removed.code, 1, "one name failed");
    assert.equal(removed.out, "a\nb\n");
    assert.equal(removed.err.trim().split("\n").length, 1);
    assert.match(removed.err, /nosuch/);
    assert.equal(rt("ps", "-a", "-q").out, "", "a and b are gone");
  });

  test("--format: inspect -f, ps (template and table), images, network ls, volume ls", () => {
    const id = rt(
      "run",
      "-d",
      "--name",
      "web",
      "--label",
      "tier=front",
      TEST_IMAGE_NAME,
      "sleep",
      "60",
    ).out.trim();
    const [info] = JSON.parse(rt("inspect", id).out) as [{ State: { Pid: number } }];
    assert.equal(rt("inspect", "-f", "{{.State.Pid}}", "web").out, `${info.State.Pid}\n`);
    assert.equal(
      rt("inspect", "--format", '{{json .State.Running}} {{index .Config.Labels "tier"}}', "web")
        .out,
      "true front\n",
    );
    assert.match(rt("ps", "--format", "{{.Names}}\\t{{.Status}}").out, /^web\tUp .+\n$/);
    assert.equal(rt("ps", "--format", '{{.Label "tier"}} {{.State}}').out, "front running\n");
    const table = rt("ps", "--format", "table {{.Names}}\\t{{.State}}").out.split("\n");
    assert.equal(table[0], "NAMES     STATE");
    assert.equal(table[1], "web       running");
    assert.equal(rt("images", "--format", "{{.Repository}}:{{.Tag}}").out, `${TEST_IMAGE_NAME}\n`);
    assert.match(rt("network", "ls", "--format", "{{.Name}} {{.Driver}}").out, /^bridge bridge$/m);
    rt("volume", "create", "data");
    assert.equal(rt("volume", "ls", "--format", "{{.Name}}|{{.Driver}}").out, "data|local\n");
    const bad = rt("ps", "--format", "{{.Names");
    assert.equal(bad.code, 125);
    assert.match(bad.err, /invalid --format.*unclosed action/);
    rt("rm", "-f", id);
    rt("volume", "rm", "data");
  });

  test("stats with no names: every running container, real CPU %, network and block I/O", () => {
    const spin = rt(
      "run",
      "-d",
      "--name",
      "spin",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "while :; do :; done",
    );
    const peer = rt("run", "-d", "--name", "peer", TEST_IMAGE_NAME, "sleep", "60");
    assert.equal(spin.code + peer.code, 0);
    const [peerInfo] = JSON.parse(rt("inspect", "peer").out) as [
      { NetworkSettings: { IPAddress: string } },
    ];
    const ping = rt(
      "exec",
      "spin",
      "ping",
      "-c",
      "3",
      "-W",
      "2",
      peerInfo.NetworkSettings.IPAddress,
    );
    assert.equal(ping.code, 0, ping.out + ping.err);
    // A spinning shell gets its share of a busy shared machine, not a whole core: what matters
    // is a measured interval (one sample used to print 0.00%).
    const r = rt("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.NetIO}}");
    assert.equal(r.code, 0, r.err);
    const rows = new Map(
      r.out
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([name = "", cpu = "", ...net]) => [
          name,
          { cpu: parseFloat(cpu), net: net.join(" ") },
        ]),
    );
    assert.deepEqual([...rows.keys()].sort(), ["peer", "spin"]);
    assert.ok((rows.get("spin")?.cpu ?? 0) > 5, `a spinning shell shows ${rows.get("spin")?.cpu}%`);
    assert.notEqual(rows.get("peer")?.net, "0B / 0B", "pings in and out");
    const table = rt("stats", "--no-stream").out.split("\n")[0] ?? "";
    assert.match(
      table,
      /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/,
    );
    rt("rm", "-f", "spin", "peer");
  });
});
