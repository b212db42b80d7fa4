// Which entry of an image index (manifest list) this host runs: one rule for `load` and `pull`.
import type { Descriptor } from "./schema.js";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** linux and this host's architecture, in OCI's names. */
export function hostPlatform(): Platform {
  const arch = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" }[
    process.arch as string
  ];
  return { os: "linux", architecture: arch ?? process.arch };
}

/**
 * The index entry for `platform` among those `usable` (e.g. manifests of a known media type),
 * preferring an exact variant; `describe` says what the index offers, for the error a caller
 * gives when there is none.
 */
export function pickPlatform(
  manifests: readonly Descriptor[],
  platform: Platform,
  usable: (d: Descriptor) => boolean,
): { match: Descriptor | undefined; offered: string } {
  const candidates = manifests.filter(
    (m) =>
      usable(m) &&
      m.platform?.os === platform.os &&
      m.platform.architecture === platform.architecture,
  );
  const match =
    candidates.find(
      (m) => platform.variant !== undefined && m.platform?.variant === platform.variant,
    ) ?? candidates[0];
  const offered =
    manifests
      .map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : "unknown"))
      .join(", ") || "none";
  return { match, offered };
}
