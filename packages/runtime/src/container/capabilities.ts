// `--cap-add` / `--cap-drop`, with Docker's rules (moby's TweakCapabilities): names with or
// without CAP_, any case, and ALL; a capability both added and dropped is added.
import { CAPABILITIES, type CapabilityName } from "../syscall/index.js";
import { DEFAULT_CAPABILITIES } from "./defaults.js";

const ALL = "ALL";

/** "sys_admin", "CAP_SYS_ADMIN" -> "CAP_SYS_ADMIN"; "all" -> "ALL"; throws on unknown names. */
export function normalizeCapability(name: string): CapabilityName | typeof ALL {
  const upper = name.toUpperCase();
  if (upper === ALL) return ALL;
  const full = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  if (!(full in CAPABILITIES)) throw new Error(`unknown capability: "${full}"`);
  return full as CapabilityName;
}

/** The capabilities of a container given its --cap-add and --cap-drop (normalized names). */
export function containerCapabilities(
  capAdd: readonly string[] = [],
  capDrop: readonly string[] = [],
): CapabilityName[] {
  const added = capAdd.filter((c): c is CapabilityName => c !== ALL);
  if (capAdd.includes(ALL)) {
    return (Object.keys(CAPABILITIES) as CapabilityName[]).filter((c) => !capDrop.includes(c));
  }
  const kept = capDrop.includes(ALL)
    ? []
    : DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c));
  return [...new Set([...kept, ...added])];
}
