import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequestFromFlags, parseRestart, parseTmpfs, parseVolume } from "./run-options.js";

test("volume forms: bind, named, anonymous, read-only, nocopy", () => {
  assert.deepEqual(parseVolume("/srv/data:/data:ro"), {
    type: "bind",
    source: "/srv/data",
    target: "/data",
    readOnly: true,
  });
  assert.deepEqual(parseVolume("cache:/cache"), {
    type: "volume",
    source: "cache",
    target: "/cache",
    readOnly: false,
    noCopy: false,
  });
  assert.deepEqual(parseVolume("/scratch"), {
    type: "volume",
    source: "",
    target: "/scratch",
    readOnly: false,
    noCopy: false,
  });
  assert.deepEqual(parseVolume("db:/var/lib/db:ro,nocopy"), {
    type: "volume",
    source: "db",
    target: "/var/lib/db",
    readOnly: true,
    noCopy: true,
  });
  assert.throws(() => parseVolume("/srv:/srv:nocopy"), /nocopy is for volumes, not binds/);
  assert.throws(() => parseVolume("relative"), /must be absolute/);
  assert.throws(() => parseVolume("/a:/b:rx"), /invalid mode "rx"/);
});

test("tmpfs sizes become bytes; unknown options are refused", () => {
  assert.deepEqual(parseTmpfs("/run:size=64m,mode=1777"), {
    type: "tmpfs",
    target: "/run",
    options: `size=${64 * 1024 * 1024},mode=1777`,
  });
  assert.throws(() => parseTmpfs("/run:exec=yes"), /invalid tmpfs option "exec=yes"/);
  assert.throws(() => parseTmpfs("/run:suid"), /invalid tmpfs option "suid"/);
  assert.deepEqual(parseTmpfs("/run:exec,ro"), {
    type: "tmpfs",
    target: "/run",
    options: "exec,ro",
  });
});

test("restart policies", () => {
  assert.deepEqual(parseRestart("on-failure:3"), { name: "on-failure", maximumRetryCount: 3 });
  assert.deepEqual(parseRestart("always"), { name: "always", maximumRetryCount: 0 });
  assert.throws(() => parseRestart("sometimes"), /use no, always/);
});

test("flags map to Docker's meanings", () => {
  process.env.CORRAL_TEST_PASSTHROUGH = "from-host";
  const req = createRequestFromFlags("busybox", ["sh", "-c", "echo hi"], {
    name: "web",
    env: ["A=1", "CORRAL_TEST_PASSTHROUGH", "UNSET_CORRAL_VAR"],
    memory: "64m",
    cpus: "0.5",
    pidsLimit: "20",
    entrypoint: "",
    rm: true,
  });
  assert.equal(req.name, "web");
  assert.deepEqual(req.env, ["A=1", "CORRAL_TEST_PASSTHROUGH=from-host"]);
  assert.equal(req.memoryBytes, 64 * 1024 * 1024);
  assert.equal(req.cpus, 0.5);
  assert.equal(req.pidsLimit, 20);
  assert.deepEqual(req.entrypoint, []);
  assert.deepEqual(req.cmd, ["sh", "-c", "echo hi"]);
  assert.equal(req.autoRemove, true);
});

test("bad values say what to do", () => {
  assert.throws(
    () => createRequestFromFlags("x", [], { memory: "4m" }),
    /Minimum memory limit allowed is 6MB/,
  );
  assert.throws(
    () => createRequestFromFlags("x", [], { memory: "huge" }),
    /use a number with an optional unit/,
  );
  assert.throws(() => createRequestFromFlags("x", [], { cpus: "abc" }), /invalid --cpus/);
  assert.throws(
    () => createRequestFromFlags("x", [], { rm: true, restart: "always" }),
    /Conflicting options/,
  );
  assert.throws(
    () => createRequestFromFlags("x", [], { logOpt: ["max-file=0"] }),
    /max-file is a whole number/,
  );
  assert.throws(
    () => createRequestFromFlags("x", [], { logOpt: ["mode=non-blocking"] }),
    /unknown log opt/,
  );
});
