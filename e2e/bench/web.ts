// Corral dashboard benchmark (issue 13, "Speed"): the pages in Debian's chromium against a
// busy fleet.
//
//   npm run bench:web     (builds, then runs this with `node --import tsx`)
//
// BENCH_HOSTS (20) simulated agents (apps/web/test/fixtures/sim-agent.ts: the real protocol)
// with BENCH_CONTAINERS (50) running containers each and 1 Hz stats, one web process on
// SQLite, chromium (playwright-core, /usr/bin/chromium or CHROMIUM) logged in as the admin.
// Measured:
// - first page interactive: navigation start → the page shows its data from the server (the
//   fleet page: every host card; the containers page: the count of all its containers and the
//   first screen of rows, filled to the bottom of the window: the table is virtualised, so the
//   other rows are not in the DOM until scrolled to), BENCH_LOADS (5) loads of each in a fresh
//   page, plus the browser's own domInteractive;
// - event → DOM: BENCH_EVENTS (50) `die` deltas from simulated agents, one at a time, each
//   timed from the delta being sent until a MutationObserver in the containers page sees that
//   container's row say "exited" (both clocks are this machine's wall clock). The page is
//   sorted by name (a die would move the row, under the default sort by state, to the exited
//   ones at the end, out of the rendered rows), and the row is scrolled into view before each
//   event (not timed): the whole list of 1,000 is still filtered and sorted on every push;
// - the web server's CPU (% of one core) and RSS over BENCH_SECONDS (30) with the page open.
// Writes bench/results/web.md. Goals (issue 13): interactive < 1 s; event → DOM p95 < 250 ms.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type Page } from "playwright-core";
import type { JoinResponse } from "@corral/protocol";
import {
  log,
  machineLines,
  markdownTable,
  readOr,
  REPO,
  summarize,
  treeState,
  writeResults,
} from "../../packages/runtime/bench/lib.ts";
import { usage } from "../../apps/web/bench/fleet.ts";
import { SIM_FACTS, SimAgent } from "../../apps/web/test/fixtures/sim-agent.ts";
import { startWebStack, waitFor, type WebStack } from "../../apps/web/test/fixtures/stack.ts";
import { ADMIN } from "../fixtures.ts";

const HOSTS = Number(process.env.BENCH_HOSTS ?? 20);
const CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 50);
const LOADS = Number(process.env.BENCH_LOADS ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const RESULTS = join(REPO, "bench/results/web.md");

const ms = (v: number): string => v.toFixed(0);
const load = (): string => readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ");

/** The page's scripts have run (hydrated) and its live channel is up: the header says so. */
const LIVE = `document.querySelector(".live")?.textContent === "live"`;

/**
 * Loads a page; ms from navigation start until `ready` holds in the page, domInteractive, and
 * until the page is live (its rows may come with the HTML, before its scripts run).
 */
async function timeLoad(
  page: Page,
  url: string,
  ready: string,
): Promise<{ shown: number; domInteractive: number; live: number }> {
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(ready, undefined, { timeout: 60_000, polling: "raf" });
  // Page code as strings: this file is type-checked without the DOM's types.
  const t = await page.evaluate<{ shown: number; domInteractive: number }>(
    `({ shown: performance.now(), domInteractive: performance.getEntriesByType("navigation")[0].domInteractive })`,
  );
  await page.waitForFunction(LIVE, undefined, { timeout: 60_000, polling: "raf" });
  return { ...t, live: await page.evaluate<number>("performance.now()") };
}

async function main(): Promise<void> {
  const tree = treeState();
  const loadBefore = load();
  const rows: string[][] = [];
  const agents: SimAgent[] = [];
  let web: WebStack | undefined;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  let loadDuring = "";
  try {
    web = await startWebStack("bench-web");
    const w = web;
    log(`joining ${HOSTS} hosts × ${CONTAINERS} containers`);
    for (let i = 0; i < HOSTS; i++) {
      const jt = await w.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
      const joined = await w.api<JoinResponse>(
        "POST",
        "/api/v1/agents/join",
        { token: jt.body.token, name: `sim-${String(i).padStart(2, "0")}`, facts: SIM_FACTS },
        null,
      );
      agents.push(new SimAgent(w.url, joined.body, { containers: CONTAINERS, stats: true }));
    }
    await waitFor(
      "every snapshot stored",
      async () =>
        (await w.api<unknown[]>("GET", "/api/v1/containers")).body.length === HOSTS * CONTAINERS,
      600_000,
    );

    const login = await fetch(`${w.url}/api/v1/auth/session`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-corral-csrf": "1" },
      body: JSON.stringify(ADMIN),
    });
    const [name, value] = (login.headers.get("set-cookie") ?? "").split(";")[0]!.split("=");
    // bypassCSP: the measuring code is evaluated in the page, which the app's CSP forbids.
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      bypassCSP: true,
    });
    await context.addCookies([{ name: name!, value: value!, url: w.url }]);

    const pages = [
      ["fleet page (/)", "/", `document.querySelectorAll("tr[data-host]").length >= ${HOSTS}`],
      [
        "containers page (/containers)",
        "/containers",
        // every container counted, and rows down to the bottom of the window (or all of them)
        `(() => {
          const count = document.querySelector("[data-testid=container-count]")?.textContent ?? "";
          const rows = document.querySelectorAll("tr[data-container]");
          const last = rows[rows.length - 1];
          return count.endsWith("/ ${HOSTS * CONTAINERS}") && !!last &&
            (rows.length === ${HOSTS * CONTAINERS} || last.getBoundingClientRect().bottom >= innerHeight);
        })()`,
      ],
    ] as const;
    for (const [label, path, ready] of pages) {
      const shown: number[] = [];
      const interactive: number[] = [];
      const live: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        const page = await context.newPage();
        const t = await timeLoad(page, w.url + path, ready);
        shown.push(t.shown);
        interactive.push(t.domInteractive);
        live.push(t.live);
        await page.close();
      }
      const s = summarize(shown);
      const d = summarize(interactive);
      const l = summarize(live);
      rows.push([
        `${label}: navigation → its data shown (first load / p50 / max of ${LOADS}); domInteractive p50; → hydrated and live p50`,
        `${ms(shown[0]!)} / ${ms(s.p50)} / ${ms(s.max)} ms; ${ms(d.p50)} ms; ${ms(l.p50)} ms`,
        "goal < 1 s",
      ]);
    }

    log(`event → DOM: ${EVENTS} die deltas one at a time`);
    const page = await context.newPage();
    await timeLoad(page, w.url + "/containers", pages[1][2]);
    // The page's scripts running and its live channel up (the rows come with the HTML before).
    await page.waitForFunction(LIVE, undefined, { timeout: 60_000 });
    // Sorted by name: a row keeps its place when its container exits.
    await page.getByRole("button", { name: /^Name/ }).click();
    await page.locator("th[aria-sort=ascending]").getByText("Name").waitFor();
    const latencies: number[] = [];
    for (let k = 0; k < EVENTS; k++) {
      const agent = agents[k % agents.length]!;
      const index = Math.floor(k / agents.length);
      const id = agent.containers[index]!.id;
      // Scrolls down from the top until the virtualised table renders the row, then centres it
      // and lets the list settle (not timed).
      await page.evaluate(`(async () => {
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        const find = () => document.querySelector("a[href='/containers/${id}']");
        window.scrollTo(0, 0);
        await frame();
        for (let i = 0; !find(); i++) {
          if (i > 500) throw new Error("row ${id} never rendered");
          window.scrollBy(0, innerHeight * 0.7);
          await frame();
          await frame();
        }
        find().closest("tr").scrollIntoView({ block: "center" });
      })()`);
      await sleep(300);
      // Resolves with the wall clock when the row's state cell first says exited.
      await page.evaluate(`(() => {
        const row = document.querySelector("a[href='/containers/${id}']")?.closest("tr");
        if (!row) throw new Error("no row for ${id}");
        window.seen = new Promise((resolve) => {
          const exited = () => /exited/.test(row.querySelector("td[data-label='State']")?.textContent ?? "");
          const mo = new MutationObserver(() => {
            if (!exited()) return;
            mo.disconnect();
            resolve(Date.now());
          });
          mo.observe(row, { subtree: true, childList: true, characterData: true });
        });
      })()`);
      const t0 = Date.now();
      agent.die(index, 137);
      const seen = await page.evaluate<number>("window.seen");
      latencies.push(seen - t0);
      await sleep(200);
    }
    const lat = summarize(latencies);
    rows.push([
      `event → DOM: a die delta from a simulated agent → chromium's containers page shows the row as exited (MutationObserver), ${EVENTS} one at a time: p50 / p95 / max`,
      `${ms(lat.p50)} / ${ms(lat.p95)} / ${ms(lat.max)} ms`,
      "goal p95 < 250 ms",
    ]);

    log(`measuring the web server for ${SECONDS} s with the containers page open`);
    const end = Date.now() + SECONDS * 1000;
    const [u] = await usage([w.webPid()!], () => Date.now() >= end);
    loadDuring = load();
    rows.push([
      `web server: CPU over ${SECONDS} s of ${HOSTS * CONTAINERS} stats samples/s, one browser on the containers page; RSS mean / max`,
      `${u!.cpu.toFixed(1)}% of a core; ${(u!.rssMeanKb / 1024).toFixed(0)} / ${(u!.rssMaxKb / 1024).toFixed(0)} MB`,
      "",
    ]);
  } finally {
    for (const a of agents) a.close();
    await browser.close();
    await web?.cleanup();
  }
  const report = [
    "# Corral dashboard benchmark: pages in chromium against a busy fleet",
    "",
    `Written by \`npm run bench:web\` (e2e/bench/web.ts) on ${new Date().toISOString()}: ${HOSTS} simulated hosts × ${CONTAINERS} containers, 1 Hz stats, one web process on SQLite, Debian's chromium (headless, playwright-core).`,
    "",
    "## Machine and tree",
    "",
    ...machineLines(tree),
    `- load average before the run: ${loadBefore}; at the end: ${loadDuring} (the machine is shared with other engineers' work; chromium and the simulated agents run on it too)`,
    "",
    "## Results",
    "",
    ...markdownTable(["what", "measured", "goal"], rows),
    "",
  ].join("\n");
  writeResults(RESULTS, report);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
