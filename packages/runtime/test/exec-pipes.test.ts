// exec without a tty into a real (util-linux built) container: what a user would check.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { execInContainer, type ExecOptions } from "../src/exec/index.js";
import {
  CONTAINER_NOFILE,
  DOCKER_DEFAULT_CAPS,
  HOSTNAME,
  buildHelper,
  startContainer,
  type TestContainer,
} from "./exec-fixture.js";

let helper: ReturnType<typeof buildHelper>;
let container: TestContainer;

before(async () => {
  helper = buildHelper();
  container = await startContainer();
});

after(async () => {
  await container?.stop();
  helper?.remove();
});

interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function options(args: string[], overrides: Partial<ExecOptions> = {}): ExecOptions {
  return {
    pid: container.pid,
    args,
    env: ["PATH=/usr/bin:/bin", "HOME=/root"],
    cwd: "/",
    uid: 0,
    gid: 0,
    additionalGids: [],
    capabilities: [...DOCKER_DEFAULT_CAPS],
    noNewPrivileges: true,
    tty: false,
    stdin: false,
    helperPath: helper.path,
    ...overrides,
  };
}

async function run(
  args: string[],
  overrides: Partial<ExecOptions> = {},
  input?: string,
): Promise<Result> {
  const proc = execInContainer({ ...options(args, overrides), tty: false });
  let stdout = "";
  let stderr = "";
  proc.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  proc.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  if (input !== undefined) proc.stdin?.end(input);
  const { exitCode } = await proc.exit;
  return { exitCode, stdout, stderr };
}

function statusField(status: string, field: string): string | undefined {
  return status.match(new RegExp(`^${field}:\\s*(\\S+)$`, "m"))?.[1];
}

describe("exec without a tty", () => {
  test("runs as the given uid, gid and supplementary groups", async () => {
    const r = await run(["id"], { uid: 1000, gid: 1000, additionalGids: [10, 20] });
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "uid=1000 gid=1000 groups=10,20\n");
    assert.equal(r.exitCode, 0);
  });

  test("root keeps exactly the requested capabilities, with no_new_privs", async () => {
    const { stdout } = await run(["cat", "/proc/self/status"]);
    assert.equal(statusField(stdout, "CapEff"), "00000000a80425fb");
    assert.equal(statusField(stdout, "CapPrm"), "00000000a80425fb");
    assert.equal(statusField(stdout, "CapBnd"), "00000000a80425fb");
    assert.equal(statusField(stdout, "CapInh"), "0000000000000000");
    assert.equal(statusField(stdout, "CapAmb"), "0000000000000000");
    assert.equal(statusField(stdout, "NoNewPrivs"), "1");
  });

  test("a non-root user has no effective capabilities, the same bounding set", async () => {
    const { stdout } = await run(["cat", "/proc/self/status"], {
      uid: 1000,
      gid: 1000,
      noNewPrivileges: false,
    });
    assert.equal(statusField(stdout, "CapEff"), "0000000000000000");
    assert.equal(statusField(stdout, "CapBnd"), "00000000a80425fb");
    assert.equal(statusField(stdout, "NoNewPrivs"), "0");
  });

  test("joins every namespace of the container", async () => {
    const kinds = ["cgroup", "ipc", "mnt", "net", "pid", "uts"];
    const script = "for k in $KINDS; do readlink /proc/self/ns/$k; done";
    const { stdout } = await run(["sh", "-c", script], { env: [`KINDS=${kinds.join(" ")}`] });
    const expected = kinds.map((k) => readlinkSync(`/proc/${container.pid}/ns/${k}`));
    assert.deepEqual(stdout.trim().split("\n"), expected);
    assert.equal((await run(["hostname"])).stdout, `${HOSTNAME}\n`);
    // pid 1 in its pid namespace is the container's `sleep`, and / is the container's root.
    assert.equal((await run(["cat", "/proc/1/cmdline"])).stdout, "/bin/sleep\x001000\x00");
    assert.equal((await run(["cat", "/etc/not-executable"])).stdout, "data\n");
  });

  test("joins the container's cgroups", async () => {
    const { stdout } = await run(["sh", "-c", "cat /proc/self/cgroup; echo; cat /proc/1/cgroup"]);
    const [self, init] = stdout.split("\n\n");
    assert.equal(self, init?.trimEnd());
    // The cgroup namespace is rooted at the container's memory cgroup: "/" means "in it".
    assert.match(self ?? "", /^\d+:memory:\/$/m);
    const hostView = readFileSync(`/proc/${container.pid}/cgroup`, "utf8");
    assert.match(
      hostView,
      new RegExp(`:memory:${container.cgroup.replace("/sys/fs/cgroup/memory", "")}$`, "m"),
    );
  });

  test("starts in the working directory with exactly the given environment", async () => {
    assert.equal((await run(["pwd"], { cwd: "/tmp" })).stdout, "/tmp\n");
    const env = ["PATH=/bin", "A=with spaces and = signs", "EMPTY=", "UNICODE=héllo ✓"];
    assert.equal((await run(["env"], { env })).stdout, env.map((e) => `${e}\n`).join(""));
  });

  test("only fds 0, 1 and 2 are open", async () => {
    // `ls` has one more: the directory it is listing.
    const { stdout } = await run(["ls", "/proc/self/fd"]);
    assert.deepEqual(stdout.trim().split(/\s+/), ["0", "1", "2", "3"]);
  });

  test("fds inherited by the helper do not reach the command", async () => {
    const child = spawn(
      helper.path,
      ["--pid", String(container.pid), "--cwd", "/", "--uid", "0", "--gid", "0"].concat([
        "--caps",
        "0",
        "--",
        "/bin/ls",
        "/proc/self/fd",
      ]),
      { stdio: ["ignore", "pipe", "inherit", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
    await new Promise((resolve) => child.on("close", resolve));
    // Without the close, fds 3 and 4 (the extra pipes) would be listed too.
    assert.deepEqual(out.trim().split(/\s+/), ["0", "1", "2", "3"]);
  });

  test("signals are reset, the mask is empty and umask is 0022", async () => {
    const { stdout } = await run(["sh", "-c", "cat /proc/self/status; umask"]);
    assert.equal(statusField(stdout, "SigIgn"), "0000000000000000"); // Node ignores SIGPIPE
    assert.equal(statusField(stdout, "SigBlk"), "0000000000000000");
    assert.match(stdout, /^0022$/m);
  });

  test("rlimits are the container's unless given", async () => {
    const inherited = await run(["sh", "-c", "ulimit -n"]);
    assert.equal(inherited.stdout, `${CONTAINER_NOFILE}\n`);
    const given = await run(["sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c"], {
      rlimits: [
        { name: "RLIMIT_NOFILE", soft: 100, hard: 200 },
        { name: "RLIMIT_CORE", soft: -1, hard: -1 },
      ],
    });
    assert.equal(given.stdout, "100\n200\nunlimited\n");
  });

  test("exit codes propagate", async () => {
    assert.equal((await run(["sh", "-c", "exit 3"])).exitCode, 3);
    assert.equal((await run(["sh", "-c", "kill -TERM $$"])).exitCode, 143);
  });

  test("a missing command exits 127 with Docker's message", async () => {
    const r = await run(["no-such-command"]);
    assert.equal(r.exitCode, 127);
    assert.equal(
      r.stderr,
      'corral-exec: exec: "no-such-command": executable file not found in $PATH\n',
    );
    assert.equal((await run(["/bin/nope"])).exitCode, 127);
  });

  test("a command found in PATH only is found through the given PATH", async () => {
    assert.equal((await run(["id", "-u"], { env: ["PATH=/bin"] })).exitCode, 0);
    assert.equal((await run(["id", "-u"], { env: ["PATH=/nowhere"] })).exitCode, 127);
  });

  test("a file that is not executable exits 126", async () => {
    const r = await run(["/etc/not-executable"]);
    assert.equal(r.exitCode, 126);
    assert.match(r.stderr, /^corral-exec: exec: "\/etc\/not-executable": Permission denied\n$/);
  });

  test("a missing working directory exits 126 with the reason", async () => {
    const r = await run(["pwd"], { cwd: "/no/such/dir" });
    assert.equal(r.exitCode, 126);
    assert.match(r.stderr, /^corral-exec: chdir to cwd \("\/no\/such\/dir"\) failed: No such/);
  });

  test("with the container's start time, a reused pid is refused", async () => {
    const startTime = Number(
      readFileSync(`/proc/${container.pid}/stat`, "utf8").split(") ")[1]?.split(" ")[19],
    );
    assert.deepEqual(await run(["id", "-u"], { startTime }), {
      exitCode: 0,
      stdout: "0\n",
      stderr: "",
    });
    const r = await run(["id"], { startTime: startTime + 1 });
    assert.equal(r.exitCode, 125);
    assert.match(r.stderr, /^corral-exec: pid \d+ is no longer the container's process/);
    assert.equal(r.stdout, "");
  });

  test("the helper runs from a sealed copy, not the file on the host (CVE-2019-5736)", async () => {
    const proc = execInContainer({ ...options(["sleep", "5"]), tty: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(readlinkSync(`/proc/${proc.pid}/exe`), /^\/memfd:corral-nsexec/);
    proc.kill("SIGKILL");
    await proc.exit;
  });

  test('stdio "inherit" hands this process\'s stdio to the command', () => {
    const script = [
      `import { execInContainer } from ${JSON.stringify(new URL("../src/exec/index.js", import.meta.url).href)};`,
      `const opts = ${JSON.stringify(options(["sh", "-c", "cat; echo to-stderr >&2; exit 4"]))};`,
      `const proc = execInContainer({ ...opts, stdin: true, stdio: "inherit" });`,
      `process.exitCode = (await proc.exit).exitCode;`,
    ].join("\n");
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        input: "from-stdin\n",
        encoding: "utf8",
      },
    );
    assert.equal(r.stdout, "from-stdin\n");
    assert.equal(r.stderr, "to-stderr\n");
    assert.equal(r.status, 4);
  });

  test("a process that is not there fails before starting anything", () => {
    assert.throws(() => execInContainer(options(["id"], { pid: 0x3ffffff0 })), /no process/);
  });

  test("stdin is piped to the command", async () => {
    const r = await run(["cat"], { stdin: true }, "hello\nworld\n");
    assert.equal(r.stdout, "hello\nworld\n");
    assert.equal(r.exitCode, 0);
  });

  test("kill() reaches the command", async () => {
    const proc = execInContainer({ ...options(["sleep", "30"]), tty: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(proc.kill("SIGINT"), true);
    assert.equal((await proc.exit).exitCode, 130);
    assert.equal(proc.kill("SIGINT"), false);
  });

  test("SIGKILL to the exec takes the command with it", async () => {
    const proc = execInContainer({ ...options(["sleep", "31"]), tty: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    proc.kill("SIGKILL");
    assert.equal((await proc.exit).exitCode, 137);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const all = "for p in /proc/[0-9]*; do cat $p/cmdline; echo; done";
    const cmdlines = (await run(["sh", "-c", all])).stdout;
    assert.ok(cmdlines.includes("/bin/sleep\x001000"), "sees the container's processes");
    assert.ok(!cmdlines.includes("sleep\x0031"), "the exec'd sleep is gone");
  });
});
