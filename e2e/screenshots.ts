// `npm run screenshots -w e2e`: every page at 1280 px and at a phone's 375 px, light and dark,
// against a private stack with a few containers, saved to e2e/screenshots/*.png (README).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { IMAGE, logIn, startUiStack } from "./fixtures.ts";

const OUT = fileURLToPath(new URL("./screenshots/", import.meta.url));
mkdirSync(OUT, { recursive: true });

const ui = await startUiStack("ui-shots");
const { stack, hostId } = ui;
try {
  const make = async (body: object) => {
    const r = await stack.api<{ id: string }>("POST", "/api/v1/containers", {
      hostId,
      image: IMAGE,
      ...body,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.id;
  };
  const web = await make({
    name: "web-1",
    cmd: [
      "sh",
      "-c",
      'i=0; while true; do i=$((i+1)); echo "request $i served in $((i % 7)) ms"; sleep 1; done',
    ],
    memoryBytes: 64 * 1024 * 1024,
  });
  await make({
    name: "worker",
    cmd: ["sh", "-c", "while true; do sha1sum /bin/busybox >/dev/null; sleep 0.2; done"],
  });
  await make({ name: "migrate-db", cmd: ["sh", "-c", "echo migrating; exit 3"] });
  await make({ name: "spare", cmd: ["sleep", "3600"], start: false });

  const shoot = async (page: Page, name: string) => {
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await page.screenshot({ path: `${OUT}${name}.png` });
  };
  for (const [width, height, tag, scheme] of [
    [1280, 800, "wide", "light"],
    [375, 812, "narrow", "light"],
    [1280, 800, "wide-dark", "dark"],
  ] as const) {
    const context = await ui.browser.newContext({
      viewport: { width, height },
      colorScheme: scheme,
    });
    const page = await context.newPage();
    const only = (names: string[]) =>
      tag !== "wide-dark" || names.some((n) => ["fleet", "container-stats"].includes(n));
    await page.goto(`${stack.url}/login`);
    if (only(["login"])) await shoot(page, `login-${tag}`);
    await logIn(page, stack.url);
    await page.getByText("connected").first().waitFor();
    if (only(["fleet"])) await shoot(page, `fleet-${tag}`);
    if (tag === "wide") {
      await page.getByRole("button", { name: "Add host" }).click();
      await page.getByRole("button", { name: "Make the join command" }).click();
      await page.getByTestId("join-command").waitFor();
      await shoot(page, `fleet-add-host-${tag}`);
    }
    if (only(["containers"])) {
      await page.goto(`${stack.url}/containers`);
      await page.locator("tr[data-container='web-1']").waitFor();
      await shoot(page, `containers-${tag}`);
      await page.goto(`${stack.url}/containers/new`);
      await page.getByLabel(/^Image/).waitFor();
      await shoot(page, `container-new-${tag}`);
      await page.goto(`${stack.url}/containers/${web}`);
      await page.getByRole("heading", { name: /web-1/ }).waitFor();
      await shoot(page, `container-overview-${tag}`);
    }
    await page.goto(`${stack.url}/containers/${web}?tab=stats`);
    await page.getByTestId("cpu-now").filter({ hasNotText: "…" }).waitFor();
    await page.waitForTimeout(6000); // a few 1 Hz samples on the graphs
    await shoot(page, `container-stats-${tag}`);
    if (only(["logs"])) {
      await page.goto(`${stack.url}/containers/${web}?tab=logs`);
      await page.getByTestId("logs").getByText("request").first().waitFor();
      await shoot(page, `container-logs-${tag}`);
      await page.goto(`${stack.url}/containers/${web}?tab=terminal`);
      await page.locator("[data-testid=terminal][data-phase=open]").waitFor();
      await page.keyboard.type("hostname; ls /\n");
      await page.waitForTimeout(1000);
      await shoot(page, `container-terminal-${tag}`);
    }
    await context.close();
  }
  // The host goes away: what the containers page says then.
  ui.agent.kill("SIGKILL");
  const context = await ui.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await logIn(page, stack.url);
  await page.goto(`${stack.url}/containers`);
  await page.getByText(/is offline: the state of its containers is unknown/).waitFor();
  await shoot(page, "containers-host-offline-wide");
  await context.close();
  console.log(`screenshots in ${OUT}`);
} finally {
  await ui.cleanup();
}
