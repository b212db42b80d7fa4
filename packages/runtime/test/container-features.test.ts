// Volumes, tmpfs, --init, logs (timestamps, rotation), restart policies, exec -it and
// concurrent CLIs, with real containers through the real CLI.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("container features", () => {
  before(async () => {
    runtime = await startRuntime("features");
  });

  after(() => runtime.cleanup());

  test("bind mounts (rw and ro), named volumes that outlive containers, tmpfs", () => {
    const host = join(runtime.base, "shared");
    mkdirSync(host);
    writeFileSync(join(host, "in.txt"), "from host\n");
    const r = rt(
      "run",
      "--rm",
      "-v",
      `${host}:/mnt/rw`,
      "-v",
      `${host}:/mnt/ro:ro`,
      "-v",
      "cache:/cache",
      "--tmpfs",
      "/scratch:size=1m",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "cat /mnt/rw/in.txt; echo out > /mnt/rw/out.txt; (echo x > /mnt/ro/y) 2>&1 | grep -c Read-only; echo kept > /cache/v; grep ' /scratch ' /proc/mounts | cut -d' ' -f3",
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "from host\n1\ntmpfs\n");
    assert.equal(readFileSync(join(host, "out.txt"), "utf8"), "out\n");
    assert.equal(
      rt("run", "--rm", "-v", "cache:/data", TEST_IMAGE_NAME, "cat", "/data/v").out,
      "kept\n",
    );
    assert.match(rt("volume", "ls", "-q").out, /^cache$/m);
    const [info] = JSON.parse(rt("volume", "inspect", "cache").out) as [
      { Name: string; Mountpoint: string },
    ];
    assert.equal(readFileSync(join(info.Mountpoint, "v"), "utf8"), "kept\n");

    const user = rt("run", "-d", "-v", "cache:/data", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    const refused = rt("volume", "rm", "cache");
    assert.equal(refused.code, 1);
    assert.match(refused.err, /volume is in use/);
    rt("rm", "-f", user);
    assert.equal(rt("volume", "rm", "cache").code, 0);
    assert.doesNotMatch(rt("volume", "ls", "-q").out, /^cache$/m);
  });

  test("an anonymous volume is removed with an --rm container", () => {
    const before = rt("volume", "ls", "-q").out;
    assert.equal(
      rt("run", "--rm", "-v", "/anon", TEST_IMAGE_NAME, "sh", "-c", "echo x > /anon/f").code,
      0,
    );
    assert.equal(rt("volume", "ls", "-q").out, before);
    const missing = rt("run", "--rm", "-v", "/no/such/host/dir:/x", TEST_IMAGE_NAME, "true");
    assert.equal(missing.code, 125);
    assert.match(missing.err, /bind source path does not exist: \/no\/such\/host\/dir/);
  });

  test("--init runs tini as pid 1 and reaps orphans", () => {
    const r = rt(
      "run",
      "--rm",
      "--init",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "cat /proc/1/cmdline | tr '\\0' ' '; echo; (sleep 0 &) ; sleep 0.2; ps -o stat | grep -c Z",
    );
    assert.equal(r.code, 1, r.err); // grep -c finds no zombie: 0 lines, exit 1
    assert.equal(
      r.out,
      "/dev/init -- sh -c cat /proc/1/cmdline | tr '\\0' ' '; echo; (sleep 0 &) ; sleep 0.2; ps -o stat | grep -c Z \n0\n",
    );
  });

  test("logs -t gives each line the time it was written; --tail and -f", async () => {
    const id = rt(
      "run",
      "-d",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "echo one; sleep 1.2; echo two; sleep 30",
    ).out.trim();
    await sleep(2000);
    const lines = rt("logs", "-t", id).out.trim().split("\n");
    assert.equal(lines.length, 2);
    const [t1, l1] = (lines[0] as string).split(" ");
    const [t2, l2] = (lines[1] as string).split(" ");
    assert.deepEqual([l1, l2], ["one", "two"]);
    const gap = Date.parse(t2 as string) - Date.parse(t1 as string);
    assert.ok(gap >= 900 && gap < 5000, `lines 1.2 s apart got ${gap} ms`);
    assert.equal(rt("logs", "--tail", "1", id).out, "two\n");
    const follow = runtime.rtAsync("logs", "-f", id);
    await sleep(300);
    rt("stop", "-t", "0", id);
    assert.equal((await follow).out, "one\ntwo\n");
  });

  test("--log-opt max-size caps the log file", async () => {
    const id = rt(
      "run",
      "-d",
      "--log-opt",
      "max-size=4k",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); sleep 0.005; done; echo done; sleep 30",
    ).out.trim();
    // Bounded wait for the writer to finish: the machine may be busy.
    for (let i = 0; i < 150 && rt("logs", "--tail", "1", id).out !== "done\n"; i++)
      await sleep(200);
    await sleep(1500); // the keeper scans at least once a second
    const [info] = JSON.parse(rt("inspect", id).out) as [{ LogPath: string }];
    assert.ok(statSync(info.LogPath).size <= 4096 + 64 * 1024, "the live log is cut back");
    assert.ok(
      statSync(info.LogPath).size + statSync(`${info.LogPath}.1`).size < 400 * 40,
      "older lines are dropped",
    );
    const all = rt("logs", id).out; // the previous file, then the live one
    assert.match(all, /\nline-399-x+\ndone\n$/);
    assert.ok(!all.startsWith("line-0-"), "the oldest lines are gone");
    rt("rm", "-f", id);
  });

  test("restart policy on-failure:2 restarts twice, then stays exited", async () => {
    const id = rt(
      "run",
      "-d",
      "--restart",
      "on-failure:2",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "echo run; exit 3",
    ).out.trim();
    for (let i = 0; i < 50; i++) {
      const [s] = JSON.parse(rt("inspect", id).out) as [
        { RestartCount: number; State: { Status: string } },
      ];
      if (s.RestartCount === 2 && s.State.Status === "exited") break;
      await sleep(200);
    }
    const [s] = JSON.parse(rt("inspect", id).out) as [
      { RestartCount: number; State: { Status: string; ExitCode: number } },
    ];
    assert.deepEqual([s.RestartCount, s.State.Status, s.State.ExitCode], [2, "exited", 3]);
    assert.equal(rt("logs", id).out, "run\nrun\nrun\n");
    rt("rm", id);
  });

  test("exec -it gives a real terminal in the container", () => {
    const id = rt("run", "-d", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    // util-linux `script` gives the CLI a terminal of its own, as a user's shell would.
    const r = spawnSync(
      "script",
      [
        "-qec",
        `${process.execPath} ${CLI} exec -it ${id} sh -c 'tty; stty size; echo $TERM'`,
        "/dev/null",
      ],
      {
        env: { ...runtime.env, COLUMNS: "120", LINES: "40" },
        encoding: "utf8",
        timeout: 30000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = ttyLines(r.stdout);
    assert.match(out[0] ?? "", /\/dev\/pts\/[0-9]+$/);
    assert.match(out[1] ?? "", /^[0-9]+ [0-9]+$/);
    assert.equal(out[2], "xterm");
    rt("rm", "-f", id);
  });

  test("run -i feeds stdin to the container; run -it gives it a terminal", () => {
    const piped = spawnSync(
      process.execPath,
      [CLI, "run", "--rm", "-i", TEST_IMAGE_NAME, "sh", "-c", "tr a-z A-Z; echo end"],
      {
        env: runtime.env,
        input: "hello from stdin\n",
        encoding: "utf8",
        timeout: 30000,
      },
    );
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stdout, "HELLO FROM STDIN\nend\n");
    // Several times: a container that exits at once must still have its last output shown
    // (the daemon once dropped what was left in the pty when the container exited).
    for (let i = 0; i < 8; i++) {
      const tty = spawnSync(
        "script",
        [
          "-qec",
          `${process.execPath} ${CLI} run --rm -it ${TEST_IMAGE_NAME} sh -c 'tty; stty size; exit 5'`,
          "/dev/null",
        ],
        { env: { ...runtime.env, COLUMNS: "100", LINES: "30" }, encoding: "utf8", timeout: 30000 },
      );
      assert.equal(tty.status, 5, tty.stderr);
      const lines = ttyLines(tty.stdout);
      assert.match(lines[0] ?? "", /\/dev\/pts\/0$/, `run ${i + 1}`); // the container's own devpts
      assert.match(lines[1] ?? "", /^[0-9]+ [0-9]+$/, `run ${i + 1}`);
    }
  });

  test("the container sees its own cgroups, read-only, at /sys/fs/cgroup", () => {
    const r = rt(
      "run",
      "--rm",
      "-m",
      "32m",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; grep -c . /sys/fs/cgroup/pids/cgroup.procs; touch /sys/fs/cgroup/memory/x",
    );
    // sh and grep: only this container's processes (a pipeline's reader could count itself or
    // not, as the scheduler forks it). stderr shares the log with stdout.
    assert.equal(
      r.out,
      `${32 * 1024 * 1024}\n2\ntouch: /sys/fs/cgroup/memory/x: Read-only file system\n`,
    );
  });

  test("the default seccomp filter denies escapes in run and exec; unconfined lifts it", () => {
    const probe = "grep Seccomp: /proc/self/status; busybox unshare -U -r true 2>&1 || echo denied";
    assert.equal(
      rt("run", "--rm", TEST_IMAGE_NAME, "sh", "-c", probe).out,
      "Seccomp:\t2\nunshare: unshare(0x10000000): Operation not permitted\ndenied\n",
    );
    const id = rt("run", "-d", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    assert.match(
      rt("exec", id, "sh", "-c", probe).out,
      /Seccomp:\t2\n.*Operation not permitted\ndenied\n$/s,
    );
    rt("rm", "-f", id);
    const open = rt(
      "run",
      "--rm",
      "--security-opt",
      "seccomp=unconfined",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      probe,
    );
    assert.equal(open.out, "Seccomp:\t0\n");
  });

  test("several CLIs starting containers at once never corrupt state", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runtime.rtAsync("run", "-d", "--name", `par${i}`, TEST_IMAGE_NAME, "sleep", "100"),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.err);
    const clash = await Promise.all([
      runtime.rtAsync("create", "--name", "same", TEST_IMAGE_NAME, "true"),
      runtime.rtAsync("create", "--name", "same", TEST_IMAGE_NAME, "true"),
    ]);
    assert.deepEqual(clash.map((r) => r.code).sort(), [0, 125]);
    const ps = rt("ps", "--format", "json")
      .out.trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { Names: string });
    assert.deepEqual(
      ps
        .map((c) => c.Names)
        .filter((n) => n.startsWith("par"))
        .sort(),
      ["par0", "par1", "par2", "par3", "par4", "par5"],
    );
    assert.equal(rt("rm", "-f", "par0", "par1", "par2", "par3", "par4", "par5", "same").code, 0);
  });
});

describe("images in use", () => {
  let runtime2: TestRuntime;
  before(async () => {
    runtime2 = await startRuntime("images-in-use");
  });
  after(() => runtime2.cleanup());

  test("rmi refuses an image a container uses; rmi -f keeps the layers the container needs", () => {
    const rt2 = runtime2.rt;
    const id = rt2("run", "-d", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    const refused = rt2("rmi", TEST_IMAGE_NAME);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /container|in use/i);
    const forced = rt2("rmi", "-f", TEST_IMAGE_NAME);
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /Deleted: sha256:/);
    assert.equal(rt2("images", "-q").out, "");
    assert.equal(rt2("restart", "-t", "0", id).code, 0);
    assert.equal(rt2("exec", id, "cat", "/etc/passwd").code, 0);
    assert.equal(rt2("rm", "-f", id).code, 0);
  });
});

/**
 * What a command printed on `script`'s terminal, from its first line of its own: `script` may
 * echo its stdin's end (`^@`, `^D`) before or after the command's output, as the scheduler runs
 * them, so lines of echoed control characters alone are left out.
 */
function ttyLines(stdout: string): string[] {
  return stdout
    .replace(/\r/g, "")
    .split("\n")
    .map((l) => l.replace(/^(\^[@-_])+/, ""))
    .filter((l) => l.trim() !== "");
}
