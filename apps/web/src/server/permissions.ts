// The server's door on the role table (src/access.ts): a refused permission is a 403.
import { can, denial, type Permission } from "../access.ts";
import { AppError } from "./errors.ts";

export { PERMISSIONS, ROLES, can, denial, type Permission, type Role } from "../access.ts";

/** Throws 403 (FORBIDDEN on tRPC) unless `role` may do `permission`. */
export function authorize(role: string, permission: Permission): void {
  if (!can(role, permission)) throw new AppError(403, denial(role, permission));
}
