// `pull`: the NDJSON progress stream of the daemon's pull, drawn for a person: progress bars
// redrawn in place on a terminal, a plain line per finished layer otherwise.
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { client, enc, ExitError } from "./common.js";
import { plainLine, ProgressBoard, type LayerEvent } from "./progress.js";

/** One line of the daemon's pull stream. */
type PullEvent =
  | LayerEvent
  | { type: "done"; id?: string; digest?: string; updated?: boolean }
  | { type: "error"; message?: string };

/** Pulls `ref` through the daemon, printing Docker-like progress; returns the image id. */
export async function pull(ref: string, quiet = false): Promise<string> {
  await client.ensureDaemon();
  const res = await client.stream("POST", `/v1/images/pull?ref=${enc(ref)}`);
  const err = process.stderr;
  const say = (line: string): void => void (quiet || err.write(line + "\n"));
  const board = !quiet && err.isTTY ? new ProgressBoard() : undefined;
  const columns = (): number => err.columns || 80;
  const redraw = (): void => void (board && err.write(board.draw(columns(), performance.now())));
  try {
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      if (line === "") continue;
      const e = JSON.parse(line) as PullEvent;
      if (e.type === "layer") {
        if (board === undefined) {
          const text = plainLine(e);
          if (text !== undefined) say(text);
        } else if (board.update(e, performance.now())) {
          redraw();
        }
      } else if (e.type === "error") {
        redraw();
        throw new ExitError(e.message ?? "pull failed", 1);
      } else if (e.type === "done") {
        redraw();
        // As Docker: what the name resolved to (an index for multi-platform images), the
        // digest RepoDigests holds, not the platform manifest's.
        say(`Digest: ${e.digest ?? ""}`);
        // As Docker: "newer" when the name now means another image, even if no layer moved.
        say(`Status: ${e.updated ? "Downloaded newer image" : "Image is up to date"} for ${ref}`);
        return e.id ?? "";
      }
    }
  } finally {
    res.destroy();
  }
  redraw();
  throw new ExitError("pull ended without a result", 1);
}

export function registerPullCommand(program: Command): void {
  program
    .command("pull")
    .description("pull an image from a registry")
    .argument("<image>")
    .option("-q, --quiet", "print only the image id")
    .action(async (ref: string, o: { quiet?: boolean }) => {
      const id = await pull(ref, o.quiet);
      if (o.quiet) console.log(id);
    });
}
