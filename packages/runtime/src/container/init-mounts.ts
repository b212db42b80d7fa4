// A container's mounts as its init makes them at a start.
import type { InitMount } from "./init-spec.js";
import type { ContainerMount } from "./record.js";

/**
 * Binds and volumes become binds of their host path; tmpfs mounts get Docker's mode 1777 unless
 * they say otherwise. Volumes get the image's files copied in only at the first start (Docker
 * copies into an empty volume when the container is created; here when the image's files are
 * first mounted).
 */
export function initMounts(mounts: readonly ContainerMount[], firstStart: boolean): InitMount[] {
  return mounts.map((m) =>
    m.type === "tmpfs"
      ? {
          type: "tmpfs" as const,
          target: m.target,
          options: ["mode=1777", m.options].filter(Boolean).join(","),
        }
      : {
          type: "bind" as const,
          source: m.source,
          target: m.target,
          readOnly: m.readOnly,
          copyUp: m.copyUp === true && firstStart,
        },
  );
}
