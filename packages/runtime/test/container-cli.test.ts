// Real containers through the real CLI and daemon, as a user would type them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { containerCgroups, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);

describe("corral-rt with real containers", () => {
  before(async () => {
    runtime = await startRuntime("cli");
  });

  after(() => runtime.cleanup());

  test("run prints the output and exits with the command's code; layers merge with whiteouts", () => {
    const r = rt(
      "run",
      "--rm",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "echo hello; ls /data/opaque; test -e /etc/gone || echo gone; exit 4",
    );
    assert.equal(r.out, "hello\nc\ngone\n");
    assert.equal(r.code, 4);
  });

  test("a container is isolated and unprivileged the way Docker's are", () => {
    const r = rt(
      "run",
      "--rm",
      "--hostname",
      "box",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "echo pid=$$; hostname; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|SigIgn|SigBlk)' /proc/self/status; ls /proc/self/fd | wc -l; umask; cat /proc/self/cgroup | grep memory; ls /sys/firmware | wc -l; (echo x > /proc/sys/kernel/domainname) 2>&1 | grep -c Read-only; cat /proc/net/dev | grep -c :; ulimit -n",
    );
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    assert.equal(lines[0], "pid=1");
    assert.equal(lines[1], "box");
    assert.ok(r.out.includes("CapInh:\t0000000000000000"));
    assert.ok(r.out.includes("CapPrm:\t00000000a80425fb"));
    assert.ok(r.out.includes("CapEff:\t00000000a80425fb"));
    assert.ok(r.out.includes("CapBnd:\t00000000a80425fb"));
    assert.ok(r.out.includes("CapAmb:\t0000000000000000"));
    assert.ok(r.out.includes("NoNewPrivs:\t1"));
    assert.ok(r.out.includes("SigIgn:\t0000000000000000"));
    assert.ok(r.out.includes("SigBlk:\t0000000000000000"));
    const rest = lines.slice(lines.findIndex((l) => l.startsWith("NoNewPrivs")) + 1);
    // `ls /proc/self/fd` lists 0, 1, 2 and its own directory fd: nothing leaked from the host.
    assert.deepEqual(rest.slice(0, 2), ["4", "0022"]);
    assert.match(rest[2] ?? "", /^[0-9]+:memory:\/$/); // its own cgroup namespace
    // /sys/firmware masked, /proc/sys read-only, and only lo and eth0 (its own bridge port)
    assert.deepEqual(rest.slice(3, 6), ["0", "1", "2"]);
    assert.equal(rest[6], "1024"); // Docker's soft open-files limit, not Node's raised one
  });

  test("user, env, workdir and read-only rootfs", () => {
    writeFileSync(join(runtime.base, "env.list"), "FROM_FILE=yes\n# comment\n");
    const r = rt(
      "run",
      "--rm",
      "-u",
      "app",
      "-e",
      "GREETING=hi there",
      "--env-file",
      join(runtime.base, "env.list"),
      "-w",
      "/data",
      "--read-only",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      'id; echo "$GREETING $FROM_FILE $HOME"; pwd; touch /x 2>&1 | grep -c "Read-only"; grep CapEff /proc/self/status',
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      "uid=1000(app) gid=1000(app)\nhi there yes /home/app\n/data\n1\nCapEff:\t0000000000000000\n",
    );
  });

  test("missing command, unknown image and bad flags exit as Docker does", () => {
    const missing = rt("run", "--rm", TEST_IMAGE_NAME, "no-such-command");
    assert.equal(missing.code, 127);
    assert.match(missing.err, /executable file not found in \$PATH/);
    // As Docker: --rm removes a container that failed to start; without it, it stays created
    // with the reason.
    assert.doesNotMatch(rt("ps", "-a", "--no-trunc").out, /no-such-command/);
    const kept = rt("run", "--name", "never-ran", TEST_IMAGE_NAME, "no-such-command");
    assert.equal(kept.code, 127);
    const [state] = JSON.parse(rt("inspect", "never-ran").out) as [
      { State: { Status: string; ExitCode: number; Error: string } },
    ];
    assert.equal(state.State.Status, "created");
    assert.equal(state.State.ExitCode, 127);
    assert.match(state.State.Error, /executable file not found/);
    assert.equal(rt("rm", "never-ran").code, 0);
    const noImage = rt("run", "--rm", "--pull", "never", "nothing/here:1");
    assert.equal(noImage.code, 125);
    assert.match(noImage.err, /Unable to find image 'nothing\/here:1'/);
    // The default --pull missing tries the registry; this one is a closed local port.
    const unreachable = rt("run", "--rm", "127.0.0.1:9/nothing/here:1");
    assert.equal(unreachable.code, 125);
    assert.match(unreachable.err, /^Unable to find image '127.0.0.1:9\/nothing\/here:1' locally\n/);
    const badMemory = rt("run", "-m", "lots", TEST_IMAGE_NAME, "true");
    assert.equal(badMemory.code, 125);
    assert.match(badMemory.err, /invalid memory "lots"/);
    assert.equal(badMemory.err.trim().split("\n").length, 1);
  });

  test("detached container: ps, inspect, exec, logs, pause, stop, rm, and nothing left behind", async () => {
    const run = rt(
      "run",
      "-d",
      "--name",
      "web",
      "-m",
      "64m",
      "--pids-limit",
      "50",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "echo started; trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done",
    );
    assert.equal(run.code, 0, run.err);
    const id = run.out.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const clash = rt("run", "-d", "--name", "web", TEST_IMAGE_NAME, "true");
    assert.equal(clash.code, 125);
    assert.match(clash.err, /name "\/web" is already in use/);

    const ps = rt("ps", "--format", "json")
      .out.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.ok(ps.some((c) => c.Names === "web" && c.State === "running"));
    const [info] = JSON.parse(rt("inspect", "web").out) as [
      { Id: string; State: { Running: boolean; Pid: number }; HostConfig: { Memory: number } },
    ];
    assert.equal(info.Id, id);
    assert.equal(info.State.Running, true);
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(
      readFileSync(
        `/sys/fs/cgroup/memory/${runtime.cgroupParent}/${id}/memory.limit_in_bytes`,
        "utf8",
      ).trim(),
      String(64 * 1024 * 1024),
    );
    assert.equal(
      readFileSync(`/sys/fs/cgroup/pids/${runtime.cgroupParent}/${id}/pids.max`, "utf8").trim(),
      "50",
    );

    const exec = rt(
      "exec",
      "-e",
      "X=1",
      "web",
      "sh",
      "-c",
      "echo $X; hostname; cat /proc/1/cmdline | tr '\\0' ' '",
    );
    assert.equal(exec.code, 0, exec.err);
    assert.equal(exec.out.split("\n")[0], "1");
    assert.equal(exec.out.split("\n")[1], id.slice(0, 12));
    assert.equal(rt("exec", "web", "sh", "-c", "exit 9").code, 9);

    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rt("logs", "web").out, "started\n");

    assert.equal(rt("pause", "web").code, 0);
    assert.equal(
      readFileSync(
        `/sys/fs/cgroup/freezer/${runtime.cgroupParent}/${id}/freezer.state`,
        "utf8",
      ).trim(),
      "FROZEN",
    );
    assert.equal(
      (JSON.parse(rt("inspect", "web").out) as [{ State: { Paused: boolean } }])[0].State.Paused,
      true,
    );
    assert.equal(rt("unpause", "web").code, 0);

    const stats = rt("stats", "--no-stream", "--format", "json", "web");
    assert.equal(stats.code, 0, stats.err);
    // Docker's row: the fields `stats --format` templates use.
    const sample = JSON.parse(stats.out.split("\n")[0] as string) as {
      Name: string;
      MemUsage: string;
      PIDs: string;
    };
    assert.equal(sample.Name, "web");
    assert.match(sample.MemUsage, / \/ 64(\.0)?MiB$/);
    assert.ok(Number(sample.PIDs) >= 1);

    const refused = rt("rm", "web");
    assert.equal(refused.code, 1);
    assert.match(refused.err, /stop the container before removing or force remove/);
    assert.equal(rt("stop", "-t", "5", "web").code, 0);
    const [stopped] = JSON.parse(rt("inspect", "web").out) as [
      { State: { Status: string; ExitCode: number } },
    ];
    assert.deepEqual([stopped.State.Status, stopped.State.ExitCode], ["exited", 0]);
    assert.equal(rt("logs", "web").out, "started\nbye\n");
    assert.equal(rt("rm", "web").code, 0);
    assert.ok(!existsSync(join(runtime.base, "root", "containers", id)));
    assert.ok(!containerCgroups(runtime.cgroupParent).includes(id));
    assert.ok(
      !readFileSync("/proc/self/mountinfo", "utf8").includes(id),
      "no mount of the container is left on the host",
    );
  });

  test("kill -9 gives 137; an OOM kill gives 137 and OOMKilled", () => {
    const id = rt("run", "-d", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    assert.equal(rt("kill", id).code, 0);
    assert.equal(rt("wait", id).out.trim(), "137");
    const oom = rt(
      "run",
      "-m",
      "16m",
      "--memory-swap",
      "16m",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "tail /dev/zero",
    );
    assert.equal(oom.code, 137);
    const oomId = rt("ps", "-a", "-q").out.split("\n")[0] as string;
    const [info] = JSON.parse(rt("inspect", oomId).out) as [
      { State: { OOMKilled: boolean; ExitCode: number } },
    ];
    assert.deepEqual([info.State.OOMKilled, info.State.ExitCode], [true, 137]);
  });

  test("containers outlive the daemon; exits meanwhile are recorded with their code", async () => {
    const id = rt(
      "run",
      "-d",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "sleep 1; echo done; exit 5",
    ).out.trim();
    const keeper = rt("run", "-d", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    const always = rt(
      "run",
      "-d",
      "--restart",
      "always",
      TEST_IMAGE_NAME,
      "sleep",
      "100",
    ).out.trim();
    const [alwaysBefore] = JSON.parse(rt("inspect", always).out) as [{ State: { Pid: number } }];
    process.kill(runtime.daemonPid(), "SIGKILL");
    process.kill(alwaysBefore.State.Pid, "SIGKILL"); // dies while no daemon watches
    await new Promise((r) => setTimeout(r, 1500));
    // The next command starts a new daemon, which re-adopts what runs and records what exited.
    const [exited] = JSON.parse(rt("inspect", id).out) as [
      { State: { Status: string; ExitCode: number } },
    ];
    assert.deepEqual([exited.State.Status, exited.State.ExitCode], ["exited", 5]);
    assert.equal(rt("logs", id).out, "done\n");
    const [running] = JSON.parse(rt("inspect", keeper).out) as [{ State: { Running: boolean } }];
    assert.equal(running.State.Running, true);
    // The restarted daemon learns of the death and applies the restart policy.
    let restarted = false;
    for (let i = 0; i < 50 && !restarted; i++) {
      const [a] = JSON.parse(rt("inspect", always).out) as [
        { RestartCount: number; State: { Running: boolean; Pid: number } },
      ];
      restarted = a.RestartCount === 1 && a.State.Running && a.State.Pid !== alwaysBefore.State.Pid;
      if (!restarted) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(restarted, "the --restart always container runs again");
    assert.equal(rt("rm", "-f", keeper, always).code, 0);
    assert.equal(rt("rm", id).code, 0);
  });
});
