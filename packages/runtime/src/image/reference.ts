// Docker-style image references, following the grammar of distribution/reference (the one
// `docker pull` and `docker tag` accept), normalized the way Docker does so that `busybox`,
// `library/busybox:latest` and `docker.io/library/busybox` all name the same image.
import { ImageError } from "./errors.js";
import { isDigest, type Digest } from "./digest.js";

export const DEFAULT_REGISTRY = "docker.io";
export const DEFAULT_TAG = "latest";

export interface Reference {
  /** registry host[:port], "docker.io" for Docker Hub */
  readonly registry: string;
  /** path inside the registry, "library/busybox" for official Hub images */
  readonly repository: string;
  /** the tag; "latest" when the input named neither a tag nor a digest */
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;
  /** whether the input spelled the tag out (`busybox:latest` yes, `busybox` no) */
  readonly tagExplicit: boolean;
}

const EXAMPLES =
  "valid references look like busybox, busybox:1.36, registry.example.com:5000/team/app:v1 or app@sha256:<64 hex digits>";

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`,
);
const TAG = /^[\w][\w.-]{0,127}$/;
const HEX64 = /^[a-f0-9]{64}$/;
const MAX_NAME_LENGTH = 255;

function invalid(input: string, what: string): ImageError {
  const shown = JSON.stringify(input.length > 300 ? `${input.slice(0, 300)}...` : input);
  return new ImageError("invalid", `invalid reference ${shown}: ${what}; ${EXAMPLES}`);
}

/** Parses and normalizes a reference; throws an ImageError saying what is wrong. */
export function parseReference(input: unknown): Reference {
  if (typeof input !== "string") {
    throw new ImageError("invalid", `invalid reference: expected a string; ${EXAMPLES}`);
  }
  if (input === "") throw invalid(input, "it is empty");
  if (input.length > 1024) throw invalid(input, "it is longer than 1024 characters");
  if (/[\s\0]/.test(input)) throw invalid(input, "it contains whitespace or control characters");
  if (HEX64.test(input)) {
    throw invalid(input, "a 64-hex-digit string is an image id, not a repository name");
  }

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    const d = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(d)) {
      throw invalid(input, `the digest "${d}" is not sha256: followed by 64 lowercase hex digits`);
    }
    digest = d;
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw invalid(
        input,
        `the tag "${tag}" must be 1-128 letters, digits, '_', '.' or '-' and not start with '.' or '-'`,
      );
    }
  }
  if (rest === "") throw invalid(input, "the repository name is missing");

  // Docker's rule: the first component is a registry only if it looks like a host
  // (has a dot or a port, is localhost, or has uppercase letters, which a repository cannot).
  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase()) {
      registry = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(registry))
        throw invalid(input, `"${registry}" is not a valid registry host`);
    }
  }
  if (registry === "index.docker.io") registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes("/")) path = `library/${path}`;

  for (const component of path.split("/")) {
    if (component === "") throw invalid(input, "the repository name has an empty path component");
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      throw invalid(input, "the repository name must be lowercase");
    }
    throw invalid(
      input,
      `"${component}" is not a valid repository name component (lowercase letters and digits, separated by '.', '_', '__' or '-')`,
    );
  }
  if (registry.length + 1 + path.length > MAX_NAME_LENGTH) {
    throw invalid(input, `the repository name is longer than ${MAX_NAME_LENGTH} characters`);
  }

  const tagExplicit = tag !== undefined;
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return { registry, repository: path, tag, digest, tagExplicit };
}

/** The repository as Docker displays it: `busybox`, `user/app`, `localhost:5000/app`. */
export function familiarName(ref: Pick<Reference, "registry" | "repository">): string {
  if (ref.registry !== DEFAULT_REGISTRY) return `${ref.registry}/${ref.repository}`;
  const rest = ref.repository.slice("library/".length);
  return ref.repository.startsWith("library/") && !rest.includes("/") ? rest : ref.repository;
}

/** `busybox:latest` or `busybox@sha256:...`: the key under which the store records a name. */
export function familiarString(ref: Reference): string {
  const name = familiarName(ref);
  if (ref.digest !== undefined) return `${name}@${ref.digest}`;
  return `${name}:${ref.tag ?? DEFAULT_TAG}`;
}

/** The fully qualified form, e.g. `docker.io/library/busybox:latest`. */
export function canonicalString(ref: Reference): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest !== undefined) {
    return ref.tag !== undefined ? `${name}:${ref.tag}@${ref.digest}` : `${name}@${ref.digest}`;
  }
  return `${name}:${ref.tag ?? DEFAULT_TAG}`;
}

/** A tag reference: parses `input` and refuses digests (tags name something mutable). */
export function parseTagReference(input: unknown): Reference {
  const ref = parseReference(input);
  if (ref.digest !== undefined) {
    throw new ImageError(
      "invalid",
      `invalid tag ${JSON.stringify(input)}: a tag is name[:tag], not a digest reference`,
    );
  }
  return ref;
}

/** The same repository with another tag (used when an archive names only a tag). */
export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG.test(tag)) throw invalid(tag, `"${tag}" is not a valid tag`);
  return { ...ref, tag, digest: undefined, tagExplicit: true };
}

/** Whether a string is a bare tag (as OCI layouts store in org.opencontainers.image.ref.name). */
export function isBareTag(value: string): boolean {
  return TAG.test(value) && !value.includes(":");
}
