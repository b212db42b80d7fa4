// The whole product for a browser: a private stack (runtime, web server, a real agent joined
// with a join token; apps/web's test fixture) and Debian's chromium driven by playwright-core.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { chromium, type Browser, type Page } from "playwright-core";
import { startStack, waitFor, type Stack } from "../apps/web/test/fixtures/stack.ts";

export const ADMIN = { email: "admin@example.com", password: "correct horse" };
export const HOST_NAME = "local";
export const IMAGE = "corral-test/busybox:latest";

export interface UiStack {
  stack: Stack;
  hostId: string;
  /** the local host's agent (restart it with stack.startAgent({ name: HOST_NAME })) */
  agent: ChildProcess;
  browser: Browser;
  cleanup(): Promise<void>;
}

export async function startUiStack(prefix: string): Promise<UiStack> {
  const stack = await startStack(prefix);
  let browser: Browser | undefined;
  try {
    const join = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
    assert.equal(join.status, 200, JSON.stringify(join.body));
    const agent = stack.startAgent({ name: HOST_NAME, token: join.body.token });
    const hostId = await waitFor("the local host online", async () => {
      const hosts = await stack.api<Array<{ id: string; status: string }>>("GET", "/api/v1/hosts");
      return hosts.body.find((h) => h.status === "online")?.id;
    });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox"],
    });
    const b = browser;
    return {
      stack,
      hostId,
      agent,
      browser: b,
      async cleanup() {
        await b.close();
        await stack.cleanup();
      },
    };
  } catch (err) {
    await browser?.close();
    await stack.cleanup();
    throw err;
  }
}

/**
 * Logs in through the login page, as a user does. A click before React has hydrated the form (a
 * loaded machine) is fine: the form then posts natively to POST /login (no-script.test.ts). A
 * wrong login shows its one-line error: said at once, not waited out as a timeout.
 */
export async function logIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Log in" }).click();
  // the form's own error line (Next.js's route announcer is an alert too, on every page)
  const alert = page.locator(".login [role=alert]").filter({ hasText: /\S/ });
  await Promise.race([
    page.waitForURL((u) => !u.pathname.startsWith("/login")),
    alert.waitFor().then(async () => {
      throw new Error(`logging in failed: ${await alert.innerText()}`);
    }),
  ]);
}
