// Access as users meet it, in Debian's chromium against the real stack started with no user:
// first-run setup with the token the server printed, an admin adding a viewer, the viewer
// seeing no control it may not use (and refused when it calls the server anyway), env values
// masked, changing a password, API tokens made and revoked, and the admin's audit log
// following it all live. CORRAL_SCREENSHOTS=1 also saves the access pages (1280 px and 390 px,
// light and dark) to e2e/screenshots/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startStack, waitFor, type Stack } from "../apps/web/test/fixtures/stack.ts";
import { IMAGE } from "./fixtures.ts";

const OWNER = { email: "owner@example.com", password: "owner's long password" };
const VIEWER = { email: "viewer@example.com", password: "viewer's first password" };
const SHOTS = process.env.CORRAL_SCREENSHOTS
  ? fileURLToPath(new URL("./screenshots/", import.meta.url))
  : undefined;

let stack: Stack;
let browser: Browser;
let admin: Page;
let viewerContext: BrowserContext;
let viewer: Page;
let containerId = "";

before(async () => {
  stack = await startStack("ui-access", { firstAdmin: false });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  admin = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  viewerContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  viewer = await viewerContext.newPage();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await stack?.cleanup();
});

/** The page at 1280 px and 390 px, light and dark (only with CORRAL_SCREENSHOTS). */
async function shoot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  for (const [width, height, tag] of [
    [1280, 800, "wide"],
    [390, 844, "narrow"],
  ] as const) {
    for (const scheme of ["light", "dark"] as const) {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({
        path: `${SHOTS}${name}-${tag}${scheme === "dark" ? "-dark" : ""}.png`,
        fullPage: true,
      });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "light" });
}

async function logIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${stack.url}/login`);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

test("first run: the login page leads to setup, which needs the printed token", async () => {
  assert.match(stack.setupToken, /^cst_/);
  await admin.goto(`${stack.url}/`);
  await admin.waitForURL(/\/login/);
  await admin.getByRole("link", { name: "Set up Corral" }).click();
  await admin.waitForURL(/\/setup$/);
  await shoot(admin, "setup");
  await admin.getByLabel("Setup token").fill("cst_guessed");
  await admin.getByLabel("Your email").fill(OWNER.email);
  await admin.getByLabel(/^Password \(12/).fill(OWNER.password);
  await admin.getByLabel("Password again").fill(OWNER.password);
  await admin.getByRole("button", { name: /Create the admin/ }).click();
  await admin
    .getByRole("alert")
    .getByText(/wrong setup token/)
    .waitFor();
  await admin.getByLabel("Setup token").fill(stack.setupToken);
  await admin.getByRole("button", { name: /Create the admin/ }).click();
  await admin.waitForURL((u) => u.pathname === "/");
  await admin.getByRole("heading", { name: "Fleet" }).waitFor();
  // closed now: the page sends everyone to log in
  await viewer.goto(`${stack.url}/setup`);
  await viewer.waitForURL(/\/login/);
  assert.equal(await viewer.getByRole("link", { name: "Set up Corral" }).count(), 0);

  // The rest of the fleet for the tests below: this host's agent and a container with secrets.
  const login = await stack.api<{ token: string }>("POST", "/api/v1/auth/login", OWNER, null);
  stack.token = login.body.token;
  const join = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
  stack.startAgent({ name: "local", token: join.body.token });
  const hostId = await waitFor("the host online", async () => {
    const r = await stack.api<Array<{ id: string; status: string }>>("GET", "/api/v1/hosts");
    return r.body.find((h) => h.status === "online")?.id;
  });
  const c = await stack.api<{ id: string }>("POST", "/api/v1/containers", {
    hostId,
    image: IMAGE,
    name: "app",
    cmd: ["sleep", "3600"],
    env: ["APP_MODE=production", "DB_PASSWORD=hunter2-secret"],
  });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  containerId = c.body.id;
});

test("an admin adds a viewer on the Users page; the last admin cannot be demoted", async () => {
  await admin.getByRole("navigation").getByRole("link", { name: "Users" }).click();
  await admin.getByRole("button", { name: "Add user" }).click();
  await admin.getByLabel("Email").fill(VIEWER.email);
  await admin.locator("form[aria-label='Add a user'] select[name=role]").selectOption("viewer");
  await admin.getByLabel(/^First password/).fill(VIEWER.password);
  await admin.getByRole("button", { name: "Add user" }).click();
  await admin.locator(`tr[data-user='${VIEWER.email}']`).waitFor();
  await admin.getByLabel(`Role of ${OWNER.email}`).selectOption("viewer");
  await admin
    .locator(`tr[data-user='${OWNER.email}']`)
    .getByRole("alert")
    .getByText(/is the last admin: make another user admin first/)
    .waitFor();
  assert.equal(await admin.getByLabel(`Role of ${OWNER.email}`).inputValue(), "admin");
  await shoot(admin, "users");
});

test("a viewer sees no write control, env values masked, and a direct call is refused", async () => {
  await logIn(viewer, VIEWER);
  await viewer.getByRole("heading", { name: "Fleet" }).waitFor();
  await viewer.locator("tr[data-host='local']").waitFor();
  assert.equal(await viewer.getByRole("button", { name: "Add host" }).count(), 0);
  assert.equal(await viewer.getByRole("link", { name: "Users" }).count(), 0);
  await viewer.goto(`${stack.url}/containers`);
  await viewer.locator("tr[data-container='app']").waitFor();
  assert.equal(await viewer.getByRole("link", { name: "New container" }).count(), 0);
  assert.equal(
    await viewer.getByRole("button", { name: /^(stop|restart|remove|start)$/ }).count(),
    0,
  );
  await viewer.goto(`${stack.url}/containers/${containerId}`);
  await viewer.getByTestId("env").getByText("DB_PASSWORD").waitFor();
  assert.equal(await viewer.getByRole("button", { name: /^(stop|restart|remove)$/ }).count(), 0);
  assert.equal(await viewer.getByRole("link", { name: "Terminal" }).count(), 0);
  assert.ok(!(await viewer.content()).includes("hunter2-secret"), "no secret reaches the page");
  assert.ok(!(await viewer.content()).includes("production"), "every value is masked");
  await viewer.getByTestId("env-masked").waitFor();
  await shoot(viewer, "container-viewer");
  // The server refuses what the page does not show.
  const refused = await viewer.evaluate(async (id) => {
    const r = await fetch("/api/trpc/containers.action", {
      method: "POST",
      headers: { "content-type": "application/json", "x-corral-csrf": "1" },
      body: JSON.stringify({ id, action: "stop" }),
    });
    return { status: r.status, body: await r.text() };
  }, containerId);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /FORBIDDEN/);
  await viewer.goto(`${stack.url}/containers/new`);
  await viewer.getByText(/Creating containers is for operators/).waitFor();
  // the admin sees the values
  await admin.goto(`${stack.url}/containers/${containerId}`);
  await admin.getByTestId("env").getByText("hunter2-secret").waitFor();
  await admin.getByRole("link", { name: "Terminal" }).waitFor();
});

test("the viewer changes their password: the current one is checked, other sessions end", async () => {
  // a second session of the viewer (another browser)
  const other = await fetch(`${stack.url}/api/v1/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(VIEWER),
  });
  const otherCookie = (other.headers.get("set-cookie") ?? "").split(";")[0]!;
  const hostsWith = (cookie: string) =>
    fetch(`${stack.url}/api/trpc/hosts.list`, { headers: { cookie } }).then((r) => r.status);
  assert.equal(await hostsWith(otherCookie), 200);

  await viewer.locator(".user-menu summary").click();
  await viewer.getByRole("menuitem", { name: "Change password" }).click();
  await viewer.waitForURL(/\/account$/);
  await viewer.getByLabel("Current password").fill("not my password");
  await viewer.getByLabel(/^New password \(12/).fill("viewer's new password");
  await viewer.getByLabel("New password again").fill("viewer's new password");
  await viewer.getByRole("button", { name: "Change password" }).click();
  await viewer
    .getByRole("alert")
    .getByText(/not your current password/)
    .waitFor();
  await viewer.getByLabel("Current password").fill(VIEWER.password);
  await viewer.getByRole("button", { name: "Change password" }).click();
  await viewer
    .getByRole("status")
    .getByText(/Password changed\. 1 other session logged out/)
    .waitFor();
  // this browser got a renewed cookie; its live socket follows it and is not logged out
  await viewer.waitForTimeout(1000);
  assert.match(viewer.url(), /\/account$/);
  await viewer.getByText("live", { exact: true }).waitFor();
  await shoot(viewer, "account");
  assert.equal(await hostsWith(otherCookie), 401, "the other session ended");
  await viewer.goto(`${stack.url}/`);
  await viewer.getByRole("heading", { name: "Fleet" }).waitFor(); // this one did not
  VIEWER.password = "viewer's new password";
});

test("API tokens: made with the secret shown once, used, revoked; the admin's audit log follows live", async () => {
  await admin.goto(`${stack.url}/audit`);
  await admin.getByRole("heading", { name: "Audit log" }).waitFor();
  await admin.locator("tr[data-action='user.password']").first().waitFor();

  // a CLI's login first: a login token, named after where it came from, for 30 days
  const cli = await stack.api("POST", "/api/v1/auth/login", VIEWER, null);
  assert.equal(cli.status, 200);
  await viewer.goto(`${stack.url}/tokens`);
  const loginRow = viewer.locator("tr[data-kind='login']");
  await loginRow.getByText("login from 127.0.0.1").waitFor();
  assert.match(
    (await loginRow.locator("td[data-label='Expires']").textContent()) ?? "",
    /^in (29|30) d$/,
  );
  await viewer.getByLabel("Token name").fill("ci-deploy");
  await viewer.getByLabel("Expiry").selectOption("90");
  await viewer.getByRole("button", { name: "Create token" }).click();
  const secret = (await viewer.getByTestId("new-token").textContent()) ?? "";
  assert.match(secret, /^cat_/);
  await viewer.getByRole("button", { name: "Copy" }).waitFor();
  const named = viewer.locator("tr[data-token='ci-deploy']");
  await named.waitFor();
  assert.equal(await named.locator("td[data-label='Kind']").textContent(), "named");
  assert.match(
    (await named.locator("td[data-label='Expires']").textContent()) ?? "",
    /^in (89|90) d$/,
  );
  assert.equal((await stack.api("GET", "/api/v1/hosts", undefined, secret)).status, 200);
  await shoot(viewer, "tokens");

  // pushed to the admin's open audit page, no reload
  await admin.locator("tr[data-action='token.create']").getByText("viewer@example.com").waitFor();
  await shoot(admin, "audit");

  viewer.once("dialog", (d) => void d.accept());
  await viewer
    .locator("tr[data-token='ci-deploy']")
    .getByRole("button", { name: "Revoke" })
    .click();
  await named.waitFor({ state: "detached" });
  assert.equal((await stack.api("GET", "/api/v1/hosts", undefined, secret)).status, 401);
  await admin.locator("tr[data-action='token.revoke']").waitFor();
  // the audit detail never carries the env secret of the container made above
  await admin.getByLabel("Filter the audit log").fill("DB_PASSWORD");
  await admin.locator("tr[data-action='container.create']").waitFor();
  assert.ok(!(await admin.content()).includes("hunter2-secret"));

  // Failed logins: the viewer's wrong current password above is one; a wrong password at the
  // login page arrives live, with the email tried and no user.
  await admin.getByLabel("Filter the audit log").fill("");
  await admin.getByLabel("Action").selectOption("user.login.failed");
  const failed = admin.locator("tr[data-action='user.login.failed']");
  await failed.filter({ hasText: "via: password-change" }).waitFor();
  const stranger = await browser.newPage();
  await stranger.goto(`${stack.url}/login`);
  await stranger.getByLabel("Email").fill("owner@example.com");
  await stranger.getByLabel("Password").fill("a guess at the password");
  await stranger.getByRole("button", { name: "Log in" }).click();
  await stranger
    .getByRole("alert")
    .getByText(/wrong email or password/)
    .waitFor();
  await stranger.close();
  const guess = failed
    .filter({ hasText: "owner@example.com" })
    .filter({ hasText: "not logged in" });
  await guess.getByText("wrong password").waitFor();
  assert.equal(await failed.filter({ hasText: "reason: wrong password" }).count(), 2);
  assert.ok(!(await admin.content()).includes("a guess at the password"));
  await shoot(admin, "audit-failed-logins");
});

test("the Tokens page is live: a token made, used and revoked elsewhere shows without a reload, to its owner and admins only", async () => {
  await viewer.goto(`${stack.url}/tokens`);
  await admin.goto(`${stack.url}/tokens`);
  for (const page of [viewer, admin]) await page.getByText("live", { exact: true }).waitFor();
  // the viewer's script makes its own token through REST (no browser involved)
  const cli = await stack.api<{ token: string }>("POST", "/api/v1/auth/login", VIEWER, null);
  assert.equal(cli.status, 200);
  const made = await stack.api<{ id: string; token: string }>(
    "POST",
    "/api/v1/tokens",
    { name: "nightly-backup" },
    cli.body.token,
  );
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const mine = viewer.locator("tr[data-token='nightly-backup']");
  const seenByAdmin = admin.locator("tr[data-token='nightly-backup']");
  await mine.waitFor();
  await seenByAdmin.getByText(VIEWER.email).waitFor(); // an admin sees everyone's
  assert.equal(await mine.locator("td[data-label='Last used']").textContent(), "never");
  // the admin's own new token is not the viewer's to see
  const adminsOwn = await stack.api("POST", "/api/v1/tokens", { name: "admin-only" });
  assert.equal(adminsOwn.status, 200);
  await admin.locator("tr[data-token='admin-only']").waitFor();

  // the script uses it: "last used" moves on both pages
  for (let i = 0; i < 20; i++)
    assert.equal((await stack.api("GET", "/api/v1/hosts", undefined, made.body.token)).status, 200);
  for (const row of [mine, seenByAdmin])
    await row
      .locator("td[data-label='Last used']")
      .getByText(/^\d+ s ago$/)
      .waitFor();

  // revoked through REST (a script, another browser): both open pages drop it
  const revoked = await stack.api(
    "DELETE",
    `/api/v1/tokens/${made.body.id}`,
    undefined,
    cli.body.token,
  );
  assert.equal(revoked.status, 200);
  await mine.waitFor({ state: "detached" });
  await seenByAdmin.waitFor({ state: "detached" });
  // pushed before the revocation, had it been sent to the viewer at all
  assert.equal(await viewer.locator("tr[data-token='admin-only']").count(), 0);
});
