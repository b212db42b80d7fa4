// The Images, Networks, Volumes and Events pages and the containers page's bulk actions, in
// Debian's chromium against the real stack: a pull from a local registry with per-layer
// progress (and the same pull over REST as NDJSON lines), removals (one refused in words while
// a container uses the image), a network and a volume made and removed, an event that appears
// without a reload, a bulk stop of two containers and a bulk start with one failure listed.
// Then every page at 1280 px and 390 px, light and dark, into e2e/screenshots/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { buildTestImages, imageWithLayers } from "../packages/runtime/test/fixtures/images.ts";
import {
  pushWithSkopeo,
  startRegistry,
  type TestRegistry,
} from "../packages/runtime/test/fixtures/registry.ts";
import { IMAGE, logIn, startUiStack, type UiStack } from "./fixtures.ts";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

let ui: UiStack;
let page: Page;
let registry: TestRegistry;
/** a two-layer image in the registry: the test busybox plus one small layer */
let pulledRef: string;

/** One uncompressed tar with a single file, as a layer. */
function tarLayer(name: string, content: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "corral-layer-"));
  try {
    writeFileSync(join(dir, name), content);
    return execFileSync("tar", ["-C", dir, "-cf", "-", name]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * page.goto, again once when chromium saw the host's interfaces change (ERR_NETWORK_CHANGED):
 * on a shared machine other tests add and remove bridges and veths at any moment.
 */
async function goto(p: Page, url: string): Promise<void> {
  try {
    await p.goto(url);
  } catch (err) {
    if (!/ERR_NETWORK_CHANGED/.test((err as Error).message)) throw err;
    await p.goto(url);
  }
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await ui.stack.api<T>(method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

before(async () => {
  ui = await startUiStack("ui-res");
  registry = await startRegistry();
  const base = join(ui.stack.runtime.base, "res-images");
  const images = await buildTestImages(base);
  await imageWithLayers(images, join(base, "extra"), [tarLayer("hello.txt", "hello\n")]);
  pulledRef = `${registry.host}/corral/layered:1`;
  await pushWithSkopeo(`oci:${join(base, "extra", "layout")}:latest`, pulledRef);
  page = await ui.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("dialog", (d) => void d.accept());
  await logIn(page, ui.stack.url);
});
after(async () => {
  await registry?.stop();
  await ui?.cleanup();
});

test("the images page pulls with per-layer progress, lists the image, removes it", async () => {
  await goto(page, `${ui.stack.url}/images`);
  await page.locator(`tr[data-image='${IMAGE}']`).waitFor();
  await page.getByLabel("Image to pull").fill(pulledRef);
  await page.getByRole("button", { name: "Pull", exact: true }).click();
  const progress = page.getByTestId("pull-progress");
  await progress.getByText(`Pulled ${pulledRef}`).waitFor();
  // One line per blob the runtime reports, each with its state and bytes.
  const lines = await progress.locator(".mono").allTextContents();
  const all = lines.join("\n");
  assert.ok(lines.length >= 2, all);
  assert.ok(
    lines.every((l) => /^[0-9a-f]{12} · (exists|done)/.test(l)),
    all,
  );
  assert.ok(
    lines.some((l) => / · done · .+ \/ .+/.test(l)),
    all,
  );
  const row = page.locator(`tr[data-image='${pulledRef}']`);
  await row.getByText("no container").waitFor();
  await row.getByRole("button", { name: "remove" }).click();
  await row.waitFor({ state: "detached" });
});

test("the same pull over REST streams NDJSON progress lines, then the result", async () => {
  const res = await fetch(`${ui.stack.url}/api/v1/images/pull`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${ui.stack.token}`,
      "content-type": "application/json",
      accept: "application/x-ndjson",
    },
    body: JSON.stringify({ hostId: ui.hostId, ref: pulledRef }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/x-ndjson/);
  const lines = (await res.text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const progress = lines.slice(0, -1) as Array<{
    status: string;
    digest: string;
    progressDetail: { current: number; total: number };
  }>;
  assert.ok(progress.length >= 2, JSON.stringify(lines));
  for (const p of progress) {
    assert.match(p.status, /^(exists|downloading|done)$/);
    assert.match(p.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(typeof p.progressDetail.current, "number");
  }
  assert.ok(new Set(progress.map((p) => p.digest)).size >= 2, JSON.stringify(progress));
  const last = lines.at(-1) as { status: string; image: { repoTags: string[] } };
  assert.equal(last.status, "done");
  assert.deepEqual(last.image.repoTags, [pulledRef]);
});

test("removing an image a container uses is refused in words, with a way to force", async () => {
  await api("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "img-user",
    cmd: ["sleep", "3600"],
  });
  await goto(page, `${ui.stack.url}/images`);
  const row = page.locator(`tr[data-image='${IMAGE}']`);
  await row.getByText(/1 container/).waitFor();
  await row.getByRole("button", { name: "remove", exact: true }).click();
  const alert = row.getByRole("alert");
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? "", /container/i);
  await alert.getByRole("button", { name: /remove anyway/ }).waitFor();
});

test("a network is created with a subnet and removed", async () => {
  await goto(page, `${ui.stack.url}/networks`);
  await page.locator("tr[data-network='bridge']").waitFor();
  await page.getByLabel("Network name").fill("e2e-net");
  await page.getByLabel("Subnet").fill("10.231.9.0/24");
  await page.getByRole("button", { name: "Create network" }).click();
  const row = page.locator("tr[data-network='e2e-net']");
  await row.getByText("10.231.9.0/24").waitFor();
  await row.getByRole("button", { name: "remove" }).click();
  await row.waitFor({ state: "detached" });
});

test("a volume is created and removed", async () => {
  await goto(page, `${ui.stack.url}/volumes`);
  await page.getByLabel("Volume name").waitFor();
  await page.getByLabel("Volume name").fill("e2e-vol");
  await page.getByRole("button", { name: "Create volume" }).click();
  const row = page.locator("tr[data-volume='e2e-vol']");
  await row.getByText("no container").waitFor();
  await row.getByRole("button", { name: "remove" }).click();
  await row.waitFor({ state: "detached" });
});

test("two volumes are removed at once from the bulk bar, each one's result listed", async () => {
  for (const name of ["e2e-bulk-1", "e2e-bulk-2"])
    await api("POST", "/api/v1/volumes", { hostId: ui.hostId, name });
  await goto(page, `${ui.stack.url}/volumes`);
  await page.getByLabel("Filter volumes").fill("e2e-bulk");
  await page.getByLabel("Select e2e-bulk-1 on local", { exact: true }).check();
  await page.getByLabel("Select e2e-bulk-2 on local", { exact: true }).check();
  assert.equal(await page.getByTestId("selected-count").textContent(), "2 selected");
  await page.getByRole("button", { name: "remove 2", exact: true }).click();
  await page.locator(".bulk-results").getByText("remove: 2 done").waitFor();
  for (const name of ["e2e-bulk-1", "e2e-bulk-2"])
    await page.locator(`tr[data-volume='${name}']`).waitFor({ state: "detached" });
  await page.getByText(/No volumes/).waitFor();
});

test("an event appears on the events page without a reload", async () => {
  await goto(page, `${ui.stack.url}/events`);
  await page.locator("tr[data-event]").first().waitFor();
  const c = await api<{ id: string }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "ev-live",
    cmd: ["sleep", "3600"],
  });
  const row = page.locator("tr[data-event='start']", { hasText: "ev-live" });
  await row.waitFor();
  // Filtered by type in the URL: only that type, still live.
  await page.getByLabel("Type").selectOption("die");
  await page.waitForURL(/type=die/);
  await api("POST", `/api/v1/containers/${c.id}/kill`);
  await page
    .locator("tr[data-event='die']", { hasText: "ev-live" })
    .getByText("exit code 137")
    .waitFor();
  assert.equal(await page.locator("tr[data-event='start']").count(), 0);
});

test("bulk stop of two containers; a bulk start lists the one that failed", async () => {
  for (const name of ["bulk-a", "bulk-b"])
    await api("POST", "/api/v1/containers", {
      hostId: ui.hostId,
      image: IMAGE,
      name,
      cmd: ["sleep", "3600"],
    });
  await api("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "bulk-broken",
    cmd: ["/no/such/program"],
    start: false,
  });
  await goto(page, `${ui.stack.url}/containers`);
  await page.getByLabel("Filter containers").fill("bulk-");
  await page.locator("tr[data-container='bulk-b']").getByText("running").waitFor();
  await page.getByLabel("Select bulk-a", { exact: true }).check();
  await page.getByLabel("Select bulk-b", { exact: true }).check();
  await page.getByRole("button", { name: "stop 2", exact: true }).click();
  const results = page.locator(".bulk-results");
  await results.getByText("stop: 2 done").waitFor();
  for (const name of ["bulk-a", "bulk-b"])
    await page
      .locator(`tr[data-container='${name}']`)
      .getByText(/exited/)
      .waitFor();

  // Select all shown (the filter's three), start: one cannot, and says why.
  await page.getByLabel(/^Select all 3 shown/).check();
  await page.getByRole("button", { name: "start 3", exact: true }).click();
  await results.getByText("start: 2 done, 1 failed").waitFor();
  const failed = results.locator("li.failed");
  assert.equal(await failed.count(), 1);
  assert.match((await failed.textContent()) ?? "", /bulk-broken.*no\/such\/program/);
  assert.equal(await page.getByTestId("selected-count").textContent(), "1 selected");
  for (const name of ["bulk-a", "bulk-b"])
    await page.locator(`tr[data-container='${name}']`).getByText("running").waitFor();
});

test("on a phone, where the table's header is hidden, the list sorts from a menu", async () => {
  const context = await ui.browser.newContext({ viewport: { width: 390, height: 844 } });
  const p = await context.newPage();
  await logIn(p, ui.stack.url);
  await goto(p, `${ui.stack.url}/containers`);
  await p.getByLabel("Filter containers").fill("bulk-");
  const names = () =>
    p
      .locator("tr[data-container]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-container")));
  // The rows re-render in the new order: wait for it (up to 5 s), then compare.
  const sortedAs = async (want: string[]): Promise<void> => {
    for (let i = 0; i < 50 && (await names()).join() !== want.join(); i++)
      await p.waitForTimeout(100);
    assert.deepEqual(await names(), want);
  };
  const sortMenu = p.getByLabel("Sort containers");
  await sortMenu.selectOption({ label: "Sort: Name ▼" });
  await sortedAs(["bulk-broken", "bulk-b", "bulk-a"]);
  await sortMenu.selectOption({ label: "Sort: Name ▲" });
  await sortedAs(["bulk-a", "bulk-b", "bulk-broken"]);
  await context.close();
});

test("screenshots of the new pages: wide and narrow, light and dark", async () => {
  mkdirSync(SHOTS, { recursive: true });
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
    p.on("dialog", (d) => void d.accept());
    await logIn(p, ui.stack.url);
    const shoot = async (name: string) => {
      await p.waitForLoadState("networkidle").catch(() => undefined);
      await p.screenshot({ path: `${SHOTS}${name}-${tag}.png`, fullPage: width < 500 });
    };
    await goto(p, `${ui.stack.url}/images`);
    await p.locator(`tr[data-image='${IMAGE}']`).waitFor();
    await shoot("images");
    await goto(p, `${ui.stack.url}/networks`);
    await p.locator("tr[data-network='bridge']").waitFor();
    await shoot("networks");
    await goto(p, `${ui.stack.url}/volumes`);
    await p.getByText(/No volumes/).waitFor();
    await shoot("volumes");
    await goto(p, `${ui.stack.url}/events`);
    await p.locator("tr[data-event]").first().waitFor();
    await shoot("events");
    await goto(p, `${ui.stack.url}/containers`);
    await p.getByLabel("Filter containers").fill("bulk-");
    await p.getByLabel(/^Select all 3 shown/).check();
    await p.getByRole("button", { name: "restart 3" }).click();
    await p.locator(".bulk-results").waitFor();
    await shoot("containers-bulk");
    await context.close();
  }
});
