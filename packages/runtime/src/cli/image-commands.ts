// Image commands over the daemon's image store, with Docker's names, flags and output: load,
// images, rmi, tag, history, save, image prune, system df, and the `image ...` group
// (ls, rm, inspect, tag, history, save, load, prune) as aliases.
import type { Command } from "commander";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline/promises";
import { pipeline } from "node:stream/promises";
import { UsageError } from "./run-options.js";
import { api, client, enc, ExitError } from "./common.js";
import { printTable, formatBytes, timeAgo } from "./format.js";
import { forEachName } from "./each.js";
import { IMAGES_FORMAT, printFormatted } from "./output-format.js";
import { shortId } from "./progress.js";
import { familiarName, parseReference } from "../image/reference.js";
import type { HistoryItem } from "../image/inspect.js";
import type { DiskUsage } from "../daemon/system.js";

interface ImageSummary {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  size: number;
}

/** `name:tag` -> [name, tag], the tag after the last colon that is not part of a host:port. */
function splitTag(reference: string): [string, string] {
  const i = reference.lastIndexOf(":");
  return i > reference.lastIndexOf("/")
    ? [reference.slice(0, i), reference.slice(i + 1)]
    : [reference, "latest"];
}

function assertFormat(format: string | undefined): void {
  if (format !== undefined && format !== "json")
    throw new UsageError(`unsupported --format "${format}": use json`);
}

/** Docker's stringutils.Ellipsis. */
function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

function percentOf(part: number, total: number): string {
  return total > 0
    ? `${formatBytes(part)} (${Math.floor((part * 100) / total)}%)`
    : formatBytes(part);
}

// ---- images -----------------------------------------------------------------------------

interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedAt: string;
  CreatedSince: string;
  Size: string;
}

function imageRows(images: ImageSummary[], trunc: boolean): ImageRow[] {
  return images.flatMap((image) => {
    const id = trunc ? shortId(image.id) : image.id;
    const common = {
      ID: id,
      CreatedAt: image.created,
      CreatedSince: timeAgo(image.created),
      Size: formatBytes(image.size),
    };
    const digestOf = (repo: string): string =>
      image.repoDigests.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1) ?? "<none>";
    if (image.repoTags.length > 0) {
      return image.repoTags.map((t) => {
        const [Repository, Tag] = splitTag(t);
        return { Repository, Tag, Digest: digestOf(Repository), ...common };
      });
    }
    // Untagged: one row per repository it still has a digest in (as after `rmi` of a tag of a
    // pulled image), or a single <none> row.
    const repos = [...new Set(image.repoDigests.map((d) => d.slice(0, d.indexOf("@"))))];
    if (repos.length === 0)
      return [{ Repository: "<none>", Tag: "<none>", Digest: "<none>", ...common }];
    return repos.map((Repository) => ({
      Repository,
      Tag: "<none>",
      Digest: digestOf(Repository),
      ...common,
    }));
  });
}

function imagesCommand(cmd: Command): Command {
  return cmd
    .description("list images")
    .argument("[repository]", "only images of this repository (name or name:tag)")
    .option("-a, --all", "all images (the store keeps no intermediate images: the same list)")
    .option("-q, --quiet", "only IDs")
    .option("--digests", "show digests")
    .option("--no-trunc", "do not truncate IDs")
    .option("--format <format>", "json, a Go template, or table TEMPLATE (Docker's fields)")
    .action(
      async (
        repository: string | undefined,
        o: { quiet?: boolean; digests?: boolean; trunc: boolean; format?: string },
      ) => {
        const images = await api<ImageSummary[]>("GET", "/v1/images");
        let rows = imageRows(images, o.trunc);
        if (repository !== undefined) {
          // A colon after the last slash is a tag; one before it is a registry's port.
          const hasTag = repository.lastIndexOf(":") > repository.lastIndexOf("/");
          const [name, tag] = hasTag ? splitTag(repository) : [repository, undefined];
          // Rows already carry familiar names (`x`, not `docker.io/library/x`).
          const wanted = familiarName(parseReference(name));
          rows = rows.filter(
            (r) => r.Repository === wanted && (tag === undefined || r.Tag === tag),
          );
        }
        if (o.quiet) [...new Set(rows.map((r) => r.ID))].forEach((id) => console.log(id));
        else if (o.format !== undefined) printFormatted(o.format, rows, IMAGES_FORMAT);
        else
          printTable(
            ["REPOSITORY", "TAG", ...(o.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"],
            rows.map((r) => [
              r.Repository,
              r.Tag,
              ...(o.digests ? [r.Digest] : []),
              r.ID,
              r.CreatedSince,
              r.Size,
            ]),
          );
      },
    );
}

// ---- rmi, tag, inspect ------------------------------------------------------------------

function rmiCommand(cmd: Command): Command {
  return cmd
    .description("remove images (untag when other names remain, as Docker)")
    .argument("<images...>")
    .option("-f, --force", "remove even if containers use it, or by id with several names")
    .action(async (refs: string[], o: { force?: boolean }) => {
      await forEachName(refs, async (ref) => {
        const result = await api<{ untagged: string[]; deleted: string[] }>(
          "DELETE",
          `/v1/images/${enc(ref)}?force=${o.force ? 1 : 0}`,
        );
        result.untagged.forEach((t) => console.log(`Untagged: ${t}`));
        result.deleted.forEach((d) => console.log(`Deleted: ${d}`));
      });
    });
}

function tagCommand(cmd: Command): Command {
  return cmd
    .description("give an image another name")
    .argument("<source>", "image name or id")
    .argument("<target>", "new name[:tag]")
    .action(async (source: string, target: string) => {
      await api("POST", `/v1/images/${enc(source)}/tag?target=${enc(target)}`);
    });
}

function imageInspectCommand(cmd: Command): Command {
  return cmd
    .description("show images' details as JSON")
    .argument("<images...>")
    .action(async (refs: string[]) => {
      const out: unknown[] = [];
      for (const ref of refs) {
        try {
          out.push(await api("GET", `/v1/images/${enc(ref)}/json`));
        } catch (err) {
          process.stderr.write(`corral-rt: ${(err as Error).message}\n`);
          process.exitCode = 1;
        }
      }
      console.log(JSON.stringify(out, null, 4));
    });
}

// ---- history ----------------------------------------------------------------------------

function historyCommand(cmd: Command): Command {
  return cmd
    .description("show the layers of an image and what made them")
    .argument("<image>")
    .option("-q, --quiet", "only IDs")
    .option("--no-trunc", "do not truncate")
    .option("--format <format>", "json: one JSON object per line")
    .action(async (ref: string, o: { quiet?: boolean; trunc: boolean; format?: string }) => {
      assertFormat(o.format);
      const items = await api<HistoryItem[]>("GET", `/v1/images/${enc(ref)}/history`);
      const rows = items.map((h) => {
        const createdAt = h.Created > 0 ? new Date(h.Created * 1000).toISOString() : "";
        const createdBy = h.CreatedBy.replace(/\t/g, " ");
        return {
          Comment: h.Comment,
          CreatedAt: createdAt,
          CreatedBy: o.trunc ? ellipsis(createdBy, 45) : createdBy,
          CreatedSince: timeAgo(createdAt),
          ID: h.Id === "<missing>" || !o.trunc ? h.Id : shortId(h.Id),
          Size: formatBytes(h.Size),
        };
      });
      if (o.quiet) rows.forEach((r) => console.log(r.ID));
      else if (o.format === "json") rows.forEach((r) => console.log(JSON.stringify(r)));
      else
        printTable(
          ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
          rows.map((r) => [r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment]),
        );
    });
}

// ---- load, save -------------------------------------------------------------------------

function loadCommand(cmd: Command): Command {
  return cmd
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
}

function saveCommand(cmd: Command): Command {
  return cmd
    .description("save images to a tar archive (docker-archive and OCI layout in one)")
    .argument("<images...>")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (refs: string[], o: { output?: string }) => {
      if (o.output === undefined && process.stdout.isTTY) {
        throw new ExitError(
          "cowardly refusing to save to a terminal. Use the -o flag or redirect",
          1,
        );
      }
      await client.ensureDaemon();
      const res = await client.stream(
        "GET",
        `/v1/images/get?${refs.map((r) => `names=${enc(r)}`).join("&")}`,
      );
      if (o.output === undefined) {
        await pipeline(res, process.stdout, { end: false });
      } else {
        // Written beside the target and renamed when complete: no half archive under its name.
        const temp = join(dirname(o.output), `.${basename(o.output)}.${process.pid}.tmp`);
        try {
          await pipeline(res, createWriteStream(temp, { mode: 0o600 }));
          if (!res.trailers["x-corral-error"]) await rename(temp, o.output);
        } finally {
          await rm(temp, { force: true });
        }
      }
      const failed = res.trailers["x-corral-error"];
      if (failed) throw new ExitError(`save failed: ${failed}`, 1);
    });
}

// ---- prune ------------------------------------------------------------------------------

async function confirm(warning: string, force: boolean | undefined): Promise<boolean> {
  if (force) return true;
  if (!process.stdin.isTTY) {
    throw new ExitError(
      "this removes images: pass -f to confirm (there is no terminal to ask on)",
      1,
    );
  }
  console.log(warning);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test(
      (await rl.question("Are you sure you want to continue? [y/N] ")).trim(),
    );
  } finally {
    rl.close();
  }
}

function pruneCommand(cmd: Command): Command {
  return cmd
    .description("remove images no container uses: untagged ones, or all with -a")
    .option("-a, --all", "remove all images no container uses, not just untagged ones")
    .option("-f, --force", "do not ask for confirmation")
    .action(async (o: { all?: boolean; force?: boolean }) => {
      const warning = o.all
        ? "WARNING! This will remove all images without at least one container associated to them."
        : "WARNING! This will remove all dangling images.";
      if (!(await confirm(warning, o.force))) return;
      const result = await api<{
        ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>;
        SpaceReclaimed: number;
      }>("POST", `/v1/images/prune?all=${o.all ? 1 : 0}`);
      if (result.ImagesDeleted.length > 0) {
        console.log("Deleted Images:");
        for (const e of result.ImagesDeleted) {
          console.log(
            e.Untagged !== undefined ? `untagged: ${e.Untagged}` : `deleted: ${e.Deleted}`,
          );
        }
        console.log("");
      }
      console.log(`Total reclaimed space: ${formatBytes(result.SpaceReclaimed)}`);
    });
}

// ---- system df --------------------------------------------------------------------------

function systemDfCommand(cmd: Command): Command {
  return cmd
    .description("show disk usage of images, containers and volumes")
    .option("-v, --verbose", "show each image, container and volume")
    .option("--format <format>", "json: one JSON object per line")
    .action(async (o: { verbose?: boolean; format?: string }) => {
      assertFormat(o.format);
      const df = await api<DiskUsage>("GET", "/v1/system/df");
      const containersSize = df.Containers.reduce((sum, c) => sum + c.SizeRw, 0);
      const volumesSize = df.Volumes.reduce((sum, v) => sum + v.UsageData.Size, 0);
      const summary = [
        {
          Type: "Images",
          TotalCount: df.Images.length,
          Active: df.Images.filter((i) => i.Containers > 0).length,
          Size: df.LayersSize,
          Reclaimable: df.Reclaimable.Images,
        },
        {
          Type: "Containers",
          TotalCount: df.Containers.length,
          Active: df.Containers.filter((c) => c.State === "running" || c.State === "paused").length,
          Size: containersSize,
          Reclaimable: df.Reclaimable.Containers,
        },
        {
          Type: "Local Volumes",
          TotalCount: df.Volumes.length,
          Active: df.Volumes.filter((v) => v.UsageData.RefCount > 0).length,
          Size: volumesSize,
          Reclaimable: df.Reclaimable.Volumes,
        },
      ];
      if (o.format === "json") {
        for (const s of summary) {
          console.log(
            JSON.stringify({
              Active: String(s.Active),
              Reclaimable: percentOf(s.Reclaimable, s.Size),
              Size: formatBytes(s.Size),
              TotalCount: String(s.TotalCount),
              Type: s.Type,
            }),
          );
        }
        return;
      }
      if (!o.verbose) {
        printTable(
          ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
          summary.map((s) => [
            s.Type,
            String(s.TotalCount),
            String(s.Active),
            formatBytes(s.Size),
            percentOf(s.Reclaimable, s.Size),
          ]),
        );
        return;
      }
      console.log("Images space usage:\n");
      printTable(
        [
          "REPOSITORY",
          "TAG",
          "IMAGE ID",
          "CREATED",
          "SIZE",
          "SHARED SIZE",
          "UNIQUE SIZE",
          "CONTAINERS",
        ],
        df.Images.flatMap((i) =>
          (i.RepoTags.length > 0 ? i.RepoTags : ["<none>:<none>"]).map((t) => {
            const [repo, tag] = t === "<none>:<none>" ? ["<none>", "<none>"] : splitTag(t);
            return [
              repo,
              tag,
              shortId(i.Id),
              timeAgo(i.Created),
              formatBytes(i.Size),
              formatBytes(i.SharedSize),
              formatBytes(i.Size - i.SharedSize),
              String(i.Containers),
            ];
          }),
        ),
      );
      console.log("\nContainers space usage:\n");
      printTable(
        ["CONTAINER ID", "IMAGE", "COMMAND", "SIZE", "CREATED", "STATUS", "NAMES"],
        df.Containers.map((c) => [
          c.Id.slice(0, 12),
          c.Image,
          ellipsis(c.Command, 22),
          formatBytes(c.SizeRw),
          timeAgo(c.Created),
          c.Status,
          c.Names.map((n) => n.replace(/^\//, "")).join(","),
        ]),
      );
      console.log("\nLocal Volumes space usage:\n");
      printTable(
        ["VOLUME NAME", "LINKS", "SIZE"],
        df.Volumes.map((v) => [
          v.Name,
          String(v.UsageData.RefCount),
          formatBytes(v.UsageData.Size),
        ]),
      );
    });
}

// ---- registration -----------------------------------------------------------------------

export function registerImageCommands(program: Command): void {
  loadCommand(program.command("load"));
  imagesCommand(program.command("images"));
  rmiCommand(program.command("rmi"));
  tagCommand(program.command("tag"));
  historyCommand(program.command("history"));
  saveCommand(program.command("save"));

  const image = program.command("image").description("manage images");
  imagesCommand(image.command("ls").alias("list"));
  rmiCommand(image.command("rm").alias("remove"));
  imageInspectCommand(image.command("inspect"));
  tagCommand(image.command("tag"));
  historyCommand(image.command("history"));
  saveCommand(image.command("save"));
  loadCommand(image.command("load"));
  pruneCommand(image.command("prune"));

  const system = program.command("system").description("the runtime as a whole");
  systemDfCommand(system.command("df"));
}
