// Resolves a path inside a container's root the way the kernel would after pivot_root: symlinks
// in the image are followed but can never lead out of `root`. Used for every mount target, so
// that an image with `/etc -> /host/etc` cannot make us mount over a host path. (runc uses
// filepath-securejoin for the same reason; no maintained npm package does this.)
import { lstatSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

const MAX_SYMLINKS = 255;

export function secureJoin(root: string, unsafePath: string): string {
  const pending = unsafePath.split("/").filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = posix.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // Missing components are fine: the caller creates them below a checked parent.
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINKS)
      throw new Error(`too many levels of symbolic links in ${unsafePath}`);
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...target.split("/").filter(Boolean));
  }
  return posix.join(root, ...resolved);
}
