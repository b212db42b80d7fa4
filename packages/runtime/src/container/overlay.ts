// The overlay mount's options for a rootfs of many layers. The options travel in one page (4 KiB),
// and 125 layers (Docker's limit) at ~80 bytes of absolute path each need twice that. As Docker's
// overlay2 does with its short `l/` links, each lower layer is named by a short symlink, here
// `l/<n>` in the container's own directory (no store-wide link table to keep in step with image
// GC), and the mount is made from that directory with relative paths.
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The kernel copies at most one page of mount options, its last byte a NUL. */
const MAX_OPTIONS = 4095;

export interface OverlayParts {
  /** image layers (top first) below the init layer, all absolute */
  lowerDirs: readonly string[];
  upperDir: string;
  workDir: string;
}

/**
 * Makes `l/0`, `l/1`, ... next to the upper dir for the lower dirs, and returns the directory
 * to mount from and the options relative to it. Throws when even these do not fit.
 */
export function overlayOptions(parts: OverlayParts): { cwd: string; options: string } {
  const cwd = dirname(parts.upperDir);
  const links = join(cwd, "l");
  rmSync(links, { recursive: true, force: true });
  mkdirSync(links, { mode: 0o700 });
  parts.lowerDirs.forEach((dir, i) => symlinkSync(dir, join(links, String(i))));
  const relative = (path: string): string => (dirname(path) === cwd ? basename(path) : path);
  const lower = parts.lowerDirs.map((_, i) => `l/${i}`).join(":");
  const options = `lowerdir=${lower},upperdir=${relative(parts.upperDir)},workdir=${relative(parts.workDir)}`;
  if (options.length > MAX_OPTIONS) {
    throw new Error(
      `${parts.lowerDirs.length} layers do not fit in one overlay mount (${options.length} bytes of options, at most ${MAX_OPTIONS})`,
    );
  }
  return { cwd, options };
}
