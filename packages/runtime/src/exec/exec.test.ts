import { test } from "node:test";
import assert from "node:assert/strict";
import { execInContainer, helperArgs, parseExecOptions, type ExecOptions } from "./exec.js";

const valid: ExecOptions = {
  pid: 42,
  args: ["sh", "-c", "echo $HOME"],
  env: ["PATH=/bin", "HOME=/root"],
  cwd: "/",
  uid: 1000,
  gid: 1000,
  additionalGids: [10, 20],
  capabilities: ["CAP_CHOWN", "CAP_KILL", "CAP_SETFCAP", "CAP_BPF"],
  noNewPrivileges: true,
  tty: false,
  stdin: false,
};

test("the helper gets one argv element per value, the command after --", () => {
  const args = helperArgs(
    parseExecOptions({
      ...valid,
      tty: true,
      env: ["A=--tty", "B= -- "],
      rlimits: [{ name: "RLIMIT_NOFILE", soft: 1024, hard: -1 }],
    }),
  );
  assert.deepEqual(args, [
    ...["--pid", "42", "--cwd", "/", "--uid", "1000", "--gid", "1000"],
    // CHOWN=0, KILL=5, SETFCAP=31, BPF=39
    ...["--caps", "0x8080000021", "--groups", "10,20", "--no-new-privs", "--tty"],
    ...["--rlimit", "7:1024:-1", "--env", "A=--tty", "--env", "B= -- "],
    ...["--", "sh", "-c", "echo $HOME"],
  ]);
});

test("no groups, no rlimits and no caps leave their options out or empty", () => {
  const args = helperArgs(
    parseExecOptions({ ...valid, additionalGids: [], capabilities: [], noNewPrivileges: false }),
  );
  assert.deepEqual(
    args.slice(8),
    ["--caps", "0x0", "--env", "PATH=/bin", "--env", "HOME=/root"].concat([
      "--",
      "sh",
      "-c",
      "echo $HOME",
    ]),
  );
});

test("invalid options are refused with every problem on one line", () => {
  const bad = {
    ...valid,
    args: [],
    env: ["NOEQUALS"],
    cwd: "relative",
    capabilities: ["CAP_EVERYTHING"],
    rlimits: [{ name: "RLIMIT_NOFILE", soft: 10, hard: 5 }],
  };
  assert.throws(
    () => parseExecOptions(bad),
    (err: Error) => {
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, /^invalid exec options: /);
      assert.match(err.message, /args: args needs the command to run/);
      assert.match(err.message, /env\.0: an environment entry must look like KEY=VALUE/);
      assert.match(err.message, /cwd: cwd must be an absolute path/);
      assert.match(err.message, /capabilities\.0: /);
      assert.match(err.message, /rlimits\.0: an rlimit's soft value must not exceed/);
      return true;
    },
  );
  assert.throws(() => parseExecOptions({ ...valid, args: ["a\0b"] }), /NUL/);
  assert.throws(() => parseExecOptions({ ...valid, uid: -1 }), /uid: /);
});

test("a missing helper is reported with how to build it", () => {
  assert.throws(
    () => execInContainer({ ...valid, helperPath: "/nonexistent/corral-nsexec" }),
    /exec helper \/nonexistent\/corral-nsexec is missing .*build-native\.sh/,
  );
});
