import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  loadRuntimeConfig,
  matchesInsecure,
  parseRuntimeConfig,
  splitHost,
} from "./runtime-config.js";

const FILE = "/etc/corral/runtime.json";

function refusal(document: unknown): string {
  try {
    parseRuntimeConfig(document, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /\n/);
    return err.message;
  }
  assert.fail("expected a ConfigError");
}

test("a full Docker-style file parses and normalizes", () => {
  const config = parseRuntimeConfig(
    {
      "registry-mirrors": ["https://mirror.example.com/", "http://127.0.0.1:5001/cache"],
      "insecure-registries": ["Registry.LAN:5000", "10.0.0.0/8", "[::1]:5000"],
      bip: "172.26.0.1/16",
    },
    FILE,
  );
  assert.deepEqual(config.registryMirrors, [
    "https://mirror.example.com",
    "http://127.0.0.1:5001/cache",
  ]);
  assert.deepEqual(config.insecureRegistries, ["registry.lan:5000", "10.0.0.0/8", "[::1]:5000"]);
  assert.deepEqual(config.bip, {
    cidr: "172.26.0.1/16",
    address: "172.26.0.1",
    subnet: "172.26.0.0/16",
    prefix: 16,
  });
  assert.equal(config.path, FILE);
});

test("an empty object is the defaults", () => {
  const config = parseRuntimeConfig({}, FILE);
  assert.deepEqual(config.registryMirrors, []);
  assert.deepEqual(config.insecureRegistries, []);
  assert.equal(config.bip, undefined);
});

test("unknown keys are refused, naming the key and the file", () => {
  assert.equal(
    refusal({ "registry-mirror": [] }),
    `unknown key "registry-mirror" in ${FILE} (known keys: registry-mirrors, insecure-registries, bip)`,
  );
  assert.match(refusal({ "default-registry": "r.example" }), /"default-registry".*docker\.io/);
});

test("bad values name the key and say what is expected", () => {
  assert.match(
    refusal({ "registry-mirrors": "https://m" }),
    /^invalid "registry-mirrors" in \/etc\/corral\/runtime\.json: .*array/,
  );
  assert.match(
    refusal({ "registry-mirrors": ["ftp://m"] }),
    /"registry-mirrors"\[0\].*http:\/\/ or https:\/\//,
  );
  assert.match(refusal({ "registry-mirrors": ["https://u:p@m"] }), /credentials/);
  assert.match(refusal({ "registry-mirrors": ["not a url"] }), /not a URL/);
  assert.match(
    refusal({ "insecure-registries": ["http://r:5000"] }),
    /"insecure-registries"\[0\].*without a scheme/,
  );
  assert.match(refusal({ "insecure-registries": ["10.0.0.0/40"] }), /not a valid CIDR/);
  assert.match(refusal({ "insecure-registries": ["bad_host!"] }), /not a valid host/);
  assert.match(refusal({ "insecure-registries": ["r:99999"] }), /not a valid host/);
  assert.match(refusal({ bip: "172.26.0.0/16" }), /"bip".*network or broadcast.*172\.26\.0\.1\/16/);
  assert.match(refusal({ bip: "172.26.0.1" }), /"bip".*prefix/);
  assert.match(refusal({ bip: "300.1.1.1/16" }), /"bip"/);
  assert.match(refusal({ bip: 5 }), /"bip"/);
  assert.match(refusal([]), /must hold a JSON object/);
});

test("loadRuntimeConfig: default path may be missing, CORRAL_CONFIG must exist, bad JSON is one line", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-config-"));
  try {
    const missing = join(dir, "missing.json");
    assert.throws(
      () => loadRuntimeConfig({ CORRAL_CONFIG: missing }),
      (err: Error) => {
        assert.match(err.message, /^cannot read configuration .*missing\.json: no such file/);
        return true;
      },
    );
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ nope");
    assert.throws(() => loadRuntimeConfig({ CORRAL_CONFIG: bad }), /bad\.json is not valid JSON/);
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ "insecure-registries": ["r.lan"] }));
    assert.deepEqual(loadRuntimeConfig({ CORRAL_CONFIG: good }).insecureRegistries, ["r.lan"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("matchesInsecure: host, host:port and CIDR entries", () => {
  const entries = ["r.lan", "s.lan:5000", "10.1.0.0/16", "fd00::/8"];
  assert.ok(matchesInsecure("r.lan:443", entries));
  assert.ok(matchesInsecure("R.LAN", entries));
  assert.ok(matchesInsecure("s.lan:5000", entries));
  assert.ok(!matchesInsecure("s.lan:5001", entries));
  assert.ok(matchesInsecure("10.1.2.3:5000", entries));
  assert.ok(!matchesInsecure("10.2.0.1", entries));
  assert.ok(matchesInsecure("[fd00::1]:5000", entries));
  assert.ok(!matchesInsecure("example.com", entries));
  // The CIDRs are parsed once per list; a second list is its own.
  assert.ok(matchesInsecure("10.1.9.9", entries));
  assert.ok(!matchesInsecure("10.1.9.9", ["10.2.0.0/16"]));
});

test("splitHost: names, ports and [v6] literals", () => {
  assert.deepEqual(splitHost("r.lan:5000"), { host: "r.lan", port: "5000" });
  assert.deepEqual(splitHost("r.lan"), { host: "r.lan", port: undefined });
  assert.deepEqual(splitHost("[fd00::1]:443"), { host: "[fd00::1]", port: "443" });
});
