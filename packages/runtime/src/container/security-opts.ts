// `--security-opt`, as Docker takes it: seccomp=unconfined|builtin|<profile>, and
// no-new-privileges[=true|false]. The CLI reads a profile file and sends its JSON text (as
// Docker's CLI does), so a container's options hold everything `exec` needs later.
import type { CapabilityName } from "../syscall/index.js";
import { compileSeccomp, defaultSeccompProgram } from "./seccomp.js";
import { parseSeccompProfile } from "./seccomp-profile.js";

export interface SecurityOptions {
  /** false: no filter at all (seccomp=unconfined). */
  seccomp: boolean;
  /** A profile's JSON text; absent: Docker's default profile. */
  seccompProfile?: string;
  /** On unless no-new-privileges=false: setuid binaries gain nothing (stricter than Docker). */
  noNewPrivileges: boolean;
}

export const SECURITY_OPT_USAGE =
  "supported: seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges[=true|false]";

/**
 * Parses `--security-opt` values. `profileText` turns the value of `seccomp=VALUE` into a
 * profile's JSON text (the CLI reads the file; `inspect`'s list already holds the text).
 */
export function parseSecurityOpts(
  opts: readonly string[],
  profileText: (value: string) => string = (v) => v,
): SecurityOptions {
  const result: SecurityOptions = { seccomp: true, noNewPrivileges: true };
  for (const opt of opts) {
    // Docker also accepts the older "key:value" form.
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const [key, value] = [m?.[1], m?.[2]];
    if (key === "no-new-privileges" && (value === undefined || /^(true|false)$/.test(value))) {
      result.noNewPrivileges = value !== "false";
    } else if (key === "seccomp" && value) {
      if (value === "unconfined") {
        result.seccomp = false;
        delete result.seccompProfile;
      } else if (value !== "builtin") {
        const text = profileText(value);
        parseSeccompProfile(text); // a bad profile is refused here, in one line
        result.seccomp = true;
        result.seccompProfile = text;
      }
    } else {
      throw new Error(`unsupported --security-opt "${opt.slice(0, 80)}": ${SECURITY_OPT_USAGE}`);
    }
  }
  return result;
}

/** The options as `inspect` shows them (HostConfig.SecurityOpt); null when all are defaults. */
export function securityOptList(sec: SecurityOptions): string[] | null {
  const list: string[] = [];
  if (!sec.seccomp) list.push("seccomp=unconfined");
  else if (sec.seccompProfile !== undefined) list.push(`seccomp=${sec.seccompProfile}`);
  if (!sec.noNewPrivileges) list.push("no-new-privileges=false");
  return list.length > 0 ? list : null;
}

// Compiling Docker's profile takes ~1.5 ms; a daemon starts most containers with the same one.
const compiled = new Map<string, Buffer>();
const COMPILED_KEPT = 16;

/** The seccomp program for a container with `caps`, or undefined when it is unconfined. */
export function seccompProgramFor(
  sec: SecurityOptions,
  caps: Iterable<CapabilityName>,
): Buffer | undefined {
  if (!sec.seccomp) return undefined;
  const capList = [...caps].sort();
  const key = `${capList.join(",")}\n${sec.seccompProfile ?? ""}`;
  let program = compiled.get(key);
  if (!program) {
    program =
      sec.seccompProfile === undefined
        ? defaultSeccompProgram(capList)
        : compileSeccomp(parseSeccompProfile(sec.seccompProfile), capList);
    if (compiled.size >= COMPILED_KEPT) compiled.delete(compiled.keys().next().value ?? "");
    compiled.set(key, program);
  }
  return program;
}
