// Which extended attributes from an image Corral applies (layers, and volumes' copy-up).

/**
 * Docker applies every xattr of a layer's tar. Corral keeps those an image needs (file
 * capabilities, user.*, ACLs, trusted.*) and leaves out overlayfs' own trusted.overlay.* (a
 * layer must not forge opaque dirs or redirects) and the other security.* ones (SELinux
 * labels, IMA/EVM: the host's policy sets those, not an image).
 */
export function xattrKept(key: string): boolean {
  if (key.startsWith("trusted.overlay.")) return false;
  if (key.startsWith("security.")) return key === "security.capability";
  return (
    key.startsWith("user.") ||
    key.startsWith("trusted.") ||
    key === "system.posix_acl_access" ||
    key === "system.posix_acl_default"
  );
}
