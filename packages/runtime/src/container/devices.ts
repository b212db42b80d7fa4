// `--device HOST[:CONTAINER][:PERMISSIONS]`, as Docker takes it: a host device node made
// available in the container, and the cgroup rule that lets the container use it.
import { statSync } from "node:fs";
import { z } from "zod";
import type { InitMount } from "./init-spec.js";

const absolute = z.string().startsWith("/", "a device path must be absolute").max(4096);

export const deviceRequestSchema = z.object({
  pathOnHost: absolute,
  pathInContainer: absolute,
  /** Subset of "rwm": read, write, mknod. */
  cgroupPermissions: z
    .string()
    .regex(/^(?!.*(.).*\1)[rwm]{1,3}$/, 'permissions are "rwm" or a part of it'),
});
export type DeviceRequest = z.infer<typeof deviceRequestSchema>;

const isPermissions = (s: string): boolean =>
  deviceRequestSchema.shape.cgroupPermissions.safeParse(s).success;

/** Parses a `--device` value; throws a one-line error on a bad one. */
export function parseDeviceFlag(text: string): DeviceRequest {
  const parts = text.split(":");
  const src = parts[0] ?? "";
  let [, dst = "", permissions = "rwm"] = parts;
  if (parts.length === 2 && isPermissions(dst)) [dst, permissions] = ["", dst];
  if (parts.length > 3 || !src) throw new Error(`invalid device specification: ${text}`);
  const parsed = deviceRequestSchema.safeParse({
    pathOnHost: src,
    pathInContainer: dst || src,
    cgroupPermissions: permissions,
  });
  if (!parsed.success) {
    throw new Error(
      `invalid device specification: ${text}: ${parsed.error.issues[0]?.message ?? ""}`,
    );
  }
  return parsed.data;
}

/** The cgroup rule ("c 1:3 rw") for a device, from its node on the host (symlinks followed). */
export function deviceRule(device: DeviceRequest): string {
  const what = `error gathering device information while adding custom device "${device.pathOnHost}"`;
  let st;
  try {
    st = statSync(device.pathOnHost, { bigint: true });
  } catch (err) {
    throw new Error(
      `${what}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`,
    );
  }
  const type = st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : undefined;
  if (!type) throw new Error(`${what}: not a device node`);
  // glibc's major()/minor() of a dev_t.
  const major = ((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn);
  const minor = (st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn);
  return `${type} ${major}:${minor} ${device.cgroupPermissions}`;
}

/** The host's node bind-mounted at its place in the container (bind mounts here are not nodev). */
export function deviceMount(device: DeviceRequest): InitMount {
  return {
    type: "bind",
    source: device.pathOnHost,
    target: device.pathInContainer,
    readOnly: false,
  };
}
