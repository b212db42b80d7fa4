// Reads an image archive (`docker save` or OCI layout, plain or gzip) into a work directory.
// docker save writes manifest.json last, so nothing can be interpreted while streaming; the
// members are stored first. Member names are hostile: they never become paths. Each regular
// file is stored as <dir>/<n> and looked up through a name table; symlinks and hard links
// (docker save links duplicate layers) are table entries, never created on disk.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as tarExtract, type ExtractEvents } from "tar-stream";
import { sniffCompression } from "./compression.js";
import { HashMeter } from "./meter.js";
import { ImageError, messageOf } from "./errors.js";
import type { Digest } from "./digest.js";
import { memberComponents } from "./paths.js";
import { MAX_JSON_BYTES, readFileCapped } from "./fsutil.js";

/** Default cap on the uncompressed size of a whole archive: 64 GiB. */
export const DEFAULT_MAX_ARCHIVE_BYTES = 64 * 1024 ** 3;
const MAX_MEMBERS = 100_000;
const MAX_LINK_HOPS = 32;

export interface ArchiveFile {
  /** member name, normalized */
  name: string;
  /** where its content is stored */
  path: string;
  size: number;
  digest: Digest;
}

type Member = { kind: "file"; file: ArchiveFile } | { kind: "link"; target: string };

/** The members of an extracted archive, by normalized name. */
export class ArchiveIndex {
  /** Bytes of every member stored on disk. */
  readonly bytes: number;
  constructor(private readonly members: ReadonlyMap<string, Member>) {
    let bytes = 0;
    for (const m of members.values()) if (m.kind === "file") bytes += m.file.size;
    this.bytes = bytes;
  }

  /** The regular file a member name refers to (links followed), or undefined. */
  get(name: string): ArchiveFile | undefined {
    let key = memberComponents(name, "archive member").join("/");
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const member = this.members.get(key);
      if (member === undefined) return undefined;
      if (member.kind === "file") return member.file;
      key = member.target;
    }
    throw new ImageError("refused", `archive member ${JSON.stringify(name)} has a link loop`);
  }

  /** Like get, but a missing member is an error naming what it was for. */
  require(name: string, what: string): ArchiveFile {
    const file = this.get(name);
    if (file === undefined) {
      throw new ImageError(
        "refused",
        `${what} ${JSON.stringify(name)} is missing from the archive`,
      );
    }
    return file;
  }

  /** Reads a JSON member, refusing it when larger than 8 MiB. */
  async readJson(name: string, what: string): Promise<Buffer> {
    const file = this.require(name, what);
    return readFileCapped(file.path, MAX_JSON_BYTES, `${what} ${JSON.stringify(name)}`);
  }
}

type Entry = ExtractEvents["entry"][1];

export interface ExtractOptions {
  maxBytes?: number;
}

/** Stores the archive's members under `dir` (which must exist and be empty). */
export async function extractArchive(
  input: AsyncIterable<unknown>,
  dir: string,
  options: ExtractOptions = {},
): Promise<ArchiveIndex> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
  const { compression, source } = await sniffCompression(input, "image archive");
  const meter = new HashMeter(maxBytes, "image archive");
  const extract = tarExtract();
  let feedError: unknown;
  const fed = (
    compression === "gzip"
      ? pipeline(source, createGunzip(), meter, extract)
      : pipeline(source, meter, extract)
  ).catch((err: unknown) => {
    feedError = err;
  });

  const members = new Map<string, Member>();
  let count = 0;
  try {
    for await (const entry of extract) {
      if (++count > MAX_MEMBERS) {
        throw new ImageError("refused", `image archive has more than ${MAX_MEMBERS} members`);
      }
      await storeMember(entry, dir, count, members);
    }
  } catch (err) {
    await fed;
    throw meter.limitError ?? (err instanceof ImageError ? err : (feedError ?? err));
  }
  await fed;
  if (feedError !== undefined) throw meter.limitError ?? feedError;
  return new ArchiveIndex(members);
}

async function storeMember(
  entry: Entry,
  dir: string,
  n: number,
  members: Map<string, Member>,
): Promise<void> {
  const header = entry.header;
  const type = (header.type as string | null) ?? "file";
  const components = memberComponents(header.name, "archive member");
  const name = components.join("/");
  const shown = JSON.stringify(header.name);
  const linkname = (header.linkname as string | null) ?? "";

  switch (type) {
    case "file":
    case "contiguous-file": {
      if (components.length === 0)
        throw new ImageError("refused", `archive member ${shown} is not a file`);
      const file = await storeFile(entry, join(dir, String(n)), name);
      members.set(name, { kind: "file", file });
      return;
    }
    case "directory":
      await drain(entry);
      return;
    case "symlink": {
      await drain(entry);
      if (linkname.startsWith("/")) {
        throw new ImageError("refused", `archive member ${shown} is a symlink to an absolute path`);
      }
      const parent = components.slice(0, -1).join("/");
      const target = memberComponents(
        posix.join(parent || ".", linkname),
        `symlink ${shown} target`,
      );
      members.set(name, { kind: "link", target: target.join("/") });
      return;
    }
    case "link": {
      await drain(entry);
      const target = memberComponents(linkname, `hard link ${shown} target`);
      members.set(name, { kind: "link", target: target.join("/") });
      return;
    }
    default:
      throw new ImageError("refused", `archive member ${shown} has unsupported type ${type}`);
  }
}

async function storeFile(entry: Entry, path: string, name: string): Promise<ArchiveFile> {
  const hash = createHash("sha256");
  let size = 0;
  const handle = await open(path, "wx", 0o600);
  try {
    for await (const chunk of entry) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      size += buffer.length;
      await handle.write(buffer, 0, buffer.length);
    }
  } catch (err) {
    throw new ImageError("refused", `archive member ${JSON.stringify(name)}: ${messageOf(err)}`);
  } finally {
    await handle.close();
  }
  return { name, path, size, digest: `sha256:${hash.digest("hex")}` };
}

async function drain(entry: Entry): Promise<void> {
  for await (const _chunk of entry) {
    // links and directories carry no content worth keeping
  }
}
