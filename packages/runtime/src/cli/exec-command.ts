// `corral-rt exec`: runs in the CLI's own process (root on the container's host), so that a
// terminal goes straight from the user's tty to the container's pty without a daemon hop.
import { execInContainer } from "../exec/index.js";
import { containerExecOptions, type ContainerView } from "../exec/container-exec.js";

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
  detach?: boolean;
}

export async function execCommand(c: ContainerView, args: string[], f: ExecFlags): Promise<number> {
  const common = containerExecOptions(c, {
    args,
    tty: Boolean(f.tty),
    stdin: Boolean(f.interactive) && !f.detach,
    env: f.env,
    user: f.user,
    workdir: f.workdir,
  });
  if (!f.tty || f.detach) {
    const exec = execInContainer({ ...common, tty: false, stdio: f.detach ? "pipe" : "inherit" });
    if (f.detach) return 0;
    return (await exec.exit).exitCode;
  }
  const stdin = process.stdin;
  const exec = execInContainer({
    ...common,
    tty: true,
    cols: process.stdout.columns || 80,
    rows: process.stdout.rows || 24,
  });
  const raw = stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  if (f.interactive) stdin.pipe(exec.terminal);
  exec.terminal.pipe(process.stdout);
  const onResize = (): void => exec.resize(process.stdout.columns, process.stdout.rows);
  process.stdout.on("resize", onResize);
  try {
    return (await exec.exit).exitCode;
  } finally {
    process.stdout.off("resize", onResize);
    if (raw) stdin.setRawMode(false);
    stdin.unpipe(exec.terminal);
    stdin.pause();
  }
}
