import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEnv, parsePorts, shellWords } from "./shell-words.ts";

test("shellWords splits as a shell does", () => {
  assert.deepEqual(shellWords(`sh -c "echo hi; sleep 1"`), ["sh", "-c", "echo hi; sleep 1"]);
  assert.deepEqual(shellWords(`echo 'a  b' c\\ d ""`), ["echo", "a  b", "c d", ""]);
  assert.deepEqual(shellWords(`  `), []);
  assert.deepEqual(shellWords(`echo "say \\"x\\""`), ["echo", `say "x"`]);
  assert.throws(() => shellWords(`echo "open`), /unclosed " quote/);
});

test("parsePorts reads Docker's -p forms and names a bad entry", () => {
  assert.deepEqual(parsePorts("8080:80, 127.0.0.1:5353:53/udp 9000"), [
    { hostPort: 8080, containerPort: 80 },
    { hostIp: "127.0.0.1", hostPort: 5353, containerPort: 53, protocol: "udp" },
    { containerPort: 9000 },
  ]);
  assert.throws(() => parsePorts("80:eighty"), /port "80:eighty": write HOST:CONTAINER/);
  assert.throws(() => parsePorts("70000:80"), /ports are 1-65535/);
});

test("parseEnv keeps KEY=value lines and refuses others", () => {
  assert.deepEqual(parseEnv("A=1\n\n# note\nB=x=y\n"), ["A=1", "B=x=y"]);
  assert.throws(() => parseEnv("JUSTKEY"), /write KEY=value/);
});
