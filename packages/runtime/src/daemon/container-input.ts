// Where a running container's input goes: its terminal (-t), whose master the daemon holds, or
// the stdin pipe of its init (-i without -t). Attach writes through a ContainerInput.
import { closeSync, createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import {
  TerminalStream,
  openContainerPty,
  type ContainerPty,
  type WindowSize,
} from "../exec/pty.js";
import { whenWritable } from "../util/streams.js";
import { logUnexpected } from "./faults.js";

export interface ContainerInput {
  /** false: the container is not keeping up; wait for drained() before writing more. */
  write(data: Buffer): boolean;
  drained(): Promise<void>;
  end(): void;
  resize(cols: number, rows: number): void;
  /** At the container's exit: resolves once what it wrote is in its log (or gave up waiting). */
  close(): Promise<void>;
}

/**
 * How long an exited container's terminal may take to hand its last output to the log. The
 * master reads EIO once every slave is closed, which the init's exit (the pid namespace's end)
 * brings at once; a slave leaked to a process outside the container must not hold the exit.
 */
const TERMINAL_DRAIN_MS = 2000;

/**
 * A tty container's terminal master stays with the daemon (as Docker's stays with its shim):
 * its output is appended to the log, where `logs` and attach read it.
 * `name`: the container's, for the daemon's log; `pid`: its init; `logPath`: its console log.
 */
export function holdTerminal(
  name: string,
  pid: number,
  size: WindowSize,
  logPath: string,
): { pty: ContainerPty; input: ContainerInput; releaseSlave: () => void } {
  const pty = openContainerPty(pid, size);
  const terminal = new TerminalStream(pty.master);
  const log = createWriteStream(logPath, { flags: "a" });
  // A full disk must not end the daemon: say so once, then drop the output (a terminal
  // nobody reads would block the container).
  log.on("error", (err) => {
    logUnexpected(`container ${name}'s terminal log`, err);
    terminal.resume();
  });
  terminal.pipe(log);
  terminal.on("error", () => undefined);
  // The pipe ends the log when the master reads EIO: then every byte the container wrote is in it.
  const logged = new Promise<void>((resolve) => {
    log.once("finish", resolve);
    log.once("close", resolve);
  });
  // The daemon keeps a slave fd open for the container's whole run, not only until the container
  // has opened its own: when the container's exit closed the last slave, what it had written just
  // before was lost now and then (`run -it … sh -c 'tty'` printed nothing, about 1 run in 70; the
  // master read an echo typed after it, then EIO). With ours open, the exit closes no terminal;
  // the daemon closes its slave at the exit, then reads the master to its end.
  let slaveOpen = true;
  const releaseSlave = (): void => {
    if (!slaveOpen) return;
    slaveOpen = false;
    closeSync(pty.slave);
  };
  const input: ContainerInput = {
    write: (data) => terminal.write(data),
    drained: () => whenWritable(terminal),
    end: () => undefined, // a terminal has no end of input; ^D is the user's to type
    resize: (cols, rows) => terminal.resize({ cols, rows }),
    // Destroying the master at once dropped output still in the pty: it drains to the log first.
    close: async () => {
      releaseSlave();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        logged,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, TERMINAL_DRAIN_MS))),
      ]);
      clearTimeout(timer);
      terminal.destroy();
    },
  };
  return { pty, input, releaseSlave };
}

/** The init's stdin pipe, kept open at its start, as the container's input. */
export function stdinPipeInput(stdin: Writable): ContainerInput {
  return {
    write: (data) => stdin.write(data),
    drained: () => whenWritable(stdin),
    end: () => stdin.end(),
    resize: () => undefined,
    close: async () => void stdin.destroy(),
  };
}
