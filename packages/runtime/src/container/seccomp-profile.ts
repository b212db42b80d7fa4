// Seccomp profiles in Docker's JSON format (`--security-opt seccomp=FILE`): what a profile may
// say, validated on arrival so that a bad one is refused in one line naming the problem.
import { z } from "zod";

const action = z.enum([
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_LOG",
  "SCMP_ACT_ALLOW",
]);
export type SeccompAction = z.infer<typeof action>;

const operator = z.enum([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);
export type SeccompOperator = z.infer<typeof operator>;

// JSON numbers above 2^53 do not survive JSON.parse: refuse them rather than compare wrongly.
const u64 = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER, "values above 2^53 are not supported");
const errno = z.number().int().min(0).max(4095);
const filter = z.object({
  caps: z.array(z.string()).optional(),
  arches: z.array(z.string()).optional(),
  minKernel: z
    .string()
    .regex(/^[0-9]+\.[0-9]+/, 'minKernel looks like "4.8"')
    .optional(),
});

const syscallRule = z
  .object({
    name: z.string().optional(),
    names: z.array(z.string()).optional(),
    action,
    errnoRet: errno.optional(),
    args: z
      .array(
        z.object({
          index: z.number().int().min(0).max(5),
          value: u64,
          valueTwo: u64.optional(),
          op: operator,
        }),
      )
      .nullable()
      .optional(),
    comment: z.string().optional(),
    includes: filter.optional(),
    excludes: filter.optional(),
  })
  .refine((r) => r.name !== undefined || (r.names?.length ?? 0) > 0, "a rule needs names")
  .refine(
    (r) =>
      r.errnoRet === undefined || r.action === "SCMP_ACT_ERRNO" || r.action === "SCMP_ACT_TRACE",
    "errnoRet is only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE",
  );
export type SeccompRule = z.infer<typeof syscallRule>;

export const seccompProfileSchema = z
  .object({
    defaultAction: action,
    defaultErrnoRet: errno.optional(),
    architectures: z.array(z.string()).nullable().optional(),
    archMap: z
      .array(
        z.object({
          architecture: z.string(),
          subArchitectures: z.array(z.string()).nullable().optional(),
        }),
      )
      .nullable()
      .optional(),
    syscalls: z.array(syscallRule).nullable().optional(),
    listenerPath: z
      .string()
      .max(0, "SCMP_ACT_NOTIFY listeners (listenerPath) are not supported")
      .optional(),
  })
  .refine((p) => {
    const arches = [...(p.architectures ?? []), ...(p.archMap ?? []).map((a) => a.architecture)];
    return arches.length === 0 || arches.includes("SCMP_ARCH_X86_64");
  }, "the profile does not list this host's architecture (SCMP_ARCH_X86_64)");
export type SeccompProfile = z.infer<typeof seccompProfileSchema>;

/** Parses a profile's JSON text; throws one line naming the problem and where it is. */
export function parseSeccompProfile(text: string): SeccompProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`bad seccomp profile: not JSON (${(err as Error).message})`);
  }
  const parsed = seccompProfileSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new Error(`bad seccomp profile${where}: ${issue?.message ?? "invalid"}`);
}
