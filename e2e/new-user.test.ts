// A new user's first ten minutes, on the real `npm start` (scripts/start.sh) with a fresh
// CORRAL_DATA and PORT: log in, see the local host, pull an image from a registry with
// progress, run a container, type `hostname` in its terminal, watch its graph move, add a
// second host with the command the page shows (on this machine: with --runtime private and
// its own --data/--name), run a container there, stop and remove it, kill -9 that agent and
// see the host offline (its containers unknown) then online. Ctrl-C of `npm start` then
// leaves no web server or agent running; the test removes its runtimes and containers.
// Screenshots of each step: e2e/screenshots/new-user-*.png (README's walk-through).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildTestImages } from "../packages/runtime/test/fixtures/images.ts";
import {
  freePort,
  pushWithSkopeo,
  startRegistry,
  type TestRegistry,
} from "../packages/runtime/test/fixtures/registry.ts";
import { containerCgroups, removeRuntime } from "../packages/runtime/test/fixtures/runtime.ts";
import { cgroupParent, runtimePaths } from "../packages/runtime/src/paths.ts";
import { waitFor } from "../apps/web/test/fixtures/stack.ts";
import { ADMIN, logIn } from "./fixtures.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));
const LOCAL = hostname(); // npm start names the local host after the machine
const SECOND = "second";

let work: string;
let registry: TestRegistry;
let imageRef: string;
let url: string;
let npmStart: ChildProcess;
let startLog = "";
let browser: Browser;
let page: Page;
let joinCommand = "";
let containerId = "";
const frames: string[] = [];
/** Each runtime of the test, as CORRAL_ROOT names it (run dir, cgroup parent follow). */
const roots = { local: "", second: "" };
const secondData = () => join(work, "second");
const AGENT_BIN = join(REPO, "apps/agent/bin/corral-agent.mjs");

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
  });
}

/** Whether any process of the group `pgid` lives (npm start's children are in its group). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids whose command line has every one of `parts` (the second agent, by its --data). */
function pidsWith(...parts: string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (parts.every((p) => cmd.includes(p))) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** The command from the page, run as a user runs it in a shell at the checkout's root. */
function runShown(command: string): ChildProcess {
  const env = { ...process.env };
  delete env.CORRAL_ROOT; // the flag alone must give it its own runtime
  delete env.CORRAL_RUN;
  return spawn("bash", ["-c", command], {
    cwd: REPO,
    env,
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
  });
}
let secondAgent: ChildProcess | undefined;

async function shoot(name: string, target: Page = page): Promise<void> {
  await target.waitForLoadState("networkidle").catch(() => undefined);
  await target.screenshot({ path: `${SHOTS}new-user-${name}.png` });
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), "corral-new-user-"));
  roots.local = join(work, "local-runtime");
  roots.second = join(secondData(), "runtime");
  registry = await startRegistry();
  const images = await buildTestImages(join(work, "images"));
  imageRef = `${registry.host}/corral/busybox:1`;
  await pushWithSkopeo(`oci:${images.layoutDir}:latest`, imageRef);

  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // The test's runtime config: none of the machine's (a `bip` there would be shared).
  const config = join(work, "runtime.json");
  writeFileSync(config, "{}\n");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    CORRAL_DATA: join(work, "web"),
    CORRAL_ADMIN_EMAIL: ADMIN.email,
    CORRAL_ADMIN_PASSWORD: ADMIN.password,
    // The local host's runtime is the test's own, not the machine's /var/lib/corral.
    CORRAL_ROOT: roots.local,
    CORRAL_CONFIG: config,
  };
  delete env.DATABASE_URL;
  delete env.CORRAL_RUN;
  process.env.CORRAL_CONFIG = config; // the second agent's daemon too
  npmStart = spawn("npm", ["start"], {
    cwd: REPO,
    env,
    detached: true, // its own process group, as a terminal's Ctrl-C reaches
    stdio: ["ignore", "pipe", "pipe"],
  });
  npmStart.stdout!.on("data", (d: Buffer) => (startLog += d.toString()));
  npmStart.stderr!.on("data", (d: Buffer) => (startLog += d.toString()));
  await waitFor(
    "npm start to print how to log in",
    () => {
      assert.equal(npmStart.exitCode, null, `npm start exited: ${startLog}`);
      return startLog.includes("corral: open") || undefined;
    },
    600_000,
  );
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("dialog", (d) => void d.accept());
  page.on("websocket", (ws) =>
    ws.on("framereceived", (f) => frames.push(typeof f.payload === "string" ? f.payload : "")),
  );
});

after(async () => {
  await browser?.close();
  if (npmStart && groupAlive(npmStart.pid!)) {
    process.kill(-npmStart.pid!, "SIGKILL");
  }
  for (const pid of work ? pidsWith("--data", secondData()) : []) process.kill(pid, "SIGKILL");
  for (const root of Object.values(roots)) if (root) removeRuntime({ CORRAL_ROOT: root });
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("log in: the fleet shows the local host online", async () => {
  await page.goto(`${url}/login`);
  await shoot("1-login");
  await logIn(page, url);
  await page.locator(`tr[data-host='${LOCAL}']`).getByText("online").waitFor();
  await shoot("2-fleet");
});

test("a container from the form: its image pulled from the registry with progress, then running", async () => {
  await page.goto(`${url}/containers/new`);
  await page.getByLabel(/^Image/).fill(imageRef);
  await page.getByRole("combobox", { name: /^Host/ }).selectOption({ label: LOCAL });
  await page.getByLabel(/^Name/).fill("hello");
  // Some CPU so that its graph moves.
  await page
    .getByLabel(/^Command/)
    .fill(`sh -c "while true; do sha1sum /bin/busybox >/dev/null; sleep 0.2; done"`);
  await shoot("3-new-container");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/containers\/[0-9a-f]{64}$/);
  containerId = page.url().split("/").pop() as string;
  await page.getByRole("heading", { name: /hello/ }).getByText("running").waitFor();
  // The progress the form drew came pushed over the page's socket, layer by layer.
  const progress = frames.filter((f) => f.includes("pull:progress") && f.includes(imageRef));
  assert.ok(progress.length > 0, "pull progress reached the page");
  assert.ok(
    progress.some((f) => /"status":"(downloading|done)"/.test(f)),
    progress.join("\n"),
  );
  await shoot("4-container");
});

test("its terminal answers `hostname` with the container's name for itself", async () => {
  await page.getByRole("link", { name: "Terminal" }).click();
  await page.locator("[data-testid=terminal][data-phase=open]").waitFor();
  await page.keyboard.type("hostname\n");
  await page.locator(".xterm-rows").getByText(containerId.slice(0, 12), { exact: true }).waitFor();
  await shoot("5-terminal");
});

test("its graph moves: new samples arrive while the page is open", async () => {
  await page.getByRole("link", { name: "Stats" }).click();
  const samples = async () => Number(await page.getByTestId("stats").getAttribute("data-samples"));
  const first = await waitFor("a first sample", async () => (await samples()) || undefined);
  await waitFor("three more samples", async () => (await samples()) >= first + 3);
  await page.getByTestId("cpu-now").filter({ hasNotText: "…" }).waitFor();
  await shoot("6-stats");
});

test("a second host joins with the command the page shows", async () => {
  await page.goto(`${url}/`);
  await page.getByRole("button", { name: "Add host" }).click();
  await page.getByRole("button", { name: "Make the join command" }).click();
  joinCommand = (await page.getByTestId("join-command").textContent()) ?? "";
  assert.match(joinCommand, new RegExp(`^npm run agent -- --server ${url} --token cjt_\\S+$`));
  await page.getByTestId("join-same-machine").waitFor();
  await shoot("7-add-host");
  // On this same machine: the flags the page names beside it, with this test's own paths.
  secondAgent = runShown(
    `${joinCommand} --runtime private --name ${SECOND} --data ${secondData()}`,
  );
  await page.getByRole("button", { name: "Done" }).click();
  await page.locator(`tr[data-host='${SECOND}']`).getByText("online").waitFor();
  await shoot("8-two-hosts");
});

test("a container placed on the second host runs there; stop and remove it from the list", async () => {
  await page.goto(`${url}/containers/new`);
  await page.getByLabel(/^Image/).fill(imageRef);
  await page.getByRole("combobox", { name: /^Host/ }).selectOption({ label: SECOND });
  await page.getByLabel(/^Name/).fill("there");
  await page.getByLabel(/^Command/).fill("sleep 3600");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/containers\/[0-9a-f]{64}$/);
  const id = page.url().split("/").pop() as string;
  await page.getByRole("heading", { name: /there/ }).getByText("running").waitFor();
  // in the second agent's own runtime, under its own cgroup parent
  assert.ok(containerCgroups(cgroupParent(roots.second)).includes(id));
  assert.ok(!containerCgroups(cgroupParent(roots.local)).includes(id));

  await page.goto(`${url}/containers`);
  const row = page.locator("tr[data-container='there']");
  await row.getByText("running").waitFor();
  await shoot("9-containers");
  await row.getByRole("button", { name: "stop" }).click();
  await row.getByText(/exited/).waitFor();
  await row.getByRole("button", { name: "remove" }).click(); // the confirm is accepted
  await row.waitFor({ state: "detached" });
  assert.ok(!containerCgroups(cgroupParent(roots.second)).includes(id));
});

test("kill -9 of the second agent: offline, its containers unknown, then online when it is back", async () => {
  const hosts = await api<Array<{ id: string; name: string }>>("GET", "/api/v1/hosts");
  const second = hosts.find((h) => h.name === SECOND);
  assert.ok(second);
  await api("POST", "/api/v1/containers", {
    hostId: second.id,
    image: imageRef,
    name: "steady",
    cmd: ["sleep", "3600"],
  });
  await page.goto(`${url}/`);
  const host = page.locator(`tr[data-host='${SECOND}']`);
  await host.getByText("online").waitFor();
  const [pid, ...more] = pidsWith(AGENT_BIN, "--data", secondData());
  assert.ok(pid && more.length === 0, "one agent process");
  process.kill(pid, "SIGKILL");
  await host.getByText("offline").waitFor();
  await shoot("10-host-offline");
  await page.goto(`${url}/containers`);
  await page.locator("tr[data-container='steady']").getByText("unknown").waitFor();
  await shoot("11-containers-unknown");
  await exited(secondAgent!);
  // The same line without the token: the agent kept its credential in --data.
  secondAgent = runShown(
    `${joinCommand.replace(/ --token \S+/, "")} --runtime private --name ${SECOND} --data ${secondData()}`,
  );
  await page.locator("tr[data-container='steady']").getByText("running").waitFor();
  await page.goto(`${url}/`);
  await host.getByText("online").waitFor();
  // The two hosts at a phone's width, in dark mode.
  const phone = await browser.newPage({
    viewport: { width: 390, height: 844 },
    colorScheme: "dark",
  });
  await logIn(phone, url);
  await phone.locator(`tr[data-host='${SECOND}']`).getByText("online").waitFor();
  await shoot("12-fleet-phone-dark", phone);
  await phone.close();
});

test("Ctrl-C of npm start stops its web server and agent; the test's runtimes go with nothing left", async () => {
  const pgid = npmStart.pid!;
  process.kill(-pgid, "SIGINT"); // what a terminal's Ctrl-C sends to the foreground group
  await exited(npmStart);
  await waitFor("no process of npm start's group", () => !groupAlive(pgid));
  await assert.rejects(fetch(`${url}/api/v1/health`), "the web server is gone");
  for (const pid of pidsWith("--data", secondData())) process.kill(pid, "SIGTERM");
  await waitFor("the second agent gone", () => pidsWith("--data", secondData()).length === 0);
  // npm start leaves containers and their daemon running by design (README); the test's own
  // runtimes go now, and with them every container and cgroup they had.
  const daemons = Object.values(roots).map((root) =>
    Number(readFileSync(join(runtimePaths({ CORRAL_ROOT: root }).run, "rtd.pid"), "utf8")),
  );
  for (const root of Object.values(roots)) removeRuntime({ CORRAL_ROOT: root });
  for (const pid of daemons)
    await waitFor(`corral-rtd ${pid} gone`, () => !existsSync(`/proc/${pid}`));
  for (const root of Object.values(roots))
    assert.deepEqual(containerCgroups(cgroupParent(root)), [], root);
});
