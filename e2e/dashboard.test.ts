// The dashboard as a user meets it, in Debian's chromium against the real stack: log in, see
// the local host online, run a container from the form, watch a kill on the host reach the
// page without a reload, and type `hostname` into the container's terminal.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Page, Request } from "playwright-core";
import { join } from "node:path";
import { buildTestImages } from "../packages/runtime/test/fixtures/images.ts";
import { freePort } from "../packages/runtime/test/fixtures/ports.ts";
import { pushWithSkopeo, startRegistry } from "../packages/runtime/test/fixtures/registry.ts";
import { CONTAINER_ROW_FIELDS } from "../apps/web/src/server/services/container-row.ts";
import { waitFor } from "../apps/web/test/fixtures/stack.ts";
import { HOST_NAME, IMAGE, logIn, startUiStack, type UiStack } from "./fixtures.ts";

type Row = Record<string, unknown>;

let ui: UiStack;
let page: Page;

before(async () => {
  ui = await startUiStack("ui-e2e");
  page = await ui.browser.newPage({ viewport: { width: 1280, height: 800 } });
});
after(async () => {
  await ui?.cleanup();
});

test("a page without a session goes to the login page; a wrong password is refused in words", async () => {
  await page.goto(`${ui.stack.url}/containers`);
  await page.waitForURL(/\/login/);
  await page.getByLabel("Email").fill("admin@example.com");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").getByText("wrong email or password").waitFor();
});

test("every page carries the security headers", async () => {
  const res = await page.request.get(`${ui.stack.url}/login`);
  const h = res.headers();
  assert.match(h["content-security-policy"] ?? "", /frame-ancestors 'none'/);
  assert.equal(h["x-frame-options"], "DENY");
  assert.equal(h["x-content-type-options"], "nosniff");
});

test("after login the fleet shows the local host online", async () => {
  await logIn(page, ui.stack.url);
  const row = page.locator(`tr[data-host='${HOST_NAME}']`);
  await row.getByText("online").waitFor();
});

test("a container made in the form runs; a kill on the host shows without a reload", async () => {
  await page.goto(`${ui.stack.url}/containers/new`);
  await page.getByLabel(/^Image/).fill(IMAGE);
  await page.getByLabel(/^Name/).fill("e2e-shell");
  await page.getByLabel(/^Command/).fill("sleep 3600");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/containers\/[0-9a-f]{64}$/);
  await page
    .getByRole("heading", { name: /e2e-shell/ })
    .getByText("running")
    .waitFor();

  // A second container, killed behind the dashboard's back with the runtime's own CLI.
  const victim = await ui.stack.api<{ id: string }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "victim",
    cmd: ["sleep", "3600"],
  });
  assert.equal(victim.status, 200, JSON.stringify(victim.body));
  // The list is read once, by the request its HTML preloads, as the list's slim rows.
  const lists: string[] = [];
  const onRequest = (r: Request) => {
    if (r.url().includes("/api/trpc/containers.list")) lists.push(r.url());
  };
  page.on("request", onRequest);
  const answer = page.waitForResponse((r) => r.url().includes("/api/trpc/containers.list"));
  await page.goto(`${ui.stack.url}/containers`);
  const row = page.locator("tr[data-container='victim']");
  await row.getByText("running").waitFor();
  page.off("request", onRequest);
  assert.equal(lists.length, 1, `the list was requested ${lists.length} times: ${lists.join(" ")}`);
  const listed = ((await (await answer).json()) as { result: { data: Row[] } }).result.data;
  const slim = listed.find((c) => c.id === victim.body.id);
  assert.deepEqual(Object.keys(slim ?? {}).sort(), [...CONTAINER_ROW_FIELDS].sort());
  // REST keeps every field (API users read them)
  const rest = await ui.stack.api<Row[]>("GET", "/api/v1/containers");
  const full = rest.body.find((c) => c.id === victim.body.id);
  assert.ok((full?.pid as number) > 0 && Array.isArray(full?.command), JSON.stringify(full));
  const kill = ui.stack.runtime.rt("kill", victim.body.id);
  assert.equal(kill.code, 0, kill.err);
  await row.getByText(/exited \(137\)/).waitFor();
});

test("an image the host cannot pull: the form shows the host's reason", async () => {
  await page.goto(`${ui.stack.url}/containers/new`);
  // Port 9 (discard): the agent's fetch refuses to dial it, so the pull fails at once.
  await page.getByLabel(/^Image/).fill("127.0.0.1:9/nothing:latest");
  await page.getByRole("button", { name: "Create" }).click();
  const alert = page.locator("form").getByRole("alert");
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? "", /127\.0\.0\.1:9/);
  assert.match(page.url(), /\/containers\/new$/);
});

test("a host port another container publishes: the form says so, leaves nothing, keeps every field, and runs once fixed", async () => {
  const port = await freePort();
  const web = await ui.stack.api<{ id: string }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "port-holder",
    cmd: ["sleep", "3600"],
    ports: [{ containerPort: 80, hostPort: port }],
  });
  assert.equal(web.status, 200, JSON.stringify(web.body));
  await page.goto(`${ui.stack.url}/containers/new`);
  const typed: Array<[RegExp, string]> = [
    [/^Image/, IMAGE],
    [/^Name/, "web-2"],
    [/^Command/, "sleep 3600"],
    [/^Environment/, "TZ=UTC\nLOG_LEVEL=info"],
    [/^Ports/, `${port}:80`],
    [/^Memory limit/, "64"],
    [/^CPUs/, "0.5"],
  ];
  for (const [label, value] of typed) await page.getByLabel(label).fill(value);
  await page.getByRole("combobox", { name: /^Restart policy/ }).selectOption("on-failure");
  await page.getByLabel(/^Maximum retries/).fill("3");
  await page.getByRole("button", { name: "Create" }).click();
  const alert = page.locator("form").getByRole("alert");
  await alert.waitFor();
  assert.equal(
    await alert.textContent(),
    `Bind for 0.0.0.0:${port} failed: port is already allocated by container port-holder (${web.body.id.slice(0, 12)}) on this host: choose another host port (nothing was left behind: the container made for this run was removed)`,
  );
  assert.match(page.url(), /\/containers\/new$/);
  // Nothing was left: neither in the list nor on the host.
  const listed = await ui.stack.api<Array<{ name: string }>>("GET", "/api/v1/containers");
  assert.ok(!listed.body.some((c) => c.name === "web-2"), JSON.stringify(listed.body));
  assert.doesNotMatch(ui.stack.runtime.rt("ps", "-a", "--format", "{{.Names}}").out, /web-2/);
  // Every field as the user typed it.
  for (const [label, value] of typed) {
    assert.equal(await page.getByLabel(label).inputValue(), value, String(label));
  }
  assert.equal(
    await page.getByRole("combobox", { name: /^Restart policy/ }).inputValue(),
    "on-failure",
  );
  assert.equal(await page.getByLabel(/^Maximum retries/).inputValue(), "3");
  assert.equal(await page.getByRole("combobox", { name: /^Host/ }).inputValue(), ui.hostId);
  assert.ok(await page.getByLabel("Start it now").isChecked());

  // The user changes the host port only and sends the form again: the same name runs.
  const other = await freePort();
  await page.getByLabel(/^Ports/).fill(`${other}:80`);
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/containers\/[0-9a-f]{64}$/);
  await page.getByRole("heading", { name: /web-2/ }).getByText("running").waitFor();
});

test("an image the host lacks is pulled from a registry, then the container runs", async () => {
  const registry = await startRegistry();
  try {
    const images = await buildTestImages(join(ui.stack.runtime.base, "images"));
    const ref = `${registry.host}/corral/busybox:1`;
    await pushWithSkopeo(`oci:${images.layoutDir}:latest`, ref);
    await page.goto(`${ui.stack.url}/containers/new`);
    await page.getByLabel(/^Image/).fill(ref);
    await page.getByLabel(/^Name/).fill("pulled");
    await page.getByLabel(/^Command/).fill("sleep 3600");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/containers\/[0-9a-f]{64}$/);
    await page
      .getByRole("heading", { name: /pulled/ })
      .getByText("running")
      .waitFor();
  } finally {
    await registry.stop();
  }
});

test("the graphs keep their last minutes when the user switches tabs", async () => {
  await page.goto(`${ui.stack.url}/containers`);
  await page.locator("tr[data-container='e2e-shell'] a").first().click();
  await page.waitForURL(/\/containers\/[0-9a-f]{64}$/);
  await page.getByRole("link", { name: "Stats" }).click();
  const samples = async () => Number(await page.getByTestId("stats").getAttribute("data-samples"));
  await waitFor("three samples", async () => (await samples()) >= 3);
  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("heading", { name: "Configuration" }).waitFor();
  await page.getByRole("link", { name: "Stats" }).click();
  assert.ok((await samples()) >= 3, "the samples seen before are still drawn");
});

test("the terminal is a real shell in the container", async () => {
  await page.goto(`${ui.stack.url}/containers`);
  await page.locator("tr[data-container='e2e-shell'] a").first().click();
  await page.waitForURL(/\/containers\/[0-9a-f]{64}$/);
  const id = page.url().split("/").pop() as string;
  await page.getByRole("link", { name: "Terminal" }).click();
  await page.locator("[data-testid=terminal][data-phase=open]").waitFor();
  await page.keyboard.type("hostname\n");
  // The runtime names a container's host after the first 12 digits of its id (as Docker).
  await page.locator(".xterm-rows").getByText(id.slice(0, 12), { exact: true }).waitFor();

  // The shell ends: the terminal says so and a new one opens on request.
  await page.keyboard.type("exit 7\n");
  const overlay = page.getByTestId("terminal").getByRole("status");
  await overlay.getByText("the shell exited with code 7").waitFor();
  await overlay.getByRole("button", { name: "Reconnect" }).click();
  await page.locator("[data-testid=terminal][data-phase=open]").waitFor();
  await page.keyboard.type("echo again-$((6*7))\n");
  await page.locator(".xterm-rows").getByText("again-42", { exact: true }).waitFor();
});

test("the logs tab shows the lines written before it opened, then new ones live", async () => {
  const made = await ui.stack.api<{ id: string }>("POST", "/api/v1/containers", {
    hostId: ui.hostId,
    image: IMAGE,
    name: "talker",
    cmd: [
      "sh",
      "-c",
      "echo first-line; i=0; while true; i=$((i+1)); do echo tick-$i; sleep 1; done",
    ],
  });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  // The first line is in the log file before the page asks for the tail.
  await waitFor("the first line in the log", async () => {
    const logs = await ui.stack.api<string>("GET", `/api/v1/containers/${made.body.id}/logs`);
    return String(logs.body).includes("first-line");
  });
  await page.goto(`${ui.stack.url}/containers/${made.body.id}?tab=logs`);
  const logs = page.getByTestId("logs");
  await logs.getByText("first-line").waitFor();
  const ticks = [...((await logs.textContent()) ?? "").matchAll(/tick-(\d+)/g)];
  const seen = Math.max(0, ...ticks.map((m) => Number(m[1])));
  await logs.getByText(`tick-${seen + 2}`).waitFor();
});

test("a host whose agent dies shows offline without a reload, then online again", async () => {
  await page.goto(`${ui.stack.url}/`);
  const row = page.locator(`tr[data-host='${HOST_NAME}']`);
  await row.getByText("online").waitFor();
  ui.agent.kill("SIGKILL");
  await row.getByText("offline").waitFor();
  ui.agent = ui.stack.startAgent({ name: HOST_NAME });
  await row.getByText("online").waitFor();
});

test("log out ends the session: the pages ask for a login again, the other tab's at once", async () => {
  // another tab of this session (its cookie), on another page: the logout ends it there too
  const other = await ui.browser.newContext();
  await other.addCookies(await page.context().cookies());
  const tab = await other.newPage();
  await tab.goto(`${ui.stack.url}/containers`);
  await tab.getByText("live", { exact: true }).waitFor();
  await page.goto(`${ui.stack.url}/`);
  await page.getByText("live", { exact: true }).waitFor();
  await page.locator(".user-menu summary").click(); // the user menu holds it
  await page.getByRole("menuitem", { name: "Log out" }).click();
  // the server tells both tabs' live sockets it was a logout: the login page, no way back (next)
  await page.waitForURL(/\/login$/);
  await tab.waitForURL(/\/login$/);
  await other.close();
  const cookies = await page.context().cookies();
  assert.equal(cookies.find((c) => c.name === "corral_session")?.value ?? "", "");
  await page.goto(`${ui.stack.url}/containers`);
  await page.waitForURL(/\/login/);
});
