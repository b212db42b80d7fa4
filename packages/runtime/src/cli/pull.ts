// `pull`: the NDJSON progress stream of the daemon's pull, drawn for a person.
import type { Command } from "commander";
import { client, enc, ExitError } from "./common.js";
import { formatBytes } from "./format.js";

/** Pulls `ref` through the daemon, printing Docker-like progress lines; returns the image id. */
export async function pull(ref: string, quiet = false): Promise<string> {
  await client.ensureDaemon();
  const res = await client.stream("POST", `/v1/images/pull?ref=${enc(ref)}`);
  let pending = "";
  let downloaded = false;
  const say = (line: string): void => void (quiet || process.stderr.write(line + "\n"));
  for await (const chunk of res) {
    const lines = (pending + (chunk as Buffer).toString("utf8")).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) {
      const e = JSON.parse(line) as {
        type: string;
        digest?: string;
        status?: string;
        bytes?: number;
        total?: number;
        id?: string;
        manifestDigest?: string;
        message?: string;
      };
      const short = (e.digest ?? "").replace(/^sha256:/, "").slice(0, 12);
      if (e.type === "layer" && e.status === "exists") say(`${short}: Already exists`);
      else if (e.type === "layer" && e.status === "done") {
        downloaded = true;
        say(`${short}: Pull complete (${formatBytes(e.bytes ?? 0)})`);
      } else if (e.type === "error") throw new ExitError(e.message ?? "pull failed", 1);
      else if (e.type === "done") {
        say(`Digest: ${e.manifestDigest ?? ""}`);
        say(`Status: ${downloaded ? "Downloaded newer image" : "Image is up to date"} for ${ref}`);
        return e.id ?? "";
      }
    }
  }
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
