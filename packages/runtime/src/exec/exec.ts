// `exec` into a running container: validates the request, prepares stdio (pipes or a pty
// from the container's devpts) and starts corral-nsexec, the small C helper that joins
// the container's cgroups and namespaces, drops privileges and execs the command
// (see nsexec.c for why that part cannot be Node).
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { accessSync, closeSync, constants, existsSync, fchownSync } from "node:fs";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CAPABILITIES, RLIMIT, type CapabilityName, type RlimitName } from "../syscall/index.js";
import { openContainerPty, TerminalStream, type WindowSize } from "./pty.js";

const noNul = (what: string) =>
  z.string().refine((s) => !s.includes("\0"), `${what} must not contain a NUL byte`);
const id = z.number().int().min(0).max(0xfffffffe);
const dimension = z.number().int().min(1).max(65535);
const windowSizeSchema = z.object({ cols: dimension, rows: dimension });
/** -1 means unlimited, as in Docker's --ulimit. */
const rlimitValue = z.number().int().min(-1);
const capabilityNames = Object.keys(CAPABILITIES) as [CapabilityName, ...CapabilityName[]];
const rlimitNames = Object.keys(RLIMIT) as [RlimitName, ...RlimitName[]];

export const execOptionsSchema = z.object({
  /** Host pid of a process in the container (its init). */
  pid: z.number().int().positive(),
  /** Field 22 of /proc/PID/stat when the container started: a reused pid is then refused. */
  startTime: z.number().int().nonnegative().optional(),
  args: z.array(noNul("an argument")).min(1, "args needs the command to run"),
  /** Exactly the command's environment, "KEY=VALUE" each. PATH in it is used to find args[0]. */
  env: z.array(
    noNul("an environment entry").refine(
      (s) => s.indexOf("=") > 0,
      "an environment entry must look like KEY=VALUE",
    ),
  ),
  cwd: noNul("cwd").refine((s) => s.startsWith("/"), "cwd must be an absolute path"),
  uid: id,
  gid: id,
  additionalGids: z.array(id).max(256),
  /** Kept in the bounding, permitted and effective sets; every other capability is dropped. */
  capabilities: z.array(z.enum(capabilityNames)),
  noNewPrivileges: z.boolean(),
  /** The container's seccomp program (container/security-opts.ts), as its init has it. */
  seccomp: z.instanceof(Buffer).optional(),
  /** Limits to set; the others are copied from the container's process `pid`. */
  rlimits: z
    .array(
      z
        .object({ name: z.enum(rlimitNames), soft: rlimitValue, hard: rlimitValue })
        .refine(
          (l) => l.hard === -1 || (l.soft !== -1 && l.soft <= l.hard),
          "an rlimit's soft value must not exceed its hard value",
        ),
    )
    .optional(),
  tty: z.boolean(),
  /** Whether the command gets input (without it, stdin is /dev/null or, with a tty, unused). */
  stdin: z.boolean(),
  cols: dimension.optional(),
  rows: dimension.optional(),
  /** Without a tty: "pipe" (default) gives streams, "inherit" hands over this process's stdio. */
  stdio: z.enum(["pipe", "inherit"]).optional(),
  helperPath: noNul("helperPath").optional(),
});

export type ExecOptions = z.input<typeof execOptionsSchema>;
type ParsedOptions = z.output<typeof execOptionsSchema>;

export interface ExecExit {
  /** The command's exit code; 128+N when it died of signal N; 125 when the exec itself failed
   * (joining the container), 126 when the cwd or command is unusable, 127 when not found. */
  exitCode: number;
}

interface ExecCommon {
  /** Host pid of the helper (the command's parent, outside the container's pid namespace). */
  readonly pid: number;
  readonly exit: Promise<ExecExit>;
  /** Signals the command (the helper forwards it); SIGKILL kills both. False once exited. */
  kill(signal?: NodeJS.Signals): boolean;
}

export interface PipedExec extends ExecCommon {
  readonly tty: false;
  /** null when opts.stdin is false or stdio is "inherit". */
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

export interface TtyExec extends ExecCommon {
  readonly tty: true;
  /** The pty master: what the command prints, and where to write what the user types. */
  readonly terminal: TerminalStream;
  resize(cols: number, rows: number): void;
}

/** After the helper exits, how long to wait for the output to drain before settling. */
const DRAIN_GRACE_MS = 250;

/** Where the package build puts the helper: dist/exec/corral-nsexec, next to this module. */
export function defaultHelperPath(): string {
  return fileURLToPath(new URL("./corral-nsexec", import.meta.url));
}

/** Validates `input`, with every problem on one line. */
export function parseExecOptions(input: unknown): ParsedOptions {
  const result = execOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
  );
  throw new Error(`invalid exec options: ${problems.join("; ")}`);
}

function parseWindowSize(size: WindowSize): WindowSize {
  const result = windowSizeSchema.safeParse(size);
  if (!result.success) {
    throw new Error(`invalid terminal size ${size.cols}x${size.rows}: 1 to 65535 each`);
  }
  return result.data;
}

/** The helper's argv (after its path): one value per element, so any string survives. */
export function helperArgs(opts: ParsedOptions): string[] {
  let caps = 0n;
  for (const name of opts.capabilities) caps |= 1n << BigInt(CAPABILITIES[name]);
  const args = [
    "--pid",
    String(opts.pid),
    ...(opts.startTime === undefined ? [] : ["--start-time", String(opts.startTime)]),
    "--cwd",
    opts.cwd,
    "--uid",
    String(opts.uid),
    "--gid",
    String(opts.gid),
    "--caps",
    `0x${caps.toString(16)}`,
  ];
  if (opts.additionalGids.length) args.push("--groups", opts.additionalGids.join(","));
  if (opts.noNewPrivileges) args.push("--no-new-privs");
  if (opts.tty) args.push("--tty");
  if (opts.seccomp) args.push("--seccomp", opts.seccomp.toString("hex"));
  for (const { name, soft, hard } of opts.rlimits ?? []) {
    args.push("--rlimit", `${RLIMIT[name]}:${soft}:${hard}`);
  }
  for (const entry of opts.env) args.push("--env", entry);
  return [...args, "--", ...opts.args];
}

/**
 * Runs `args` inside the container whose process is `pid`: all its namespaces and
 * cgroups, its env, user, working directory and capabilities, with or without a tty.
 */
export function execInContainer(opts: ExecOptions & { tty: true }): TtyExec;
export function execInContainer(opts: ExecOptions & { tty: false }): PipedExec;
export function execInContainer(opts: ExecOptions): TtyExec | PipedExec;
export function execInContainer(input: ExecOptions): TtyExec | PipedExec {
  const opts = parseExecOptions(input);
  const helper = opts.helperPath ?? defaultHelperPath();
  try {
    accessSync(helper, constants.X_OK);
  } catch {
    throw new Error(
      `exec helper ${helper} is missing or not executable (build it: src/exec/build-native.sh ${helper})`,
    );
  }
  if (!existsSync(`/proc/${opts.pid}`)) {
    throw new Error(`exec: no process ${opts.pid}: is the container running?`);
  }
  return opts.tty ? startWithTty(opts, helper) : startWithPipes(opts, helper);
}

function startHelper(opts: ParsedOptions, helper: string, stdio: StdioOptions): ChildProcess {
  // Own session: a terminal's ^C reaches the caller, who decides what to forward (kill()).
  // Empty env: nothing of ours (LD_PRELOAD, ...) reaches the helper; the command's env is
  // in its argv.
  return spawn(helper, helperArgs(opts), { stdio, env: {}, detached: true });
}

function startWithPipes(opts: ParsedOptions, helper: string): PipedExec {
  const inherit = opts.stdio === "inherit";
  const stdin = opts.stdin ? (inherit ? "inherit" : "pipe") : "ignore";
  const out = inherit ? "inherit" : "pipe";
  const child = startHelper(opts, helper, [stdin, out, out]);
  // 'close' waits for the pipes to drain; a background process still holding them must not
  // keep the exec pending forever.
  const exit = settle(child, (done) => child.on("close", done));
  return {
    tty: false,
    pid: child.pid ?? -1,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exit,
    kill: (signal) => signalHelper(child, signal),
  };
}

function startWithTty(opts: ParsedOptions, helper: string): TtyExec {
  const pty = openContainerPty(opts.pid, { cols: opts.cols ?? 80, rows: opts.rows ?? 24 });
  let child: ChildProcess;
  try {
    // The user owns their terminal (as login does): reopening it (/dev/stdin, `tty`'s
    // path) must work for a non-root user too.
    fchownSync(pty.slave, opts.uid, -1);
    child = startHelper(opts, helper, [pty.slave, pty.slave, pty.slave]);
  } catch (err) {
    closeSync(pty.master);
    throw err;
  } finally {
    // The helper has its copies; with ours open, the master would never see EIO at the end.
    closeSync(pty.slave);
  }
  const terminal = new TerminalStream(pty.master);
  const exit = settle(child, (done) => terminal.once("end", done).once("close", done));
  // Whatever the output's state, the master is ours to close once the command is done.
  void exit.finally(() => terminal.destroy());
  return {
    tty: true,
    pid: child.pid ?? -1,
    terminal,
    exit,
    resize: (cols: number, rows: number) => terminal.resize(parseWindowSize({ cols, rows })),
    kill: (signal) => signalHelper(child, signal),
  };
}

/** Resolves once the helper exited and its output drained (or DRAIN_GRACE_MS passed). */
function settle(child: ChildProcess, onDrained: (done: () => void) => void): Promise<ExecExit> {
  return new Promise((resolve, reject) => {
    let drained = false;
    let result: ExecExit | undefined;
    const finish = () => {
      if (result && drained) resolve(result);
    };
    onDrained(() => {
      drained = true;
      finish();
    });
    child.once("error", (err) => reject(new Error(`exec helper: ${err.message}`)));
    child.once("exit", (code, signal) => {
      const signo = signal ? osConstants.signals[signal] : undefined;
      result = { exitCode: code ?? 128 + (signo ?? 0) };
      setTimeout(() => {
        drained = true;
        finish();
      }, DRAIN_GRACE_MS);
      finish();
    });
  });
}

function signalHelper(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): boolean {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  return child.kill(signal);
}
