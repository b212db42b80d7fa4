// The login and setup forms sent before React hydrates them (a slow phone, a busy server) or
// with JavaScript off, in Debian's chromium: a native POST that logs in as the JSON login does
// (cookie, audit, ?next=), shows the one-line error on the page, and never puts a password or
// the setup token in a URL. Before, such a form was a GET of /login?email=…&password=….
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startWebStack, type WebStack } from "../apps/web/test/fixtures/stack.ts";

const OWNER = { email: "owner@example.com", password: "owner's long password" };

let stack: WebStack;
let browser: Browser;
/** every URL each page asked for: none may carry a secret */
const asked: string[] = [];

before(async () => {
  stack = await startWebStack("ui-no-script", { firstAdmin: false });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
});
after(async () => {
  await browser?.close();
  await stack?.cleanup();
});

async function page(context: BrowserContext): Promise<Page> {
  const p = await context.newPage();
  p.on("request", (r) => asked.push(r.url()));
  return p;
}

function assertNoSecretInUrls(...secrets: string[]): void {
  for (const url of asked) {
    for (const secret of secrets) {
      assert.ok(!decodeURIComponent(url).includes(secret), `a secret in a URL: ${url}`);
    }
  }
}

test("setup with JavaScript off: a wrong token says so, the right one logs the admin in", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const p = await page(context);
  await p.goto(`${stack.url}/setup`);
  const fill = async (token: string) => {
    await p.getByLabel("Setup token").fill(token);
    await p.getByLabel("Your email").fill(OWNER.email);
    await p.getByLabel("Password (12 characters or more)").fill(OWNER.password);
    await p.getByLabel("Password again").fill(OWNER.password);
    await p.getByRole("button", { name: "Create the admin and log in" }).click();
  };
  await fill("cst_not-the-printed-one");
  await p.waitForURL(/\/setup\?error=/);
  assert.match(await p.getByRole("alert").innerText(), /wrong setup token/);
  await fill(stack.setupToken);
  await p.waitForURL((u) => u.pathname === "/");
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === "corral_session" && c.httpOnly));
  assertNoSecretInUrls(OWNER.password, stack.setupToken);
  await context.close();
});

test("login with JavaScript off: the one-line error, then ?next= with a session", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const p = await page(context);
  await p.goto(`${stack.url}/login?next=/events`);
  await p.getByLabel("Email").fill(OWNER.email);
  await p.getByLabel("Password").fill("not the password");
  await p.getByRole("button", { name: "Log in" }).click();
  await p.waitForURL(/\/login\?error=/);
  assert.equal(await p.getByRole("alert").innerText(), "wrong email or password");
  await p.getByLabel("Email").fill(OWNER.email);
  await p.getByLabel("Password").fill(OWNER.password);
  await p.getByRole("button", { name: "Log in" }).click();
  await p.waitForURL((u) => u.pathname === "/events");
  assertNoSecretInUrls(OWNER.password, "not the password");

  // Audited as the JSON login is: the failure with the email tried, then the login.
  const audit = await context.request.get(`${stack.url}/api/v1/audit?action=user.`);
  assert.equal(audit.status(), 200);
  const { entries } = (await audit.json()) as {
    entries: Array<{ action: string; detail: { via?: string; reason?: string } }>;
  };
  assert.deepEqual(
    entries.map((e) => [e.action, e.detail.via, e.detail.reason]),
    [
      ["user.login", "session", undefined],
      ["user.login.failed", "session", "wrong password"],
    ],
  );
  await context.close();
});

test("login sent before the page's scripts have run: the same native POST logs in", async () => {
  const context = await browser.newContext();
  const p = await page(context);
  // Scripts held back: the page as a user on a slow line sees it before hydration.
  await p.route("**/_next/static/**/*.js", () => undefined);
  await p.goto(`${stack.url}/login?next=/audit`, { waitUntil: "domcontentloaded" });
  await p.getByLabel("Email").fill(OWNER.email);
  await p.getByLabel("Password").fill(OWNER.password);
  await p.getByRole("button", { name: "Log in" }).click();
  // "commit": the held scripts would keep the next page from its load event
  await p.waitForURL((u) => u.pathname === "/audit", { waitUntil: "commit" });
  assertNoSecretInUrls(OWNER.password);
  await context.close();
});

test("a login form posted from another site is refused (login CSRF)", async () => {
  const res = await fetch(`${stack.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: "https://evil.example",
      "sec-fetch-site": "cross-site",
    },
    body: new URLSearchParams({ email: OWNER.email, password: OWNER.password }),
  });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("set-cookie"), null);
  assert.match(res.headers.get("location") ?? "", /^\/login\?error=.*this\+site/);
});
