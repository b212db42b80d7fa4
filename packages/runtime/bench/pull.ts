// Corral pull benchmark: a ~50 MB multi-layer Debian image pulled from a local registry into a
// cold store, side by side in one run with what a user would otherwise run (skopeo, umoci).
//
//   npm run bench:pull            (builds, then runs this with `node --import tsx`)
//
// Needs root, skopeo, umoci, docker-registry and mmdebstrap (installed with apt when missing).
// The image is built once (mmdebstrap minbase, made slim as Docker's debian:*-slim, then three
// layers with umoci) and cached in $BENCH_CACHE (default /var/tmp/corral-bench); delete that
// directory or set BENCH_REBUILD=1 to build it again. The kinds of pull are sampled
// round-robin, the order rotating each round, so that noise on the machine hits all kinds
// alike. The page cache is not dropped: every kind reads the same registry files, which are
// cached after the push, and writes through the page cache; before each sample the previous
// sample's output is removed and `sync` flushes what is dirty, so no sample pays for another's
// writeback. Knobs: BENCH_RUNS (default 10), BENCH_WARMUP (1), BENCH_CACHE, BENCH_REBUILD.
import { execFileSync } from "node:child_process";
import {
  closeSync,
  constants as fsc,
  openSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createGunzip } from "node:zlib";
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { ImageStore } from "../dist/image/store.js";
import { pullImage } from "../dist/image/registry/index.js";
import { RegistryClient } from "../dist/image/registry/client.js";
import { unpackLayer } from "../dist/image/unpack.js";
import { pushWithSkopeo, startRegistry, type TestRegistry } from "../test/fixtures/registry.js";
import { CLI, startRuntime, type TestRuntime } from "../test/fixtures/runtime.js";
import { log, must, now, REPO, summarize, timeProcess, treeState } from "./lib.js";

// ---- settings ----------------------------------------------------------------------------

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const CACHE = process.env.BENCH_CACHE ?? "/var/tmp/corral-bench";
const REBUILD = process.env.BENCH_REBUILD === "1";
/** Bumped whenever the recipe below changes, so a cached image of an older recipe is not used. */
const RECIPE = 2;
const SUITE = "bookworm";
/** Added on top of minbase in the second layer: what a small service image typically adds. */
const EXTRA_PACKAGES = ["ca-certificates", "netbase", "procps", "less", "python3-minimal"];
/** As Docker's debian:*-slim images: no manuals, docs (but copyrights), locales, info. */
const SLIM = [
  "path-exclude=/usr/share/man/*",
  "path-exclude=/usr/share/doc/*",
  "path-include=/usr/share/doc/*/copyright",
  "path-exclude=/usr/share/locale/*",
  "path-exclude=/usr/share/info/*",
];
const TOOLS: Record<string, string> = {
  skopeo: "skopeo",
  umoci: "umoci",
  "docker-registry": "docker-registry",
  mmdebstrap: "mmdebstrap",
};
const REPOSITORY = "bench/debian";
/** Files the file-creation probe creates. */
const CREATES = 2000;

const RESULTS = join(REPO, "bench/results/pull.md");
const IMAGE_DIR = join(CACHE, `pull-image-v${RECIPE}`);
const LAYOUT = join(IMAGE_DIR, "layout");

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 0) : "n/a");
const mib = (bytes: number): string =>
  bytes >= 2 ** 20
    ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
    : bytes >= 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${bytes} B`;

// ---- running things ------------------------------------------------------------------------

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    maxBuffer: 64 * 2 ** 20,
  }).trim();
}

function shOr(cmd: string, args: string[], fallback = "unknown"): string {
  try {
    return sh(cmd, args);
  } catch {
    return fallback;
  }
}

/** Spawn to exit of one command, in ms; throws with its stderr when it fails. */
async function timeRun(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return must(await timeProcess(cmd, args, env), `${cmd} ${args.join(" ")}`);
}

// ---- cleanup, whatever happens -------------------------------------------------------------

const cleanups: { name: string; fn: () => Promise<void> | void }[] = [];

async function cleanup(): Promise<string[]> {
  const problems: string[] = [];
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c.fn();
    } catch (err) {
      problems.push(`${c.name}: ${(err as Error).message}`);
    }
  }
  return problems;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().then(() => process.exit(130));
  });
}

// ---- the image -----------------------------------------------------------------------------

interface LayerInfo {
  digest: string;
  /** compressed, as downloaded */
  size: number;
  /** uncompressed tar */
  tarSize: number;
  entries: number;
  whiteouts: number;
  what: string;
}

interface ImageInfo {
  builtAt: string;
  debian: string;
  layers: LayerInfo[];
}

function ensureTools(): void {
  const missing = Object.entries(TOOLS)
    .filter(([bin]) => shOr("sh", ["-c", `command -v ${bin}`], "") === "")
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(" ")}`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Leaves only what belongs in an image: no device nodes, apt caches or lists, temp files. */
function tidyRootfs(root: string): void {
  // apt's package caches (pkgcache.bin, srcpkgcache.bin): 70 MB that Debian's images drop too
  const aptCache = join(root, "var/cache/apt");
  if (existsSync(aptCache)) {
    for (const entry of readdirSync(aptCache)) {
      if (entry.endsWith(".bin")) rmSync(join(aptCache, entry), { force: true });
    }
  }
  for (const dir of ["dev", "tmp", "var/cache/apt/archives", "var/lib/apt/lists", "run"]) {
    const path = join(root, dir);
    if (!existsSync(path)) continue;
    for (const entry of readdirSync(path)) {
      // apt keeps these two as its lock and partial-download directory; images keep them too.
      if (entry === "partial" || entry === "lock") continue;
      rmSync(join(path, entry), { recursive: true, force: true });
    }
  }
}

/** Replaces the bundle's rootfs content with `source`'s, then repacks one layer. */
function repackLayer(work: string, source: string | undefined, comment: string): void {
  const rootfs = join(work, "bundle/rootfs");
  if (source !== undefined) {
    for (const entry of readdirSync(rootfs)) rmSync(join(rootfs, entry), { recursive: true });
    sh("cp", ["-a", `${source}/.`, `${rootfs}/`]);
  }
  sh("umoci", [
    "repack",
    "--refresh-bundle",
    "--history.created_by",
    comment,
    "--image",
    `${join(work, "layout")}:latest`,
    join(work, "bundle"),
  ]);
}

/** Builds the image (minutes: mmdebstrap downloads ~120 packages) unless it is cached. */
function ensureImage(): ImageInfo {
  const infoPath = join(IMAGE_DIR, "image.json");
  if (!REBUILD && existsSync(infoPath)) {
    log(`using the cached image in ${IMAGE_DIR}`);
    return JSON.parse(readFileSync(infoPath, "utf8")) as ImageInfo;
  }
  const work = `${IMAGE_DIR}.build`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, "stage1"), { recursive: true });
  log(`building the image in ${work} with mmdebstrap (a few minutes)`);
  // Layer 1: the Essential packages, copied when mmdebstrap has installed them (before apt
  // and the rest); layer 2: the finished minbase plus EXTRA_PACKAGES, as a diff of that.
  execFileSync(
    "mmdebstrap",
    [
      "--variant=minbase",
      "--quiet",
      `--include=${EXTRA_PACKAGES.join(",")}`,
      ...SLIM.map((o) => `--dpkgopt=${o}`),
      // -x: not into the /proc, /sys, /dev mounted in the chroot meanwhile
      `--essential-hook=cp -ax "$1"/. ${join(work, "stage1")}/`,
      SUITE,
      join(work, "stage2"),
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  tidyRootfs(join(work, "stage1"));
  tidyRootfs(join(work, "stage2"));
  const layout = join(work, "layout");
  sh("umoci", ["init", "--layout", layout]);
  sh("umoci", ["new", "--image", `${layout}:latest`]);
  sh("umoci", ["unpack", "--image", `${layout}:latest`, join(work, "bundle")]);
  repackLayer(work, join(work, "stage1"), `mmdebstrap --variant=essential ${SUITE} (slim)`);
  repackLayer(
    work,
    join(work, "stage2"),
    `mmdebstrap --variant=minbase --include=${EXTRA_PACKAGES.join(",")} ${SUITE} (slim)`,
  );
  // Layer 3: what a Dockerfile's last steps do: a config file, an app directory, deletions
  // (whiteouts) of what the image does not need.
  const rootfs = join(work, "bundle/rootfs");
  mkdirSync(join(rootfs, "srv/app"), { recursive: true });
  writeFileSync(join(rootfs, "srv/app/main.py"), 'print("hello from the bench image")\n');
  writeFileSync(join(rootfs, "etc/motd"), "Corral pull benchmark image\n");
  rmSync(join(rootfs, "usr/share/doc"), { recursive: true, force: true });
  rmSync(join(rootfs, "var/log/apt"), { recursive: true, force: true });
  rmSync(join(rootfs, "var/cache/debconf/templates.dat-old"), { force: true });
  repackLayer(work, undefined, "app files, docs removed");
  sh("umoci", [
    "config",
    "--image",
    `${layout}:latest`,
    "--config.cmd",
    "python3",
    "--config.cmd",
    "/srv/app/main.py",
  ]);
  sh("umoci", ["gc", "--layout", layout]);

  const info: ImageInfo = {
    builtAt: new Date().toISOString(),
    debian: readFileSync(join(work, "stage2/etc/debian_version"), "utf8").trim(),
    layers: describeLayers(layout),
  };
  rmSync(join(work, "stage1"), { recursive: true, force: true });
  rmSync(join(work, "stage2"), { recursive: true, force: true });
  rmSync(join(work, "bundle"), { recursive: true, force: true });
  writeFileSync(join(work, "image.json"), JSON.stringify(info, null, 2));
  rmSync(IMAGE_DIR, { recursive: true, force: true });
  execFileSync("mv", [work, IMAGE_DIR]);
  return info;
}

function blobPath(layout: string, digest: string): string {
  return join(layout, "blobs/sha256", digest.replace(/^sha256:/, ""));
}

function manifestOf(layout: string): { layers: { digest: string; size: number }[] } {
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string }[];
  };
  const digest = index.manifests[0]?.digest ?? "";
  return JSON.parse(readFileSync(blobPath(layout, digest), "utf8")) as {
    layers: { digest: string; size: number }[];
  };
}

function describeLayers(layout: string): LayerInfo[] {
  const whats = ["Essential packages", "apt, minbase, extra packages", "app files, whiteouts"];
  return manifestOf(layout).layers.map((layer, i) => {
    const listing = sh("sh", ["-c", `gzip -dc '${blobPath(layout, layer.digest)}' | tar -tv`]);
    const tarSize = Number(
      sh("sh", ["-c", `gzip -dc '${blobPath(layout, layer.digest)}' | wc -c`]),
    );
    const names = listing.split("\n").filter(Boolean);
    return {
      digest: layer.digest,
      size: layer.size,
      tarSize,
      entries: names.length,
      whiteouts: names.filter((l) => /\/\.wh\.[^/]*$/.test(l)).length,
      what: whats[i] ?? "",
    };
  });
}

// ---- the samples ---------------------------------------------------------------------------

type Kind = "skopeo" | "skopeoUmoci" | "library" | "cli";
const KINDS: Kind[] = ["skopeo", "skopeoUmoci", "library", "cli"];

interface Results {
  samples: Record<Kind, number[]>;
  /** the umoci unpack part of skopeoUmoci */
  umoci: number[];
  probes: Record<string, number[]>;
  failures: string[];
}

const results: Results = {
  samples: { skopeo: [], skopeoUmoci: [], library: [], cli: [] },
  umoci: [],
  probes: {},
  failures: [],
};

interface Setup {
  registry: TestRegistry;
  runtime: TestRuntime;
  ref: string;
  work: string;
  /** layer directories in the runtime's store before any bench pull (its busybox) */
  baseLayers: number;
}

const skopeoCopy = (s: Setup, out: string): Promise<number> =>
  timeRun("skopeo", [
    "--insecure-policy",
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    `docker://${s.ref}`,
    `oci:${out}:latest`,
  ]);

const runtimeLayers = (s: Setup): number =>
  readdirSync(join(s.runtime.base, "root/image/layers")).filter((d) => /^[0-9a-f]{64}$/.test(d))
    .length;

/** One sample of `kind`; its output is removed afterwards (not timed). */
async function sample(
  s: Setup,
  kind: Kind,
  round: number,
): Promise<{ ms: number; umoci?: number }> {
  const out = join(s.work, `${kind}-${round}`);
  try {
    switch (kind) {
      case "skopeo":
        return { ms: await skopeoCopy(s, out) };
      case "skopeoUmoci": {
        const copy = await skopeoCopy(s, out);
        const unpack = await timeRun("umoci", [
          "unpack",
          "--image",
          `${out}:latest`,
          `${out}-bundle`,
        ]);
        return { ms: copy + unpack, umoci: unpack };
      }
      case "library": {
        const t0 = now();
        await pullImage(new ImageStore(out), s.ref);
        return { ms: now() - t0 };
      }
      case "cli": {
        if (runtimeLayers(s) !== s.baseLayers) throw new Error("the CLI's store is not cold");
        return {
          ms: await timeRun(process.execPath, [CLI, "pull", s.ref], s.runtime.env),
        };
      }
    }
    throw new Error(`unknown kind ${String(kind)}`);
  } finally {
    // A failed rmi shows as "not cold" in the next CLI sample.
    if (kind === "cli") s.runtime.rt("rmi", s.ref);
    await rm(out, { recursive: true, force: true });
    await rm(`${out}-bundle`, { recursive: true, force: true });
  }
}

/** Flushes dirty pages (earlier samples' writes and removals) so no sample pays for them. */
async function settle(): Promise<void> {
  sh("sync", []);
  await sleep(300);
}

async function rounds(s: Setup): Promise<void> {
  for (let round = -WARMUP; round < RUNS; round++) {
    const shift = ((round % KINDS.length) + KINDS.length) % KINDS.length;
    const order = [...KINDS.slice(shift), ...KINDS.slice(0, shift)];
    const line: string[] = [];
    for (const kind of order) {
      await settle();
      try {
        const r = await sample(s, kind, round);
        line.push(`${kind} ${ms(r.ms)}`);
        if (round < 0) continue;
        results.samples[kind].push(r.ms);
        if (r.umoci !== undefined) results.umoci.push(r.umoci);
      } catch (err) {
        results.failures.push(`${kind}, round ${round}: ${(err as Error).message}`);
        line.push(`${kind} FAILED`);
      }
    }
    log(`${round < 0 ? "warm-up" : `round ${round + 1}/${RUNS}`}: ${line.join(", ")}`);
  }
}

// ---- where Corral's time goes ----------------------------------------------------------------

/** A writable that throws its input away (a download with nowhere to go). */
const sink = (): Writable => new Writable({ write: (_c, _e, done) => done() });

async function probe(name: string, runs: number, fn: () => Promise<void>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await settle();
    const t0 = now();
    await fn();
    times.push(now() - t0);
  }
  results.probes[name] = times;
  log(`probe ${name}: p50 ${ms(summarize(times).p50)} ms`);
}

/** Each step of Corral's pull alone, the layers concurrently as the pull does them. */
async function probes(s: Setup, info: ImageInfo): Promise<void> {
  const runs = Math.max(5, Math.ceil(RUNS / 2));
  const [registry, repository] = [s.registry.host, REPOSITORY];
  const download = async (hash: boolean): Promise<void> => {
    const client = new RegistryClient({ registry, repository });
    await Promise.all(
      info.layers.map(async (l) => {
        const { body } = await client.getBlob(l.digest as `sha256:${string}`);
        const h = createHash("sha256");
        for await (const chunk of body) if (hash) h.update(chunk as Buffer);
        h.digest();
      }),
    );
  };
  await probe("download", runs, () => download(false));
  await probe("download+sha256", runs, () => download(true));
  const blobs = await Promise.all(info.layers.map((l) => readFile(blobPath(LAYOUT, l.digest))));
  await probe("gunzip", runs, async () => {
    await Promise.all(blobs.map((b) => pipeline([b], createGunzip(), sink())));
  });
  await probe("gunzip+sha256", runs, async () => {
    await Promise.all(
      blobs.map((b) => {
        const h = createHash("sha256");
        return pipeline(
          [b],
          createGunzip(),
          new Writable({ write: (c: Buffer, _e, done) => (h.update(c), done()) }),
        );
      }),
    );
  });
  // The floor of any unpacking pull on this disk: GNU tar (C) extracting the layers, already
  // decompressed and in the page cache, concurrently as the pull unpacks them.
  const tars = await Promise.all(
    info.layers.map(async (l, i) => {
      const path = join(s.work, `layer-${i}.tar`);
      await pipeline(
        createReadStream(blobPath(LAYOUT, l.digest)),
        createGunzip(),
        createWriteStream(path),
      );
      return path;
    }),
  );
  let n = 0;
  await probe("tar -x", runs, async () => {
    const dir = await mkdtemp(join(s.work, `tar-${n++}-`));
    try {
      await Promise.all(
        tars.map(async (tar, i) => {
          mkdirSync(join(dir, String(i)));
          await timeRun("tar", ["-xf", tar, "-C", join(dir, String(i))]);
        }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  await probe(`create ${CREATES} empty files`, runs, async () => {
    const dir = await mkdtemp(join(s.work, `create-${n++}-`));
    try {
      for (let i = 0; i < CREATES; i++) {
        closeSync(openSync(join(dir, String(i)), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  await probe("unpackLayer from local blobs", runs, async () => {
    const dir = await mkdtemp(join(s.work, `unpack-${n++}-`));
    try {
      await Promise.all(
        info.layers.map((l, i) =>
          unpackLayer(createReadStream(blobPath(LAYOUT, l.digest)), join(dir, String(i))),
        ),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

// ---- the report ----------------------------------------------------------------------------

// What this benchmark runs: the image code and the pull command.
const TREE = treeState((f) => /src\/image\/|src\/cli\/(pull|progress)\.ts/.test(f));

const LABELS: Record<Kind, string> = {
  skopeo: "(a) `skopeo copy docker://… oci:DIR` (download alone)",
  skopeoUmoci: "(b) `skopeo copy` + `umoci unpack` (download, then ready to run)",
  library: "(c) Corral library: `pullImage()` into a new store (ready to run)",
  cli: "(c) Corral end to end: `corral-rt pull` via a running daemon (ready to run)",
};

/** The "what dominates" paragraph, from this run's numbers. */
function dominates(info: ImageInfo): string[] {
  const p50 = (v: readonly number[] | undefined): number => summarize(v ?? []).p50;
  const skopeo = p50(results.samples.skopeo);
  const library = p50(results.samples.library);
  const floor = p50(results.probes["tar -x"]);
  const unpack = p50(results.probes["unpackLayer from local blobs"]);
  const gunzip = p50(results.probes["gunzip"]);
  const download = p50(results.probes["download+sha256"]);
  const perCreate = (p50(results.probes[`create ${CREATES} empty files`]) / CREATES) * 1000;
  if (![skopeo, library, floor, unpack].every(Number.isFinite)) return [];
  const size = info.layers.reduce((a, l) => a + l.size, 0);
  const tar = info.layers.reduce((a, l) => a + l.tarSize, 0);
  const entries = info.layers.reduce((a, l) => a + l.entries, 0);
  const x = (v: number): string => `${(v / skopeo).toFixed(2)}x skopeo`;
  return [
    "## What dominates",
    "",
    `- **skopeo (${ms(skopeo)} ms)** downloads ${mib(size)}, hashes it and writes it as ${info.layers.length} ` +
      "blob files: no decompression, a handful of files. It leaves nothing that can run.",
    `- **Corral (${ms(library)} ms, ${x(library)})** downloads the same bytes and, while they arrive, inflates ` +
      `them to ${mib(tar)} of tar, hashes both, and creates ${entries} files, directories and links. ` +
      `Alone, each step takes: download with sha256 ${ms(download)} ms, gunzip ${ms(gunzip)} ms ` +
      `(on libuv's threads, beside the writes), unpacking the local blobs ${ms(unpack)} ms.`,
    `- **The floor on this disk**: GNU tar, in C, only creating the same files from tars already ` +
      `decompressed, takes ${ms(floor)} ms (${x(floor)}). Creating an empty file costs ` +
      `${perCreate.toFixed(0)} µs here (a mkdir or symlink as much; by hand, \`strace -c\` put most of ` +
      "that tar's time in openat, and 2 or 4 threads creating files were not faster than one), so no " +
      "pull that ends with the files on disk can match a " +
      `download of ${info.layers.length} blobs on this machine; Corral's pull is ` +
      `${(library / floor).toFixed(2)}x that floor.`,
    `- **umoci unpack** (${ms(p50(results.umoci))} ms) creates the same files, then walks and hashes ` +
      "them all to write its mtree manifest (for a later repack).",
    "",
  ];
}

function report(info: ImageInfo | undefined, problems: string[], error?: Error): string {
  const row = (name: string, v: readonly number[]): string => {
    const s = summarize(v);
    return `| ${name} | ${s.n} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.mean)} | ${ms(s.min)} | ${ms(s.max)} |`;
  };
  const out: string[] = [];
  out.push("# Corral pull benchmark", "");
  out.push(
    `Written by \`npm run bench:pull\` (packages/runtime/bench/pull.ts) on ${new Date().toISOString()}.`,
    "",
  );
  out.push("## Machine and tree", "");
  out.push(`- CPUs: ${shOr("nproc", [])} (${cpus()[0]?.model ?? "unknown"})`);
  out.push(`- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  out.push(`- kernel: ${release()}`);
  out.push(`- node: ${process.version}`);
  out.push(`- ${shOr("skopeo", ["--version"])}; ${shOr("umoci", ["--version"])}`);
  out.push(
    `- registry: Debian's docker-registry ${shOr("dpkg-query", ["-W", "-f=${Version}", "docker-registry"])} on 127.0.0.1, filesystem storage`,
  );
  out.push(
    `- disk: ${shOr("findmnt", ["-no", "SOURCE,FSTYPE", "-T", CACHE])} (registry storage, outputs and stores all on it)`,
  );
  out.push(`- tree: ${TREE} (when the benchmark started)`);
  out.push(
    `- load average when written: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  );
  out.push("");
  if (error) out.push(`**The benchmark failed:** ${error.message}`, "");
  if (results.failures.length) {
    out.push(
      `**${results.failures.length} sample(s) failed** (not counted):`,
      "",
      ...results.failures.map((f) => `- ${f}`),
      "",
    );
  }

  if (info) {
    const size = info.layers.reduce((a, l) => a + l.size, 0);
    const tar = info.layers.reduce((a, l) => a + l.tarSize, 0);
    out.push("## The image", "");
    out.push(
      `Debian ${info.debian} (${SUITE}) minbase made with mmdebstrap, slim as Docker's \`debian:*-slim\` ` +
        `(no manuals, docs, locales), plus ${EXTRA_PACKAGES.join(", ")}; three gzip layers made with ` +
        `umoci (\`repack\` of successive root filesystems), pushed with skopeo as an OCI image to ` +
        `\`127.0.0.1:PORT/${REPOSITORY}:latest\`. ${mib(size)} to download, ${mib(tar)} of tar.`,
      "",
    );
    out.push(
      "| layer | what | compressed | tar | entries | whiteouts |",
      "|---|---|---|---|---|---|",
    );
    info.layers.forEach((l, i) =>
      out.push(
        `| ${i + 1} \`${l.digest.slice(7, 19)}\` | ${l.what} | ${mib(l.size)} | ${mib(l.tarSize)} | ${l.entries} | ${l.whiteouts} |`,
      ),
    );
    out.push("");
  }

  out.push("## Pull, interleaved round-robin in one run (ms)", "");
  out.push(
    `${WARMUP} warm-up round(s) discarded, then ${RUNS} rounds; each round runs every kind once, ` +
      "the order rotating by one each round. Each sample starts from nothing: a new output " +
      "directory for skopeo and umoci, a new store directory for the library, a store without " +
      "the image's layers for the CLI (`rmi` after each of its samples, untimed). Before each " +
      "sample: `sync` and 300 ms of rest; the page cache is not dropped (the registry's blobs " +
      "are cached for every kind alike).",
    "",
  );
  out.push("| what | runs | p50 | p95 | mean | min | max |", "|---|---|---|---|---|---|---|");
  for (const kind of KINDS) out.push(row(LABELS[kind], results.samples[kind]));
  out.push(row("… of (b): `umoci unpack` alone", results.umoci));
  out.push("");

  const skopeo = summarize(results.samples.skopeo).p50;
  out.push("## Goal", "");
  out.push("| goal | target | measured (p50) | met? |", "|---|---|---|---|");
  for (const kind of ["library", "cli"] as const) {
    const p50 = summarize(results.samples[kind]).p50;
    out.push(
      `| ${kind === "library" ? "library" : "`corral-rt pull`"} pull-and-ready-to-run <= 1.0x skopeo's download alone | <= ${ms(skopeo)} ms | ${ms(p50)} ms (${(p50 / skopeo).toFixed(2)}x) | ${p50 <= skopeo ? "met" : "**not met**"} |`,
    );
  }
  out.push("");

  if (Object.keys(results.probes).length) {
    out.push("## Where Corral's time goes: each step alone, all layers at once (ms)", "");
    out.push(
      "In process, the same code the pull uses, the three layers concurrently as the pull does.",
      "",
    );
    out.push("| step | runs | p50 | p95 | mean | min | max |", "|---|---|---|---|---|---|---|");
    const names: Record<string, string> = {
      download: "HTTP download of the layer blobs (RegistryClient.getBlob), bytes discarded",
      "download+sha256": "the same, hashing each blob (sha256)",
      gunzip: "gunzip of the blobs from memory (node:zlib)",
      "gunzip+sha256": "gunzip + sha256 of the tar (the diff_id)",
      [`create ${CREATES} empty files`]: `creating ${CREATES} empty files (open O_CREAT, close), one thread`,
      "tar -x":
        "floor: GNU tar `-x` of the layers' tars, already decompressed (file creation alone)",
      "unpackLayer from local blobs":
        "`unpackLayer()` of each blob read from a local file (gunzip, both sha256s, tar parse, file writes)",
    };
    for (const [k, v] of Object.entries(results.probes)) out.push(row(names[k] ?? k, v));
    out.push("");
  }
  if (info) out.push(...dominates(info));

  out.push(
    "## Cleanup",
    "",
    problems.length
      ? `Left behind or failed: ${problems.join("; ")}`
      : "Registry and daemon stopped, every output, store and temp dir removed (the cached image stays).",
    "",
  );
  return out.join("\n");
}

// ---- main ----------------------------------------------------------------------------------

async function main(): Promise<ImageInfo> {
  if (process.getuid?.() !== 0) throw new Error("run as root (the pull writes files of any owner)");
  if (!Number.isInteger(RUNS) || RUNS < 5) throw new Error("BENCH_RUNS must be an integer >= 5");
  ensureTools();
  const info = ensureImage();

  mkdirSync(CACHE, { recursive: true });
  const work = await mkdtemp(join(CACHE, "run-"));
  cleanups.push({ name: "work dir", fn: () => rm(work, { recursive: true, force: true }) });
  const registry = await startRegistry();
  cleanups.push({ name: "registry", fn: () => registry.stop() });
  const ref = `${registry.host}/${REPOSITORY}:latest`;
  log(`pushing the image to ${ref}`);
  await pushWithSkopeo(`oci:${LAYOUT}:latest`, ref);
  const runtime = await startRuntime("bench-pull");
  cleanups.push({ name: "runtime", fn: () => runtime.cleanup() });
  const setup: Setup = { registry, runtime, ref, work, baseLayers: 0 };
  setup.baseLayers = runtimeLayers(setup);

  await rounds(setup);
  await probes(setup, info);
  return info;
}

let failure: Error | undefined;
let info: ImageInfo | undefined;
try {
  info = await main();
} catch (err) {
  failure = err as Error;
  log(`failed: ${failure.stack ?? failure.message}`);
}
const problems = await cleanup();
for (const p of problems) log(`cleanup: ${p}`);
if (info === undefined && existsSync(join(IMAGE_DIR, "image.json"))) {
  info = JSON.parse(readFileSync(join(IMAGE_DIR, "image.json"), "utf8")) as ImageInfo;
}
const text = report(info, problems, failure);
mkdirSync(join(REPO, "bench/results"), { recursive: true });
writeFileSync(RESULTS, text);
process.stdout.write(text + "\n");
log(`wrote ${RESULTS}`);
process.exit(failure ? 1 : 0);
