// Seccomp (Docker's default profile, unconfined, profile files), no_new_privs and --device, from inside
// real containers: a static probe binary makes raw system calls and prints their errno.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";
import { DEVICE_EXPECTED, DEVICE_RUN } from "./fixtures/devices.js";

let runtime: TestRuntime;
let probeDir: string;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);
const PROBE = "/probe/probe";

const CLONE_NEWUSER_NEWNET = `0x${(0x10000000 | 0x40000000 | 17).toString(16)}`;

/** name:nr:args -> what Docker's default profile answers inside a container. */
const DENIED: [string, string][] = [
  [`clone_newuser:56:${CLONE_NEWUSER_NEWNET}`, "EPERM"],
  ["clone3:435:0:0", "ENOSYS"],
  ["unshare:272:0x10000000", "EPERM"],
  ["setns:308:-1:0", "EPERM"],
  ["mount:165", "EPERM"],
  ["umount2:166", "EPERM"],
  ["pivot_root:155", "EPERM"],
  ["keyctl:250:9999", "EPERM"],
  ["add_key:248", "EPERM"],
  ["request_key:249", "EPERM"],
  ["bpf:321:9999", "EPERM"],
  ["perf_event_open:298", "EPERM"],
  ["userfaultfd:323", "EPERM"],
  ["kexec_load:246", "EPERM"],
  ["kexec_file_load:320", "EPERM"],
  ["init_module:175", "EPERM"],
  ["finit_module:313:-1", "EPERM"],
  ["delete_module:176", "EPERM"],
  ["open_by_handle_at:304:-1", "EPERM"],
  ["swapon:167", "EPERM"],
  ["swapoff:168", "EPERM"],
  ["reboot:169", "EPERM"], // no magic numbers: a bad call even where it is allowed
  ["iopl:172:3", "EPERM"],
  ["personality_addr_no_randomize:135:0x40000", "EPERM"],
  ["io_uring_setup:425", "EPERM"],
  ["socket_vsock:41:40:1:0", "EPERM"],
  ["newer_than_profile:500", "ENOSYS"],
];
const ALLOWED = ["personality_query:135:0xffffffff", "getpid:39", "fork_like_clone:56:17"];

/** A running container (`runArgs` added) with the probes at /probe; returns its id. */
function probeContainer(...runArgs: string[]): string {
  const probeMount = ["-v", `${probeDir}:/probe:ro`];
  return rt("run", "-d", ...probeMount, ...runArgs, TEST_IMAGE_NAME, "sleep", "100").out.trim();
}

function probe(runArgs: string[], calls: string[]): string {
  const r = rt(
    "run",
    "--rm",
    "-v",
    `${probeDir}:/probe:ro`,
    ...runArgs,
    TEST_IMAGE_NAME,
    PROBE,
    ...calls,
  );
  assert.equal(r.code, 0, r.err);
  return r.out;
}

const expected = (table: [string, string][]): string =>
  table.map(([call, result]) => `${call.split(":")[0]}=${result}\n`).join("");

describe("seccomp, no_new_privs, capabilities, devices", () => {
  before(async () => {
    runtime = await startRuntime("security");
    probeDir = join(runtime.base, "probe");
    mkdirSync(probeDir);
    const source = fileURLToPath(new URL("./fixtures/syscall-probe.c", import.meta.url));
    execFileSync("gcc", ["-static", "-O2", "-o", join(probeDir, "probe"), source, "-lpthread"]);
    // A root-owned setuid copy, for the no_new_privs tests (volumes are not nosuid).
    execFileSync("cp", [join(probeDir, "probe"), join(probeDir, "suid-probe")]);
    chmodSync(join(probeDir, "suid-probe"), 0o4755);
  });

  after(() => runtime.cleanup());

  test("Docker's default profile: each escape gets EPERM or ENOSYS, everyday calls work", () => {
    const table: [string, string][] = [
      ...DENIED,
      ...ALLOWED.map((c): [string, string] => [c, "ok"]),
    ];
    assert.equal(probe([], ["thread", ...table.map(([c]) => c)]), "thread=ok\n" + expected(table));
  });

  test("unconfined lifts the filter: clone(CLONE_NEWUSER|CLONE_NEWNET) goes through", () => {
    const out = probe(
      ["--security-opt", "seccomp=unconfined"],
      [`clone_newuser:56:${CLONE_NEWUSER_NEWNET}`, "keyctl:250:9999"],
    );
    assert.equal(out, "clone_newuser=ok\nkeyctl=EOPNOTSUPP\n");
  });

  test("a busybox shell and everyday programs run under the filter", () => {
    const script = [
      "mkdir -p /www && echo served > /www/index.html",
      "httpd -p 127.0.0.1:8080 -h /www",
      "wget -qO- http://127.0.0.1:8080/",
      "echo b a | tr ' ' '\\n' | sort | tr -d '\\n'; echo",
      "ps -o pid,comm | grep -c httpd",
      "date +%Y >/dev/null && echo date-ok",
    ].join("; ");
    const r = rt("run", "--rm", TEST_IMAGE_NAME, "sh", "-c", script);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "served\nab\n1\ndate-ok\n");
  });

  test("exec gets the container's filter", () => {
    const id = probeContainer();
    const calls = DENIED.slice(0, 4).map(([c]) => c);
    const r = rt("exec", id, PROBE, ...calls);
    assert.equal(r.out, expected(DENIED.slice(0, 4)), r.err);
    rt("rm", "-f", id);
    const open = probeContainer("--security-opt", "seccomp=unconfined");
    assert.equal(
      rt("exec", open, PROBE, `clone_newuser:56:${CLONE_NEWUSER_NEWNET}`).out,
      "clone_newuser=ok\n",
    );
    rt("rm", "-f", open);
  });

  test("seccomp=PROFILE.json: Docker's format, in run and exec; a bad profile is one line", () => {
    const file = join(runtime.base, "no-mkdir.json");
    writeFileSync(
      file,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
      }),
    );
    const r = rt(
      "run",
      "--rm",
      "--security-opt",
      `seccomp=${file}`,
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "mkdir /x 2>&1; echo $?",
    );
    assert.equal(r.out, "mkdir: can't create directory '/x': Permission denied\n1\n", r.err);
    const id = rt(
      "run",
      "-d",
      "--security-opt",
      `seccomp=${file}`,
      TEST_IMAGE_NAME,
      "sleep",
      "100",
    ).out.trim();
    assert.match(rt("exec", id, "mkdir", "/y").err, /Permission denied/);
    const inspect = JSON.parse(rt("inspect", id).out) as [
      { HostConfig: { SecurityOpt: string[] } },
    ];
    assert.match(inspect[0].HostConfig.SecurityOpt[0] ?? "", /^seccomp=\{"defaultAction"/);
    rt("rm", "-f", id);

    writeFileSync(
      file,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOPE" }],
      }),
    );
    const bad = rt("run", "--rm", "--security-opt", `seccomp=${file}`, TEST_IMAGE_NAME, "true");
    assert.equal(bad.code, 125);
    assert.match(bad.err, /^[^\n]*bad seccomp profile at syscalls\.0\.action: [^\n]*\n$/);
    const missing = rt(
      "run",
      "--rm",
      "--security-opt",
      "seccomp=/nonexistent.json",
      TEST_IMAGE_NAME,
      "true",
    );
    assert.equal(missing.code, 125);
    assert.match(missing.err, /opening seccomp profile \(\/nonexistent\.json\) failed/);
  });

  test("no_new_privs by default; no-new-privileges=false lets setuid work, still filtered", () => {
    const suid = ["-u", "1000", "-v", `${probeDir}:/probe:ro`];
    const r = rt("run", "--rm", ...suid, TEST_IMAGE_NAME, "/probe/suid-probe", "euid");
    assert.equal(r.out, "euid=1000\n", r.err);
    const nnpOff = ["--security-opt", "no-new-privileges=false"];
    const off = rt(
      "run",
      "--rm",
      ...suid,
      ...nnpOff,
      TEST_IMAGE_NAME,
      "/probe/suid-probe",
      "euid",
      `clone_newuser:56:${CLONE_NEWUSER_NEWNET}`,
      "keyctl:250:9999",
    );
    assert.equal(off.out, "euid=0\nclone_newuser=EPERM\nkeyctl=EPERM\n", off.err);
    assert.match(
      rt(
        "run",
        "--rm",
        ...nnpOff,
        TEST_IMAGE_NAME,
        "grep",
        "-E",
        "NoNewPrivs|Seccomp:",
        "/proc/self/status",
      ).out,
      /NoNewPrivs:\t0\nSeccomp:\t2\n/,
    );
    // exec follows the container: the helper installs the filter before dropping root.
    const id = probeContainer(...nnpOff);
    assert.equal(
      rt("exec", "-u", "1000", id, "/probe/suid-probe", "euid", "keyctl:250:9999").out,
      "euid=0\nkeyctl=EPERM\n",
    );
    const inspect = JSON.parse(rt("inspect", id).out) as [
      { HostConfig: { SecurityOpt: string[] } },
    ];
    assert.deepEqual(inspect[0].HostConfig.SecurityOpt, ["no-new-privileges=false"]);
    rt("rm", "-f", id);
  });

  test("--device: the host's node in the container, with the permissions given", () => {
    const r = rt(...DEVICE_RUN);
    assert.equal(r.out, DEVICE_EXPECTED, r.err);
    const inspect = rt("create", "--device", "/dev/loop0:r", TEST_IMAGE_NAME, "true").out.trim();
    const [info] = JSON.parse(rt("inspect", inspect).out) as [{ HostConfig: { Devices: unknown } }];
    assert.deepEqual(info.HostConfig.Devices, [
      { PathOnHost: "/dev/loop0", PathInContainer: "/dev/loop0", CgroupPermissions: "r" },
    ]);
    rt("rm", inspect);
    const bad = rt("run", "--rm", "--device", "/etc/passwd", TEST_IMAGE_NAME, "true");
    assert.equal(bad.code, 125);
    assert.match(bad.err, /adding custom device "\/etc\/passwd": not a device node\n$/);
  });

  test("--cap-add opens what its capability guards, as in Docker; --cap-drop ALL", () => {
    const mountIt =
      "mkdir -p /m && mount -t tmpfs none /m && echo mounted; grep CapEff /proc/self/status";
    const admin = ["--cap-add", "sys_admin"];
    const r = rt("run", "--rm", ...admin, TEST_IMAGE_NAME, "sh", "-c", mountIt);
    assert.equal(r.out, "mounted\nCapEff:\t00000000a82425fb\n", r.err);
    assert.equal(
      probe(admin, [`clone_newuser:56:${CLONE_NEWUSER_NEWNET}`, "keyctl:250:9999"]),
      "clone_newuser=ok\nkeyctl=EPERM\n",
    );
    const id = probeContainer(...admin);
    assert.equal(rt("exec", id, "sh", "-c", mountIt).out, r.out);
    const [info] = JSON.parse(rt("inspect", id).out) as [{ HostConfig: { CapAdd: unknown } }];
    assert.deepEqual(info.HostConfig.CapAdd, ["CAP_SYS_ADMIN"]);
    rt("rm", "-f", id);
    const none = rt(
      "run",
      "--rm",
      "--cap-drop",
      "ALL",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "touch /f; chown 1 /f 2>&1; grep CapEff /proc/self/status",
    );
    assert.equal(none.out, "chown: /f: Operation not permitted\nCapEff:\t0000000000000000\n");
    const bad = rt("run", "--rm", "--cap-add", "fly", TEST_IMAGE_NAME, "true");
    assert.equal(bad.code, 125);
    assert.match(bad.err, /unknown capability: "CAP_FLY"/);
  });
});
