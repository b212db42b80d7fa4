import { test } from "node:test";
import assert from "node:assert/strict";
import {
  canonicalString,
  familiarName,
  familiarString,
  parseReference,
  parseTagReference,
} from "./reference.js";

const HEX = "a".repeat(64);

test("a bare name is a Docker Hub official image with tag latest", () => {
  const ref = parseReference("busybox");
  assert.deepEqual(ref, {
    registry: "docker.io",
    repository: "library/busybox",
    tag: "latest",
    digest: undefined,
    tagExplicit: false,
  });
  assert.equal(familiarString(ref), "busybox:latest");
  assert.equal(canonicalString(ref), "docker.io/library/busybox:latest");
});

test("tags, user repositories and explicit docker.io normalize alike", () => {
  assert.equal(familiarString(parseReference("busybox:1.36")), "busybox:1.36");
  assert.equal(familiarString(parseReference("library/debian:12")), "debian:12");
  assert.equal(familiarString(parseReference("docker.io/library/debian:12")), "debian:12");
  assert.equal(familiarString(parseReference("index.docker.io/user/app")), "user/app:latest");
  assert.equal(parseReference("user/app").repository, "user/app");
  assert.equal(parseReference("busybox:latest").tagExplicit, true);
});

test("a first component with a dot, a port or localhost is a registry", () => {
  const ref = parseReference("localhost:5000/x:y");
  assert.equal(ref.registry, "localhost:5000");
  assert.equal(ref.repository, "x");
  assert.equal(ref.tag, "y");
  assert.equal(familiarString(ref), "localhost:5000/x:y");
  assert.equal(
    familiarName(parseReference("registry.example.com/team/app")),
    "registry.example.com/team/app",
  );
  assert.equal(parseReference("localhost/app").registry, "localhost");
  assert.equal(parseReference("[::1]:5000/app:v1").registry, "[::1]:5000");
  // "host:5000" without a slash is repository "host" with tag "5000", as in Docker.
  assert.equal(familiarString(parseReference("host:5000")), "host:5000");
});

test("digest references keep the digest and have no default tag", () => {
  const ref = parseReference(`repo@sha256:${HEX}`);
  assert.equal(ref.digest, `sha256:${HEX}`);
  assert.equal(ref.tag, undefined);
  assert.equal(familiarString(ref), `repo@sha256:${HEX}`);
  const both = parseReference(`repo:1@sha256:${HEX}`);
  assert.equal(both.tag, "1");
  assert.equal(canonicalString(both), `docker.io/library/repo:1@sha256:${HEX}`);
});

test("invalid references are refused with a one-line message that shows valid forms", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /empty/],
    ["Busybox", /must be lowercase/],
    ["busybox:", /tag "" must be/],
    ["busybox:-x", /tag "-x"/],
    ["repo@sha256:abc", /digest "sha256:abc"/],
    [`repo@md5:${HEX}`, /digest/],
    ["a//b", /empty path component/],
    ["a b", /whitespace/],
    ["my_-repo", /not a valid repository name component/],
    [HEX, /image id/],
    [":tag", /repository name is missing/],
    ["bad_host:5000/app", /registry host/],
    [`a/${"b".repeat(260)}`, /longer than 255/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(
      () => parseReference(input),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, pattern, input);
        assert.match(err.message, /valid references look like busybox/);
        assert.ok(!err.message.includes("\n"));
        return true;
      },
    );
  }
  assert.throws(() => parseReference(42), /expected a string/);
});

test("a tag reference refuses digests", () => {
  assert.throws(() => parseTagReference(`app@sha256:${HEX}`), /not a digest reference/);
  assert.equal(familiarString(parseTagReference("app:v2")), "app:v2");
});
