// The fleet and host pages in Debian's chromium against the real stack: a host's own load
// live (fleet sparkline, host graphs that start from its stored history and move), its facts,
// draining refusing a placement with its reason, a revoked join token refused to an agent, an
// offline host's containers shown as unknown, and a host removed while its containers keep
// running. Screenshots of both pages.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { HOST_STATS_RECENT } from "../apps/web/src/server/services/host-stats.ts";
import { waitFor } from "../apps/web/test/fixtures/stack.ts";
import { startRuntime, type TestRuntime } from "../packages/runtime/test/fixtures/runtime.ts";
import { HOST_NAME, IMAGE, logIn, startUiStack, type UiStack } from "./fixtures.ts";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));
const AGENT_MAIN = fileURLToPath(new URL("../apps/agent/dist/main.js", import.meta.url));

let ui: UiStack;
let page: Page;
let worker: { id: string };
/** a second machine's runtime (its own state root), for the host that is removed */
let machine2: TestRuntime | undefined;

before(async () => {
  ui = await startUiStack("ui-hosts");
  page = await ui.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await logIn(page, ui.stack.url);
  // something for the host to do, so its graph and containers list are not empty
  const r = await ui.stack.api<{ id: string }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "worker",
    cmd: ["sh", "-c", "while true; do sha1sum /bin/busybox >/dev/null; sleep 0.2; done"],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  worker = r.body;
});
after(async () => {
  await ui?.cleanup();
  machine2?.cleanup();
});

const exitOf = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
  });

test("the fleet shows each host's CPU and memory now, with a sparkline that fills", async () => {
  await page.goto(`${ui.stack.url}/`);
  const row = page.locator(`tr[data-host='${HOST_NAME}']`);
  await row.getByTestId("host-cpu").waitFor();
  assert.match((await row.getByTestId("host-cpu").textContent()) ?? "", /^\d+(\.\d+)? %$/);
  const points = async () =>
    Number(await row.getByRole("img", { name: /^CPU of / }).getAttribute("data-points"));
  const first = await points();
  await waitFor("the sparkline grows", async () => (await points()) >= first + 2);
  await row.getByText(/running \/ 1/).waitFor();
  await row.getByText(/^\/ \d+(\.\d+)? GiB$/).waitFor(); // memory: used / total
});

test("the host page shows the host's facts and a graph that moves", async () => {
  await page.locator(`tr[data-host='${HOST_NAME}'] a`).first().click();
  await page.waitForURL(new RegExp(`/hosts/${ui.hostId}$`));
  await page.getByRole("heading", { name: HOST_NAME }).waitFor();
  const facts = page.getByTestId("host-facts");
  await facts.getByText(os.release()).first().waitFor();
  await facts.getByText(new RegExp(`^${os.cpus().length} × `)).waitFor();
  await facts.getByText(/^corral-agent \d/).waitFor();
  await facts.getByText(/^corral-rtd \d/).waitFor();
  const samples = async () =>
    Number(await page.getByTestId("host-stats").getAttribute("data-samples"));
  const before = await samples();
  await waitFor("new samples on the graph", async () => (await samples()) >= before + 3);
  assert.match((await page.getByTestId("host-cpu-now").textContent()) ?? "", /\d %/);
  // uPlot drew a line: its canvas is there, sized to the panel
  assert.ok((await page.locator("[data-testid=host-stats] canvas").count()) >= 2);
  // its containers, and links to its images, networks and volumes
  await page.locator("tr[data-container='worker']").getByText("running").waitFor();
  const images = page.getByRole("link", { name: /images/ });
  assert.equal(await images.getAttribute("href"), `/images?host=${ui.hostId}`);
  await images.getByText(/^\d+$/).waitFor();
  assert.equal(
    await page.getByRole("link", { name: /networks/ }).getAttribute("href"),
    `/networks?host=${ui.hostId}`,
  );
  await page
    .getByRole("link", { name: /volumes/ })
    .getByText(/^\d+$/)
    .waitFor();
});

test("before its first live sample, the host page shows the stored history's newest value", async () => {
  // No socket.io: the live samples never come, the stored history (tRPC over http) does.
  const context = await ui.browser.newContext({
    viewport: { width: 390, height: 844 },
    storageState: await page.context().storageState(),
  });
  const p = await context.newPage();
  await p.route("**/socket.io/**", (route) => route.abort());
  await p.goto(`${ui.stack.url}/hosts/${ui.hostId}`);
  await p.locator("[data-testid=host-stats][data-history=loaded]").waitFor();
  assert.ok(Number(await p.getByTestId("host-stats").getAttribute("data-samples")) > 0);
  assert.match((await p.getByTestId("host-cpu-now").textContent()) ?? "", /^\d+(\.\d+)? %$/);
  await context.close();
});

test("screenshots of the fleet and host pages, wide and narrow, light and dark", async () => {
  mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ["light", "dark"] as const) {
    for (const [width, height, tag] of [
      [1280, 800, "wide"],
      [390, 844, "narrow"],
    ] as const) {
      // the session of the test's page: no login form per shot
      const context = await ui.browser.newContext({
        viewport: { width, height },
        colorScheme: scheme,
        storageState: await page.context().storageState(),
      });
      const p = await context.newPage();
      await p.goto(`${ui.stack.url}/`);
      const suffix = scheme === "dark" ? `${tag}-dark` : tag;
      const row = p.locator(`tr[data-host='${HOST_NAME}']`);
      await row.getByTestId("host-cpu").waitFor();
      await waitFor(
        "a sparkline",
        async () =>
          Number(await row.getByRole("img", { name: /^CPU of / }).getAttribute("data-points")) >= 5,
      );
      await p.screenshot({ path: `${SHOTS}fleet-${suffix}.png`, fullPage: true });
      await p.goto(`${ui.stack.url}/hosts/${ui.hostId}`);
      await waitFor(
        "a few samples on the host's graph",
        async () => Number(await p.getByTestId("host-stats").getAttribute("data-samples")) >= 5,
      );
      await p.locator("tr[data-container='worker']").waitFor();
      await waitFor(
        "both graphs drawn",
        async () => (await p.locator("[data-testid=host-stats] canvas").count()) >= 2,
      );
      await p.screenshot({ path: `${SHOTS}host-${suffix}.png`, fullPage: true });
      // the minute points: averages, their peaks dashed, then the live seconds
      await p.getByRole("button", { name: "1 hour" }).click();
      await p.locator("[data-testid=host-stats][data-range='1h'][data-history=loaded]").waitFor();
      await p.screenshot({ path: `${SHOTS}host-1h-${suffix}.png` });
      await context.close();
    }
  }
});

test("the host page draws the host's stored history at once, then continues live", async () => {
  // More than the last two minutes a watch sends at once (HOST_STATS_RECENT): only the stored
  // history has the older points.
  const history = (range: string) =>
    ui.stack.api<{ points: Array<{ t: number }> }>(
      "GET",
      `/api/v1/hosts/${ui.hostId}/stats?range=${range}`,
    );
  const stored = await waitFor(
    "over two minutes of the host's history",
    async () => {
      const n = (await history("15m")).body.points.length;
      return n >= HOST_STATS_RECENT + 10 && n;
    },
    240_000,
  );
  await page.goto(`${ui.stack.url}/hosts/${ui.hostId}`);
  const graph = page.locator("[data-testid=host-stats][data-history=loaded]");
  await graph.waitFor();
  const samples = async () => Number(await graph.getAttribute("data-samples"));
  const first = await samples();
  assert.ok(first >= stored, `${first} points on the graph right after opening, ${stored} stored`);
  await waitFor("live samples after the history", async () => (await samples()) >= first + 2);
  // a longer range: the stored minutes, then live
  const minutes = (await history("1h")).body.points.length;
  assert.ok(minutes >= 1);
  await page.getByRole("button", { name: "1 hour" }).click();
  const hour = page.locator("[data-testid=host-stats][data-range='1h'][data-history=loaded]");
  await hour.waitFor();
  assert.ok(Number(await hour.getAttribute("data-samples")) >= minutes);
  await page.getByText("1-minute points (average and peak), then live").waitFor();
  // as the toolbar says: the charts draw each minute's peak (dashed) with its average
  await hour.getByLabel("Host CPU: CPU (minute average), CPU (minute peak)").waitFor();
  await hour.getByLabel("Host memory: Memory (average), Memory (peak)").waitFor();
  await page.getByRole("button", { name: "15 min" }).click();
});

test("a draining host refuses a new container with the reason, from the API and the form", async () => {
  await page.goto(`${ui.stack.url}/hosts/${ui.hostId}`);
  await page.getByRole("button", { name: "Drain", exact: true }).click();
  await page.getByLabel(/^Reason/).fill("disk swap at noon");
  await page.getByRole("button", { name: "Drain host" }).click();
  await page.getByRole("heading", { name: HOST_NAME }).waitFor();
  await page.locator(".page-head").getByText("draining", { exact: true }).waitFor();
  await page
    .getByRole("status")
    .getByText(/disk swap at noon/)
    .waitFor();

  const refused = await ui.stack.api<{ error: string }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    cmd: ["true"],
  });
  assert.equal(refused.status, 409);
  assert.equal(
    refused.body.error,
    `host ${HOST_NAME} is draining: disk swap at noon; undrain it or choose another host`,
  );
  // running containers are untouched
  const w = await ui.stack.api<{ state: string }>("GET", `/api/v1/containers/${worker.id}`);
  assert.equal(w.body.state, "running");
  // the form offers no draining host
  await page.goto(`${ui.stack.url}/containers/new`);
  const option = page.locator("select option", { hasText: `${HOST_NAME} (draining)` });
  assert.equal(await option.isDisabled(), true);

  await page.goto(`${ui.stack.url}/hosts/${ui.hostId}`);
  await page.getByRole("button", { name: "Undrain" }).click();
  await page.getByRole("button", { name: "Drain", exact: true }).waitFor();
  const hosts = await ui.stack.api<Array<{ id: string; draining: unknown }>>(
    "GET",
    "/api/v1/hosts",
  );
  assert.equal(hosts.body.find((h) => h.id === ui.hostId)?.draining, null);

  // the same through REST
  const drained = await ui.stack.api<{ draining: { reason: string } | null }>(
    "POST",
    `/api/v1/hosts/${ui.hostId}/drain`,
    { reason: "rack move" },
  );
  assert.equal(drained.status, 200, JSON.stringify(drained.body));
  assert.equal(drained.body.draining?.reason, "rack move");
  const again = await ui.stack.api<{ error: string }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
  });
  assert.equal(again.status, 409);
  assert.match(again.body.error, /is draining: rack move;/);
  const badReason = await ui.stack.api<{ error: string }>(
    "POST",
    `/api/v1/hosts/${ui.hostId}/drain`,
    { reason: "x".repeat(201) },
  );
  assert.equal(badReason.status, 400);
  assert.match(badReason.body.error, /^reason: reason is at most 200 characters/);
  const undrained = await ui.stack.api<{ draining: unknown }>(
    "POST",
    `/api/v1/hosts/${ui.hostId}/undrain`,
  );
  assert.equal(undrained.status, 200);
  assert.equal(undrained.body.draining, null);
  assert.equal((await ui.stack.api("POST", "/api/v1/hosts/nope/drain")).status, 404);
});

test("a join token revoked in the Add host dialog is refused to an agent", async () => {
  await page.goto(`${ui.stack.url}/`);
  await page.getByRole("button", { name: "Add host" }).click();
  await page.getByLabel("Token valid for").selectOption("1");
  await page.getByRole("button", { name: "Make the join command" }).click();
  const command = (await page.getByTestId("join-command").textContent()) ?? "";
  const token = /--token (cjt_\S+)/.exec(command)?.[1];
  assert.ok(token, command);
  await page
    .getByTestId("join-expiry")
    .getByText(/^Expires /)
    .waitFor();
  const tokens = await ui.stack.api<Array<{ id: string; status: string; expiresAt: string }>>(
    "GET",
    "/api/v1/hosts/join-tokens",
  );
  const made = tokens.body[0]!;
  assert.equal(made.status, "usable");
  const hours = (Date.parse(made.expiresAt) - Date.now()) / 3600_000;
  assert.ok(hours > 0.9 && hours <= 1, `expires in ${hours} h`);
  const row = page.locator(`tr[data-token='${made.id}']`);
  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByText("revoked").waitFor();
  // the command on screen goes with it: no revoked token is left to copy
  await page
    .getByRole("status")
    .getByText(/The token made here is revoked/)
    .waitFor();
  assert.equal(await page.getByTestId("join-command").count(), 0);
  await page.screenshot({ path: `${SHOTS}fleet-add-host-wide.png`, fullPage: true });

  const agent = ui.stack.startAgent({ name: "late-host", token });
  assert.equal(await exitOf(agent), 1);
  const hostsAfter = await ui.stack.api<Array<{ name: string }>>("GET", "/api/v1/hosts");
  assert.ok(!hostsAfter.body.some((h) => h.name === "late-host"), "no host joined");
  // the same refusal through the API
  const join = await ui.stack.api<{ error: string }>("POST", "/api/v1/agents/join", {
    token,
    name: "late-host",
    facts: {
      hostname: "x",
      kernel: "",
      os: "",
      arch: "",
      cpus: 1,
      memoryBytes: 1,
      diskBytes: 0,
      diskFreeBytes: 0,
      cgroups: "v1",
      runtimeVersion: "",
      agentVersion: "",
    },
  });
  assert.equal(join.status, 401);
  assert.match(join.body.error, /join token unknown, used or expired/);

  // revoking through REST; an expiry out of bounds is refused naming the field
  const other = await ui.stack.api<{ id: string }>("POST", "/api/v1/hosts/join-tokens", {
    expiresInHours: 48,
  });
  assert.equal(other.status, 200);
  assert.equal(
    (await ui.stack.api("DELETE", `/api/v1/hosts/join-tokens/${other.body.id}`)).status,
    200,
  );
  const listed = await ui.stack.api<Array<{ id: string; status: string }>>(
    "GET",
    "/api/v1/hosts/join-tokens",
  );
  assert.equal(listed.body.find((t) => t.id === other.body.id)?.status, "revoked");
  assert.equal((await ui.stack.api("DELETE", "/api/v1/hosts/join-tokens/nope")).status, 404);
  const tooLong = await ui.stack.api<{ error: string }>("POST", "/api/v1/hosts/join-tokens", {
    expiresInHours: 1000,
  });
  assert.equal(tooLong.status, 400);
  assert.match(tooLong.body.error, /^expiresInHours: .*at most 168/);
});

test("an offline host's containers show as unknown, not running", async () => {
  await page.goto(`${ui.stack.url}/hosts/${ui.hostId}`);
  const state = page.locator("tr[data-container='worker']");
  await state.getByText("running").waitFor();
  ui.agent.kill("SIGKILL");
  await page
    .getByRole("status")
    .getByText(/is offline/)
    .waitFor();
  await state.getByText("unknown").waitFor();
  await page.goto(`${ui.stack.url}/`);
  await page.locator(`tr[data-host='${HOST_NAME}']`).getByText("1 unknown").waitFor();
  ui.agent = ui.stack.startAgent({ name: HOST_NAME });
  await page.locator(`tr[data-host='${HOST_NAME}']`).getByText("1 running / 1").waitFor();
});

test("a removed host: its agent is refused and exits 78, its containers keep running", async () => {
  // a second machine: its own runtime (state root, daemon, bridge) and agent
  machine2 = await startRuntime("ui-hosts-m2");
  const t = await ui.stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens", {
    expiresInHours: 1,
  });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  const startSecond = (token?: string) =>
    spawn(
      process.execPath,
      [
        AGENT_MAIN,
        ...["--server", ui.stack.url, "--name", "second"],
        ...["--data", join(machine2!.base, "agent")],
        ...(token ? ["--token", token] : []),
      ],
      { env: machine2!.env, stdio: ["ignore", "inherit", "inherit"] },
    );
  const second = startSecond(t.body.token);
  const id = await waitFor("the second host online", async () => {
    const hosts = await ui.stack.api<Array<{ id: string; name: string; status: string }>>(
      "GET",
      "/api/v1/hosts",
    );
    return hosts.body.find((h) => h.name === "second" && h.status === "online")?.id;
  });
  const placed = await ui.stack.api<{ id: string; state: string }>("POST", "/api/v1/containers", {
    hostId: id,
    image: IMAGE,
    name: "left-behind",
    cmd: ["sleep", "3600"],
  });
  assert.equal(placed.status, 200, JSON.stringify(placed.body));
  assert.equal(placed.body.state, "running");

  await page.goto(`${ui.stack.url}/hosts/${id}`);
  await page.locator("tr[data-container='left-behind']").getByText("running").waitFor();
  await page.getByRole("button", { name: "Remove host" }).click();
  const dialog = page.getByRole("alertdialog", { name: "Remove this host" });
  await dialog.getByText("keep running on the machine").waitFor();
  await dialog.getByRole("button", { name: "Remove second" }).click();
  await page.waitForURL(`${ui.stack.url}/`);
  await page.locator(`tr[data-host='${HOST_NAME}']`).waitFor();
  assert.equal(await page.locator("tr[data-host='second']").count(), 0);

  assert.equal(await exitOf(second), 78);
  assert.equal((await ui.stack.api("GET", `/api/v1/hosts/${id}`)).status, 404);
  assert.equal((await ui.stack.api("GET", `/api/v1/containers/${placed.body.id}`)).status, 404);
  const inspect = JSON.parse(machine2.rt("inspect", placed.body.id).out) as Array<{
    State: { Status: string };
  }>;
  assert.equal(inspect[0]!.State.Status, "running", "the machine's containers keep running");
  // restarted with its credential, it is refused again
  assert.equal(await exitOf(startSecond()), 78);
  // a viewer's role may not manage hosts: REST refuses
  const v = await ui.stack.api("POST", "/api/v1/users", {
    email: "viewer@example.com",
    password: "viewer password 1",
    role: "viewer",
  });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  const login = await ui.stack.api<{ token: string }>(
    "POST",
    "/api/v1/auth/login",
    { email: "viewer@example.com", password: "viewer password 1" },
    null,
  );
  for (const [method, path] of [
    ["POST", `/api/v1/hosts/${ui.hostId}/drain`],
    ["DELETE", `/api/v1/hosts/${ui.hostId}`],
    ["GET", "/api/v1/hosts/join-tokens"],
  ] as const) {
    const r = await ui.stack.api(method, path, undefined, login.body.token);
    assert.equal(r.status, 403, `${method} ${path}`);
  }
});
