import { ImageError } from "./errors.js";

/**
 * The path components of a tar member inside the archive root, [] for the root itself.
 * Throws for absolute paths and for `..` that climbs above the root. `a/../b` is fine: paths
 * are resolved lexically and writers never follow symlinks, so lexical is what is written.
 * A bare "/" is accepted as the root entry: umoci writes its layers' root directory that way.
 */
export function memberComponents(name: string, what: string): string[] {
  const shown = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name);
  if (name === "") throw new ImageError("refused", `${what} has an empty name`);
  if (name.includes("\0")) throw new ImageError("refused", `${what} ${shown} contains a NUL byte`);
  if (name.startsWith("/") && name.replace(/^\/+/, "") !== "") {
    throw new ImageError("refused", `${what} ${shown} has an absolute path`);
  }
  const components: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (components.length === 0) {
        throw new ImageError("refused", `${what} ${shown} escapes the archive root with ".."`);
      }
      components.pop();
      continue;
    }
    components.push(part);
  }
  return components;
}
