// Pre-started container inits. Each slot is one process tree, started before any container
// needs it:
//   /bin/sh (records the exit code)  ->  unshare --fork  ->  node init.js (pid 1 of fresh
//   pid, mount, uts, ipc and net namespaces, blocked reading its spec on stdin)
// The shell is the container's "shim": it survives the daemon, waits for the container and
// writes the exit code to <container dir>/exit atomically, so an exit that happens while no
// Corral process runs is still known with its code. It costs a ~1 MB dash process rather than
// a ~40 MB Node shim per container (see DESIGN.md).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { InitSpec, InitStatus } from "../container/init-spec.js";
import { daemonLog } from "./faults.js";

const INIT_SCRIPT = fileURLToPath(new URL("../container/init.js", import.meta.url));

// util-linux 2.38's `unshare --fork` cannot re-raise SIGKILL (signal(SIGKILL) fails): it prints
// "sigprocmask unblock failed" and exits 1. Its stderr goes to a file so that the shell can
// turn that case back into 128+9, the code Docker reports for a killed container.
// After the container exits, the daemon learns of it when this shell ends: the path there runs
// no program but mv (the check is the shell's own read; the slot's removal is not waited for),
// since every fork and exec costs milliseconds, tens on a loaded host (event latency).
const SHIM_SCRIPT = `
exec 4<&0
unshare --fork --pid --mount --uts --ipc $CORRAL_NET_NS --propagation private -- "$CORRAL_NODE" "$CORRAL_INIT" 0<&4 4<&- 2>"$CORRAL_SLOT/unshare.err" &
child=$!
exec 4<&- 3>&-
wait "$child"
code=$?
if [ "$code" = 1 ]; then
  while IFS= read -r line; do
    case $line in *"sigprocmask unblock failed"*) code=137 ;; esac
  done 2>/dev/null < "$CORRAL_SLOT/unshare.err"
fi
read -r dir < "$CORRAL_SLOT/target" || exit 0
printf '%s\\n' "$code" > "$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"
rm -rf "$CORRAL_SLOT" &
`;

export interface WarmInit {
  slotDir: string;
  /** The slot's name (its directory's), unique among inits. */
  slotId: string;
  shim: ChildProcess;
  /** Host pid of the init (pid 1 inside), and its start time from /proc/PID/stat. */
  hostPid: number;
  startTime: string;
  /** The init's stdin: after a start with `keepStdin`, the container's stdin (-i). */
  stdin: Writable;
  /** Sends the spec; resolves when the init is about to exec, rejects with its error. */
  launch(spec: InitSpec, containerDir: string, opts?: LaunchOptions): Promise<void>;
}

const REFILL_DELAY_MS = 1000;

export interface LaunchOptions {
  /** For a tty container: called once the init is in its root; returns the pty number. */
  onRootfs?: () => number;
  /** Keep the init's stdin open: it becomes the container's stdin. */
  keepStdin?: boolean;
}

export class InitPool {
  private ready: WarmInit[] = [];
  private starting = 0;
  private waiters: ((w: WarmInit) => void)[] = [];
  private closed = false;
  private refillTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runDir: string,
    private readonly size: number,
    /** Work done on each init while it waits (e.g. wiring its network), before it is handed out. */
    private readonly prepare?: (w: WarmInit) => Promise<void>,
  ) {
    mkdirSync(join(runDir, "slots"), { recursive: true, mode: 0o700 });
  }

  fill(): void {
    if (this.refillTimer) {
      clearTimeout(this.refillTimer);
      this.refillTimer = undefined;
    }
    while (
      !this.closed &&
      this.ready.length + this.starting < Math.max(this.size, this.waiters.length)
    ) {
      this.starting++;
      this.spawnSlot()
        .then(async (w) => {
          if (this.prepare) {
            try {
              await this.prepare(w);
            } catch (err) {
              this.discard(w);
              throw err;
            }
          }
          this.starting--;
          if (this.closed) return this.discard(w); // finished starting after close()
          const waiter = this.waiters.shift();
          if (waiter) waiter(w);
          else this.ready.push(w);
        })
        .catch((err: unknown) => {
          this.starting--;
          daemonLog(`could not pre-start an init: ${String(err)}`);
          setTimeout(() => this.fill(), 1000).unref();
        });
    }
  }

  /**
   * A warm init for one container; starts one now if none is waiting. The replacement for a
   * taken init starts when the caller's launch is done (it calls fill()), or after a second at
   * the latest: a Node start (~100 ms of CPU) competing with the container being set up on a
   * 2-core host doubled the start's latency (bench/results/runtime.md).
   */
  take(): Promise<WarmInit> {
    const w = this.ready.shift();
    if (!w) {
      const waiting = new Promise<WarmInit>((r) => this.waiters.push(r));
      this.fill();
      return waiting;
    }
    if (!this.refillTimer) {
      this.refillTimer = setTimeout(() => {
        this.refillTimer = undefined;
        this.fill();
      }, REFILL_DELAY_MS);
      this.refillTimer.unref();
    }
    return Promise.resolve(w);
  }

  /**
   * An init in the host's network namespace (--network host), started for this container
   * alone: rare enough that no pool waits for it.
   */
  takeInHostNetwork(): Promise<WarmInit> {
    return this.spawnSlot(true);
  }

  close(): void {
    this.closed = true;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    for (const w of this.ready) this.discard(w);
    this.ready = [];
  }

  private discard(w: WarmInit): void {
    w.stdin.end(); // EOF: the init exits quietly
    rmSync(w.slotDir, { recursive: true, force: true });
  }

  private spawnSlot(hostNetwork = false): Promise<WarmInit> {
    const slotDir = join(this.runDir, "slots", randomBytes(8).toString("hex"));
    mkdirSync(slotDir, { mode: 0o700 });
    const shim = spawn("/bin/sh", ["-c", SHIM_SCRIPT], {
      stdio: ["pipe", "ignore", "ignore", "pipe"],
      detached: true, // own session: a ^C or hangup of the daemon's terminal never reaches containers
      env: {
        CORRAL_NODE: process.execPath,
        CORRAL_INIT: INIT_SCRIPT,
        CORRAL_SLOT: slotDir,
        CORRAL_NET_NS: hostNetwork ? "" : "--net",
        PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      },
    });
    shim.unref();
    const stdin = shim.stdin as Writable;
    stdin.on("error", () => undefined); // EPIPE once the container has closed its stdin or died
    const statusLines = createInterface({ input: shim.stdio[3] as Readable });
    const queue: InitStatus[] = [];
    let notify: (() => void) | undefined;
    let ended = false;
    statusLines.on("line", (line) => {
      try {
        queue.push(JSON.parse(line) as InitStatus);
      } catch {
        return;
      }
      notify?.();
    });
    statusLines.on("close", () => {
      ended = true;
      notify?.();
    });
    const next = async (): Promise<InitStatus | undefined> => {
      while (queue.length === 0 && !ended) await new Promise<void>((r) => (notify = r));
      return queue.shift();
    };
    return next().then((first) => {
      if (first?.type !== "ready") throw new Error(`init did not start (${JSON.stringify(first)})`);
      return {
        slotDir,
        slotId: basename(slotDir),
        shim,
        hostPid: first.hostPid,
        startTime: first.startTime,
        stdin,
        launch: async (spec: InitSpec, containerDir: string, opts: LaunchOptions = {}) => {
          writeFileSync(join(slotDir, "target"), containerDir + "\n");
          stdin.write(JSON.stringify(spec) + "\n");
          let status = await next();
          if (status?.type === "rootfs") {
            if (!opts.onRootfs) throw new InitError(125, "init asked for a terminal nobody opened");
            stdin.write(JSON.stringify({ pty: opts.onRootfs() }) + "\n");
            status = await next();
          }
          if (!opts.keepStdin) stdin.end();
          shim.stdio[3]?.destroy(); // later writes by an exec'd process cannot happen: fd 3 is closed
          if (status?.type === "exec") return;
          if (status?.type === "error") throw new InitError(status.exitCode, status.message);
          throw new InitError(125, "container init exited before starting the command");
        },
      };
    });
  }
}

export class InitError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
