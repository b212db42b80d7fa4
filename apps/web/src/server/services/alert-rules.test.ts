// The alert rules: which exits are unexpected, how a user's stop or kill (reported before or
// after the die) silences one, OOM kills, hosts that stay away versus agent restarts.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerEvent } from "@corral/protocol";
import { AlertRules, exitAlert } from "./alert-rules.ts";

const ID = "a".repeat(64);
const ev = (type: ContainerEvent["type"], over: Partial<ContainerEvent> = {}): ContainerEvent => ({
  type,
  id: ID,
  name: "web",
  image: "busybox",
  time: "2026-12-03T00:00:00Z",
  ...over,
});

test("exitAlert: non-zero, unknown and OOM exits alert; clean exits and user actions do not", () => {
  assert.equal(exitAlert({ exitCode: 1, oomKilled: false, userAsked: false }), "container-died");
  assert.equal(exitAlert({ exitCode: 137, oomKilled: false, userAsked: false }), "container-died");
  assert.equal(exitAlert({ exitCode: null, oomKilled: false, userAsked: false }), "container-died");
  assert.equal(exitAlert({ exitCode: 0, oomKilled: false, userAsked: false }), null);
  assert.equal(exitAlert({ exitCode: 143, oomKilled: false, userAsked: true }), null);
  assert.equal(exitAlert({ exitCode: 137, oomKilled: true, userAsked: true }), "container-oom");
});

test("a die waits for the grace: alone it alerts, followed by a stop it does not", () => {
  const r = new AlertRules(2000, 30_000);
  r.containerEvent("h", ev("die", { exitCode: 2 }), 1000);
  assert.deepEqual(r.due(2999), [], "still within the grace");
  const [a, ...rest] = r.due(3000);
  assert.equal(rest.length, 0);
  assert.equal(a?.kind, "container-died");
  assert.equal(a?.container?.exitCode, 2);
  assert.equal(a?.container?.name, "web");
  assert.deepEqual(r.due(10_000), [], "once only");

  // a user's stop (and restart, which is a stop): the runtime reports the stop after the die
  r.containerEvent("h", ev("die", { exitCode: 143 }), 20_000);
  r.containerEvent("h", ev("stop"), 20_010);
  assert.deepEqual(r.due(30_000), []);
  // rm -f of a running container: kill, then die, then destroy
  r.containerEvent("h", ev("die", { exitCode: 137 }), 40_000);
  r.containerEvent("h", ev("destroy"), 40_050);
  assert.deepEqual(r.due(50_000), []);
});

test("a user's kill before the die silences it; a later unexplained die still alerts", () => {
  const r = new AlertRules(2000, 30_000);
  r.containerEvent("h", ev("kill", { signal: "SIGKILL" }), 0);
  r.containerEvent("h", ev("die", { exitCode: 137 }), 5);
  assert.deepEqual(r.due(10_000), []);
  // started again, later killed from outside Corral (kill -9 of its pid, the OOM killer...)
  r.containerEvent("h", ev("start"), 20_000);
  r.containerEvent("h", ev("die", { exitCode: 137 }), 30_000);
  assert.equal(r.due(32_000)[0]?.kind, "container-died");
});

test("an OOM kill alerts at once, once, even while the container was being stopped", () => {
  const r = new AlertRules(2000, 30_000);
  r.containerEvent("h", ev("oom"), 0);
  r.containerEvent("h", ev("die", { exitCode: 137, oomKilled: true }), 1);
  const due = r.due(1);
  assert.equal(due.length, 1);
  assert.equal(due[0]?.kind, "container-oom");
  assert.equal(due[0]?.container?.oomKilled, true);
});

test("a clean exit is no alert", () => {
  const r = new AlertRules(2000, 30_000);
  r.containerEvent("h", ev("die", { exitCode: 0 }), 0);
  assert.deepEqual(r.due(60_000), []);
});

test("a host offline past the grace alerts; one back within it (agent restart) does not", () => {
  const r = new AlertRules(2000, 30_000);
  r.hostOffline("h1", 0);
  r.hostOffline("h2", 0);
  r.hostOnline("h2");
  assert.deepEqual(r.due(29_999), []);
  const due = r.due(30_000);
  assert.deepEqual(
    due.map((d) => [d.kind, d.hostId]),
    [["host-offline", "h1"]],
  );
  assert.deepEqual(r.due(90_000), []);
});
