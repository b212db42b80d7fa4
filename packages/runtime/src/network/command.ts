// Runs the host's network tools (ip, nft) without blocking the daemon's event loop: a start or
// stop on a host with hundreds of containers must not stall every other request for the tool's
// run time (bench/results/daemon-loop.md).
import { spawn } from "node:child_process";

/** Runs `file args` with `input` on stdin; resolves with stdout, rejects with stderr's first line. */
export function runCommand(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.stdin.on("error", () => undefined); // a tool that exits early: its error says why
    child.on("error", (e) => reject(new Error(`${file} ${args.join(" ")}: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      const first = Buffer.concat(err).toString("utf8").trim().split("\n")[0];
      reject(new Error(`${file} ${args.join(" ")}: ${first || `exited with ${code ?? signal}`}`));
    });
    child.stdin.end(input ?? "");
  });
}
