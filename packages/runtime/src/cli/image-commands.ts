// Image commands over the daemon's image store: load, images, rmi.
import type { Command } from "commander";
import { createReadStream } from "node:fs";
import { api, client, enc } from "./common.js";
import { printTable, formatBytes } from "./format.js";

export function registerImageCommands(program: Command): void {
  program
    .command("load")
    .description("load an image from a docker-save or OCI-layout tar archive")
    .option("-i, --input <file>", "read from a file instead of stdin")
    .option("-t, --tag <name:tag>", "name the loaded image (when the archive carries none)")
    .option("-q, --quiet", "print nothing but errors")
    .action(async (o: { input?: string; tag?: string; quiet?: boolean }) => {
      await client.ensureDaemon();
      const input = o.input ? createReadStream(o.input) : process.stdin;
      const res = await client.raw(
        "POST",
        `/v1/images/load${o.tag ? `?tag=${enc(o.tag)}` : ""}`,
        input,
      );
      const body = await client.json<{ images?: { id: string; repoTags: string[] }[] }>(res);
      if (!o.quiet) {
        for (const img of body.images ?? []) {
          if (img.repoTags.length === 0) console.log(`Loaded image ID: ${img.id}`);
          for (const t of img.repoTags) console.log(`Loaded image: ${t}`);
        }
      }
    });
  program
    .command("images")
    .option("-q, --quiet", "only IDs")
    .option("--format <format>", "json")
    .action(async (o: { quiet?: boolean; format?: string }) => {
      const rows = await api<{ id: string; repoTags: string[]; created: string; size: number }[]>(
        "GET",
        "/v1/images",
      );
      const flat = rows.flatMap((r) =>
        (r.repoTags.length ? r.repoTags : ["<none>:<none>"]).map((t) => {
          const i = t.lastIndexOf(":");
          return {
            Repository: t.slice(0, i),
            Tag: t.slice(i + 1),
            ID: r.id.replace(/^sha256:/, "").slice(0, 12),
            CreatedAt: r.created,
            Size: formatBytes(r.size),
          };
        }),
      );
      if (o.quiet) [...new Set(flat.map((r) => r.ID))].forEach((id) => console.log(id));
      else if (o.format === "json") flat.forEach((r) => console.log(JSON.stringify(r)));
      else
        printTable(
          ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
          flat.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedAt, r.Size]),
        );
    });

  program
    .command("rmi")
    .argument("<images...>")
    .option("-f, --force", "remove even if containers use it")
    .action(async (refs: string[], o: { force?: boolean }) => {
      for (const ref of refs) {
        const result = await api<{ untagged: string[]; deleted: string[] }>(
          "DELETE",
          `/v1/images/${enc(ref)}?force=${o.force ? 1 : 0}`,
        );
        result.untagged.forEach((t) => console.log(`Untagged: ${t}`));
        result.deleted.forEach((d) => console.log(`Deleted: ${d}`));
      }
    });
}
