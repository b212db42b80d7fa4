// A pseudo-terminal from the container's own devpts, so that `tty` inside prints
// /dev/pts/N and job control works as in `docker exec -t`. Node keeps the master;
// the slave becomes the helper's fds 0-2.
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { Duplex } from "node:stream";
import tty from "node:tty";
import { ioctlBuffer, ioctlInt } from "../syscall/index.js";

// <asm-generic/ioctls.h>; the same numbers on x86-64 and arm64.
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;

export interface ContainerPty {
  /** Master side, for Node to read and write. */
  readonly master: number;
  /** Slave side, for the helper's stdio; close it in Node once the helper has started. */
  readonly slave: number;
  /** N in /dev/pts/N inside the container. */
  readonly index: number;
}

export interface WindowSize {
  cols: number;
  rows: number;
}

/**
 * Opens a new pty on the devpts instance mounted in the container of `pid`. The path
 * passes through a root the container controls, so the master is verified to live on
 * one of the container's devpts mounts, and the slave is opened from the master
 * (TIOCGPTPEER), never by path: a container cannot point us at a host terminal.
 */
export function openContainerPty(pid: number, size: WindowSize): ContainerPty {
  const path = `/proc/${pid}/root/dev/pts/ptmx`;
  let master: number;
  try {
    master = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new Error(`open the container's pty (${path}): ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    assertContainerDevpts(pid, master);
    ioctlBuffer(master, TIOCSPTLCK, Buffer.alloc(4)); // unlock: *arg = 0
    const index = Buffer.alloc(4);
    ioctlBuffer(master, TIOCGPTN, index);
    setWindowSize(master, size);
    const slave = ioctlInt(
      master,
      TIOCGPTPEER,
      constants.O_RDWR | constants.O_NOCTTY | 0o2000000 /* O_CLOEXEC */,
    );
    return { master, slave, index: index.readUInt32LE(0) };
  } catch (err) {
    closeSync(master);
    throw new Error(`set up the container's pty: ${(err as Error).message}`);
  }
}

function assertContainerDevpts(pid: number, fd: number): void {
  const st = fstatSync(fd, { bigint: true });
  const devices = readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .filter((line) => line.split(" - ")[1]?.startsWith("devpts "))
    .map((line) => line.split(" ")[2] ?? "");
  if (!st.isCharacterDevice() || !devices.includes(deviceNumber(st.dev))) {
    throw new Error(`/proc/${pid}/root/dev/pts/ptmx is not on the container's devpts`);
  }
}

/** "major:minor" as mountinfo prints it, from glibc's dev_t encoding. */
function deviceNumber(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** TIOCSWINSZ; the kernel sends SIGWINCH to the terminal's foreground process group. */
export function setWindowSize(fd: number, size: WindowSize): void {
  const winsize = Buffer.alloc(8); // struct winsize { ws_row, ws_col, ws_xpixel, ws_ypixel }
  winsize.writeUInt16LE(size.rows, 0);
  winsize.writeUInt16LE(size.cols, 2);
  ioctlBuffer(fd, TIOCSWINSZ, winsize);
}

/**
 * The master as one duplex stream. Reading it after the last slave fd is closed fails
 * with EIO: that is the end of the output, not an error. Writes after the end are
 * dropped (the process is gone). Destroying the stream closes the master.
 */
export class TerminalStream extends Duplex {
  readonly #socket: tty.ReadStream;
  /** Set once the master fd is closed: its number may then belong to another file. */
  #closed = false;

  constructor(readonly fd: number) {
    super({ allowHalfOpen: true });
    // libuv's tty handle polls the fd (non-blocking): a pty read never ties up a pool thread.
    this.#socket = new tty.ReadStream(fd);
    this.#socket.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) this.#socket.pause();
    });
    this.#socket.on("end", () => this.push(null));
    this.#socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EIO") this.push(null);
      else this.destroy(err);
    });
    this.#socket.on("close", () => {
      this.#closed = true;
      this.push(null);
    });
  }

  resize(size: WindowSize): void {
    if (!this.#closed) setWindowSize(this.fd, size);
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error) => void): void {
    if (this.#closed || this.#socket.destroyed) return done();
    this.#socket.write(chunk, () => done());
  }

  override _final(done: () => void): void {
    done(); // end of input is the user's business (send ^D); the master stays open
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.#socket.destroy();
    done(err);
  }
}
