"use client";
// A container's environment. The server masks every value for a role that may not edit
// containers (ContainerService.env); this only shows what it was given.
import { useQuery } from "@tanstack/react-query";
import { errorMessage, trpc } from "./trpc.ts";

export function EnvPanel({ id }: { id: string }) {
  const env = useQuery({
    queryKey: ["container-env", id],
    queryFn: () => trpc.containers.env.query({ id }),
  });
  return (
    <section className="panel env-panel" style={{ marginTop: 16 }} aria-label="Environment">
      <h2>Environment</h2>
      {env.isPending && <div className="sub">Loading…</div>}
      {env.isError && <div className="error">{errorMessage(env.error)}</div>}
      {env.data && !env.data.revealed && env.data.entries.length > 0 && (
        <p className="sub" data-testid="env-masked">
          Values are hidden from your role: operators and admins see them.
        </p>
      )}
      {env.data && env.data.entries.length === 0 && (
        <div className="sub">No variables (or the host&apos;s agent does not report them).</div>
      )}
      {env.data && env.data.entries.length > 0 && (
        <dl className="facts" data-testid="env">
          {env.data.entries.map((e, i) => (
            <div key={`${e.name}-${i}`} style={{ display: "contents" }}>
              <dt className="mono">{e.name}</dt>
              <dd className="mono" title={e.masked ? "hidden" : undefined}>
                {e.value}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
