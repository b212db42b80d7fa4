import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CAPABILITIES } from "./defaults.js";
import { parseSecurityOpts, seccompProgramFor, securityOptList } from "./security-opts.js";

const PROFILE = '{"defaultAction":"SCMP_ACT_ALLOW"}';

test("--security-opt values as Docker takes them", () => {
  assert.deepEqual(parseSecurityOpts([]), { seccomp: true, noNewPrivileges: true });
  assert.deepEqual(parseSecurityOpts(["seccomp=unconfined", "no-new-privileges=false"]), {
    seccomp: false,
    noNewPrivileges: false,
  });
  assert.equal(parseSecurityOpts(["no-new-privileges:false"]).noNewPrivileges, false);
  assert.equal(parseSecurityOpts(["no-new-privileges"]).noNewPrivileges, true);
  assert.deepEqual(parseSecurityOpts(["seccomp=builtin"]), {
    seccomp: true,
    noNewPrivileges: true,
  });
  const read: string[] = [];
  const sec = parseSecurityOpts(["seccomp=/p.json"], (file) => (read.push(file), PROFILE));
  assert.deepEqual(read, ["/p.json"]);
  assert.equal(sec.seccompProfile, PROFILE);
  for (const bad of ["apparmor=x", "no-new-privileges=maybe", "seccomp=", "label=disable"]) {
    assert.throws(() => parseSecurityOpts([bad]), /unsupported --security-opt .*supported: /);
  }
  assert.throws(() => parseSecurityOpts(["seccomp=/p.json"], () => "{}"), /bad seccomp profile/);
});

test("inspect's list reads back as the same options", () => {
  for (const opts of [
    [],
    ["seccomp=unconfined"],
    [`seccomp=${PROFILE}`, "no-new-privileges=false"],
  ]) {
    const sec = parseSecurityOpts(opts);
    assert.deepEqual(securityOptList(sec) ?? [], opts);
    assert.deepEqual(parseSecurityOpts(securityOptList(sec) ?? []), sec);
  }
});

test("the program: none when unconfined, one per profile and capability set", () => {
  assert.equal(seccompProgramFor({ seccomp: false, noNewPrivileges: true }, []), undefined);
  const a = seccompProgramFor({ seccomp: true, noNewPrivileges: true }, DEFAULT_CAPABILITIES);
  const b = seccompProgramFor(
    { seccomp: true, noNewPrivileges: false },
    [...DEFAULT_CAPABILITIES].reverse(),
  );
  assert.ok(a && a === b);
  const admin = seccompProgramFor({ seccomp: true, noNewPrivileges: true }, [
    ...DEFAULT_CAPABILITIES,
    "CAP_SYS_ADMIN",
  ]);
  assert.ok(admin && !admin.equals(a));
  const custom = seccompProgramFor(
    { seccomp: true, seccompProfile: PROFILE, noNewPrivileges: true },
    DEFAULT_CAPABILITIES,
  );
  assert.ok(custom && custom.length < a.length);
});
