// The container page's live parts in Debian's chromium against the real stack: a log of
// 100,000 lines scrolls and finds a line (colours from ANSI, markup shown as text), a terminal
// resize reaches the PTY (`stty size` inside), and a container killed on the host raises a
// notice on the bell without a reload. Then screenshots of stats, logs, terminal and notices.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { waitFor } from "../apps/web/test/fixtures/stack.ts";
import { IMAGE, logIn, startUiStack, type UiStack } from "./fixtures.ts";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));
let ui: UiStack;
let page: Page;
let chatty: string;
let shell: string;

async function make(name: string, cmd: string[]): Promise<{ id: string; pid: number }> {
  const r = await ui.stack.api<{ id: string; pid: number }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name,
    cmd,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  ui = await startUiStack("ui-live");
  page = await ui.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await logIn(page, ui.stack.url);
  chatty = (
    await make("chatty", [
      "sh",
      "-c",
      // 100,000 numbered lines, one in colour, one that looks like markup, then a line a second
      "seq 1 100000 | sed 's/^/line /'; printf '\\033[31mred-alert\\033[0m plain\\n';" +
        " echo '<img src=x onerror=alert(1)>'; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 1; done",
    ])
  ).id;
  shell = (await make("shell", ["sleep", "3600"])).id;
});
after(async () => {
  await ui?.cleanup();
});

test("the log viewer holds 100,000 lines, finds one, and shows colours and markup as text", async () => {
  await waitFor("the whole log written", async () => {
    const r = await ui.stack.api<string>("GET", `/api/v1/containers/${chatty}/logs?tail=5`);
    return String(r.body).includes("tick-1");
  });
  await page.goto(`${ui.stack.url}/containers/${chatty}?tab=logs`);
  const logs = page.getByTestId("logs");
  // The viewer asks for the last 100,000 lines (and keeps no more).
  let loaded = 0;
  await waitFor("100,000 lines in the viewer", async () => {
    loaded = Number(await logs.getAttribute("data-lines"));
    return loaded >= 100_000;
  }).catch((err: Error) => assert.fail(`${err.message}: ${loaded} lines`));
  // Virtualised: a few dozen rows in the DOM, not 100,000.
  assert.ok((await page.locator(".log-line").count()) < 200);
  // Following: the newest line is on screen.
  await logs
    .locator(".log-line", { hasText: /^tick-\d+$/ })
    .first()
    .waitFor();

  const find = page.getByLabel("Find in the logs");
  await find.fill("line 54321");
  await page.getByTestId("log-matches").getByText("1 of 1").waitFor();
  const current = page.locator(".log-line.current");
  await current.waitFor();
  assert.equal(await current.textContent(), "line 54321");
  assert.equal(await current.locator("mark").textContent(), "line 54321");

  // Several matches: Enter steps to the next, the arrow back.
  await find.fill("line 9999");
  await page.getByTestId("log-matches").getByText("1 of 11").waitFor();
  await find.press("Enter");
  await page.getByTestId("log-matches").getByText("2 of 11").waitFor();
  await page.getByRole("button", { name: "Previous match" }).click();
  await page.getByTestId("log-matches").getByText("1 of 11").waitFor();
  assert.equal(await current.textContent(), "line 9999");

  // ANSI red becomes a colour; a line of markup stays text.
  await find.fill("red-alert");
  const red = current.locator("span", { hasText: "red-alert" }).first();
  await red.waitFor();
  assert.match((await red.getAttribute("style")) ?? "", /color: rgb\(187, 0, 0\)/);
  assert.equal(await current.textContent(), "red-alert plain");
  await find.fill("onerror");
  await current.getByText("<img src=x onerror=alert(1)>").waitFor();
  assert.equal(await logs.locator("img").count(), 0);

  // Timestamps on demand.
  await page.getByLabel("Timestamps").check();
  assert.match((await current.locator(".log-time").textContent()) ?? "", /^\d{4}-\d\d-\d\dT/);
  // The download link is the REST route, authorised by the session cookie.
  const href = await page.getByRole("link", { name: "Download" }).getAttribute("href");
  const res = await page.request.get(`${ui.stack.url}${href}`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()["content-disposition"] ?? "", /attachment; filename="chatty-/);
});

/** The PTY's size as the shell in it sees it, after `stty size` is typed. */
async function sttySize(mark: string): Promise<string> {
  await page.keyboard.type(`echo ${mark}-$(stty size | tr ' ' x)\n`);
  const line = page.locator(".xterm-rows div", { hasText: new RegExp(`^${mark}-\\d+x\\d+\\s*$`) });
  await line.first().waitFor();
  return ((await line.first().textContent()) ?? "").trim().slice(mark.length + 1);
}

test("a terminal resize reaches the PTY: stty size inside follows the window", async () => {
  await page.goto(`${ui.stack.url}/containers/${shell}?tab=terminal`);
  const term = page.locator("[data-testid=terminal][data-phase=open]");
  await term.waitFor();
  const size = async () =>
    `${await term.getAttribute("data-rows")}x${await term.getAttribute("data-cols")}`;
  assert.equal(await sttySize("first"), await size());

  const before = await size();
  await page.setViewportSize({ width: 900, height: 600 });
  await waitFor("the terminal to refit", async () => (await size()) !== before);
  assert.equal(await sttySize("narrower"), await size());

  // Full screen is another size; it too reaches the PTY.
  const windowed = await size();
  await page.getByRole("button", { name: "Full screen" }).click();
  await waitFor("the full-screen fit", async () => (await size()) !== windowed);
  assert.equal(await sttySize("full"), await size());
  await page.getByRole("button", { name: "Exit full screen" }).click();
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("a container killed on the host raises a notice on the bell, live", async () => {
  await page.goto(`${ui.stack.url}/`);
  const bell = page.getByTestId("notice-bell");
  await bell.waitFor();
  const unread = Number(await bell.getAttribute("data-unread"));
  const victim = await make("victim", ["sleep", "3600"]);
  process.kill(victim.pid, "SIGKILL");
  await page.locator(`[data-testid=notice-bell][data-unread="${unread + 1}"]`).waitFor();
  await bell.click();
  await page.waitForURL(/\/notices$/);
  await page.getByText("victim died with exit code 137 (killed by signal 9)").waitFor();
  await page.getByTestId("mark-read").click();
  await page.locator('[data-testid=notice-bell][data-unread="0"]').waitFor();
});

test("screenshots of stats, logs, terminal and notices: wide and narrow, light and dark", async () => {
  mkdirSync(SHOTS, { recursive: true });
  // Notices to show: a kill from outside, an OOM kill; a webhook whose receiver is down.
  const victim = await make("worker-2", ["sleep", "3600"]);
  process.kill(victim.pid, "SIGKILL");
  const hog = await ui.stack.api("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "memory-hog",
    cmd: ["sh", "-c", "a=0123456789abcdef; while :; do a=$a$a; done"],
    memoryBytes: 16 * 1024 * 1024,
  });
  assert.equal(hog.status, 200, JSON.stringify(hog.body));
  // a port that was just free: nothing listens there, the deliveries show the refusals
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const hook = await ui.stack.api("POST", "/api/v1/webhooks", {
    url: `http://127.0.0.1:${port}/corral-alerts`,
    secret: "s3cret",
  });
  assert.equal(hook.status, 200, JSON.stringify(hook.body));
  await waitFor("two notices", async () => {
    const r = await ui.stack.api<{ notices: Array<{ kind: string }> }>("GET", "/api/v1/notices");
    const kinds = r.body.notices.map((n) => n.kind);
    return kinds.includes("container-oom") && kinds.includes("container-died");
  });
  for (const [width, height, tag, scheme] of [
    [1280, 800, "wide", "light"],
    [390, 844, "narrow", "light"],
    [1280, 800, "wide-dark", "dark"],
    [390, 844, "narrow-dark", "dark"],
  ] as const) {
    const context = await ui.browser.newContext({
      viewport: { width, height },
      colorScheme: scheme,
    });
    const p = await context.newPage();
    await logIn(p, ui.stack.url);
    await p.goto(`${ui.stack.url}/containers/${chatty}?tab=stats`);
    await waitFor(
      "a few samples",
      async () => Number(await p.getByTestId("stats").getAttribute("data-samples")) >= 5,
    );
    // the newest sample in big and both graphs drawn (uPlot loads after the points)
    await p.getByTestId("cpu-now").filter({ hasNotText: "…" }).waitFor();
    await waitFor(
      "both graphs",
      async () => (await p.locator("[data-testid=stats] canvas").count()) >= 2,
    );
    await p.screenshot({ path: `${SHOTS}live-stats-${tag}.png` });
    await p.getByRole("button", { name: "1 hour" }).click();
    await p.getByText("1-minute points (average and peak), then live").waitFor();
    await p.screenshot({ path: `${SHOTS}live-stats-1h-${tag}.png`, fullPage: true });
    await p.goto(`${ui.stack.url}/containers/${chatty}?tab=logs`);
    await waitFor(
      "the log loaded",
      async () => Number(await p.getByTestId("logs").getAttribute("data-lines")) >= 100_000,
    );
    await p.getByLabel("Find in the logs").fill("red-alert");
    await p.locator(".log-line.current").waitFor();
    await p.screenshot({ path: `${SHOTS}live-logs-${tag}.png` });
    await p.goto(`${ui.stack.url}/containers/${shell}?tab=terminal`);
    await p.locator("[data-testid=terminal][data-phase=open]").waitFor();
    await p.keyboard.type("ls /\n");
    await p.locator(".xterm-rows").getByText("bin", { exact: false }).first().waitFor();
    await p.screenshot({ path: `${SHOTS}live-terminal-${tag}.png` });
    await p.goto(`${ui.stack.url}/notices`);
    await p.getByTestId("notices").waitFor();
    await p.getByTestId("deliveries").first().waitFor();
    await p.screenshot({ path: `${SHOTS}live-notices-${tag}.png`, fullPage: true });
    await context.close();
  }
});
