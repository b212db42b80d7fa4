// A throwaway container for the exec tests, built with util-linux only (no Corral code):
// busybox rootfs, new pid/mount/uts/ipc/net/cgroup namespaces, a devpts of its own,
// pivot_root, a v1 memory cgroup, and `sleep 1000` as pid 1.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const APPLETS = [
  "sh",
  "id",
  "cat",
  "tty",
  "stty",
  "pwd",
  "env",
  "sleep",
  "ls",
  "grep",
  "readlink",
  "hostname",
];

export const HOSTNAME = "corral-exec-test";
/** RLIMIT_NOFILE of the container: exec must inherit it, not Node's. */
export const CONTAINER_NOFILE = 777;

export interface TestContainer {
  /** Host pid of the container's pid 1. */
  readonly pid: number;
  readonly rootfs: string;
  readonly cgroup: string;
  /** Kills the container and removes its cgroup and rootfs; safe to call twice. */
  stop(): Promise<void>;
}

/** Compiles the helper from source into a temp dir, as the package build will. */
export function buildHelper(): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "corral-nsexec-"));
  const script = fileURLToPath(new URL("../src/exec/build-native.sh", import.meta.url));
  const path = join(dir, "corral-nsexec");
  execFileSync("sh", [script, path], { stdio: "inherit" });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startContainer(): Promise<TestContainer> {
  const rootfs = mkdtempSync(join(tmpdir(), "corral-exec-rootfs-"));
  chmodSync(rootfs, 0o755); // mkdtemp makes 0700: a non-root exec could not even reach /bin
  const cgroup = `/sys/fs/cgroup/memory/corral-exec-test-${process.pid}-${Date.now()}`;
  let launcher: ChildProcess | undefined;
  let pid = 0;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // SIGKILL to pid 1 of a pid namespace kills every process in it, exec'd ones included;
    // the mount namespace (and every mount in it) goes with its last process.
    if (pid) killQuietly(pid);
    if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
      const exited = new Promise((resolve) => launcher?.once("exit", resolve));
      killQuietly(launcher.pid ?? 0);
      await exited;
    }
    for (let i = 0; existsSync(cgroup); i++) {
      try {
        rmdirSync(cgroup);
      } catch (err) {
        if (i > 100) throw err; // still busy after 5 s
        await sleep(50);
      }
    }
    rmSync(rootfs, { recursive: true, force: true });
  };

  try {
    for (const dir of ["bin", "etc", "proc", "dev", "tmp", "old-root", "home/user"]) {
      mkdirSync(join(rootfs, dir), { recursive: true });
    }
    copyFileSync("/bin/busybox", join(rootfs, "bin/busybox"));
    chmodSync(join(rootfs, "bin/busybox"), 0o755);
    for (const applet of APPLETS) symlinkSync("busybox", join(rootfs, "bin", applet));
    writeFileSync(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    writeFileSync(join(rootfs, "etc/group"), "root:x:0:\ntty:x:5:\n");
    writeFileSync(join(rootfs, "etc/not-executable"), "data\n");
    mkdirSync(cgroup);

    const bb = "/bin/busybox";
    const init = [
      "set -e",
      `${bb} mount --make-rprivate /`,
      `${bb} mount --bind "$ROOTFS" "$ROOTFS"`,
      `${bb} mount -t proc proc "$ROOTFS/proc"`,
      `${bb} mount -t tmpfs -o mode=755,nosuid tmpfs "$ROOTFS/dev"`,
      `${bb} mkdir "$ROOTFS/dev/pts"`,
      `${bb} mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$ROOTFS/dev/pts"`,
      `${bb} ln -s pts/ptmx "$ROOTFS/dev/ptmx"`,
      `${bb} mknod -m 666 "$ROOTFS/dev/null" c 1 3`,
      `cd "$ROOTFS"`,
      `${bb} pivot_root . old-root`,
      `${bb} umount -l /old-root`,
      `${bb} hostname ${HOSTNAME}`,
      "exec /bin/sleep 1000",
    ].join("\n");
    // Enter the cgroup and set the limit first, so that everything below inherits both.
    const launch = [
      'echo $$ > "$CGROUP/cgroup.procs"',
      `ulimit -n ${CONTAINER_NOFILE}`,
      `exec unshare --fork --pid --mount --uts --ipc --net --cgroup ${bb} sh -c "$INIT"`,
    ].join("\n");
    launcher = spawn("/bin/sh", ["-c", launch], {
      env: { ROOTFS: rootfs, CGROUP: cgroup, INIT: init, PATH: "/usr/bin:/bin" },
      stdio: ["ignore", "inherit", "inherit"],
    });
    pid = await waitForSleep(launcher);
    return { pid, rootfs, cgroup, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The container's pid 1 is unshare's child; it is ready once it runs `sleep`. */
async function waitForSleep(launcher: ChildProcess): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (launcher.exitCode !== null) throw new Error(`container setup exited ${launcher.exitCode}`);
    const lpid = launcher.pid ?? 0;
    const children = readOr(`/proc/${lpid}/task/${lpid}/children`).trim().split(/\s+/);
    for (const child of children.filter(Boolean)) {
      if (readOr(`/proc/${child}/cmdline`).startsWith("/bin/sleep\0")) return Number(child);
    }
    await sleep(20);
  }
  throw new Error("container did not start within 10 s");
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Docker's default capability set (00000000a80425fb). */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_RAW",
  "CAP_SYS_CHROOT",
  "CAP_MKNOD",
  "CAP_AUDIT_WRITE",
  "CAP_SETFCAP",
] as const;
