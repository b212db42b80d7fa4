"use client";
// Create a container on a host; the image is pulled first when the host does not have it,
// with per-layer progress pushed over the live socket.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import type { PullLayer } from "../live/events.ts";
import { bytes } from "./format.ts";
import { keys, request, useLive } from "./live.tsx";
import { parseEnv, parsePorts, shellWords } from "./shell-words.ts";
import { errorMessage, trpc } from "./trpc.ts";

const RESTART = ["no", "on-failure", "always", "unless-stopped"] as const;

export function PullProgress({
  image,
  layers,
  done = false,
}: {
  image: string;
  layers: Map<string, PullLayer>;
  /** the pull is over: the layers stay shown, as what was fetched */
  done?: boolean;
}) {
  const all = [...layers.values()];
  return (
    <div className="panel" aria-live="polite" data-testid="pull-progress">
      <b>
        {done ? "Pulled" : "Pulling"} {image}
      </b>
      <div style={{ display: "grid", gap: 6, marginTop: 8 }}>
        {all.length === 0 && <span className="sub">Asking the registry…</span>}
        {all.map((l) => (
          <div key={l.digest}>
            <div className="sub mono" style={{ fontSize: 11 }}>
              {l.digest.replace(/^sha256:/, "").slice(0, 12)} · {l.status}
              {l.total > 0 && ` · ${bytes(l.bytes)} / ${bytes(l.total)}`}
            </div>
            <div className="progress">
              <div
                style={{
                  width: `${l.status === "downloading" && l.total > 0 ? (100 * l.bytes) / l.total : 100}%`,
                }}
              />
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

export function CreateContainer({ hostId: initialHost }: { hostId?: string }) {
  const router = useRouter();
  const qc = useQueryClient();
  const { socket } = useLive();
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  // a draining host takes no new container (the server refuses it with a 409 anyway)
  const online = (hosts.data ?? []).filter((h) => h.status === "online" && !h.draining);
  const [hostId, setHostId] = useState(initialHost ?? "");
  const [restart, setRestart] = useState<(typeof RESTART)[number]>("no");
  const [error, setError] = useState("");
  const [phase, setPhase] = useState<"idle" | "pulling" | "creating">("idle");
  const [pull, setPull] = useState<{ ref: string; layers: Map<string, PullLayer> } | null>(null);

  useEffect(() => {
    if (!hostId && online.length > 0) setHostId((online[0] as { id: string }).id);
  }, [hostId, online]);

  useEffect(() => {
    if (!socket) return;
    const onProgress = (p: { ref: string; layer: PullLayer }) =>
      setPull((cur) =>
        cur && cur.ref === p.ref
          ? { ref: cur.ref, layers: new Map(cur.layers).set(p.layer.digest, p.layer) }
          : cur,
      );
    socket.on("pull:progress", onProgress);
    return () => {
      socket.off("pull:progress", onProgress);
    };
  }, [socket]);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError("");
    const f = new FormData(e.currentTarget);
    const text = (k: string) => String(f.get(k) ?? "").trim();
    let input: Parameters<typeof trpc.containers.create.mutate>[0];
    try {
      const cmd = shellWords(text("cmd"));
      const env = parseEnv(text("env"));
      const ports = parsePorts(text("ports"));
      const memory = Number(text("memory") || 0);
      const cpus = Number(text("cpus") || 0);
      if (!hostId) throw new Error("choose a host (an online one)");
      if (!(memory >= 0)) throw new Error("memory is a number of MiB");
      if (!(cpus >= 0)) throw new Error("CPUs is a number, e.g. 0.5");
      const retries = Number(text("retries") || 0);
      input = {
        hostId,
        image: text("image"),
        ...(text("name") ? { name: text("name") } : {}),
        ...(cmd.length ? { cmd } : {}),
        ...(env.length ? { env } : {}),
        ...(ports.length ? { ports } : {}),
        ...(memory ? { memoryBytes: Math.round(memory * 1024 * 1024) } : {}),
        ...(cpus ? { cpus } : {}),
        restartPolicy:
          restart === "on-failure" && retries > 0
            ? { name: restart, maximumRetryCount: retries }
            : { name: restart },
        start: f.get("start") === "on",
      };
    } catch (err) {
      setError(errorMessage(err));
      return;
    }
    try {
      setPhase("creating");
      let created;
      try {
        created = await trpc.containers.create.mutate(input);
      } catch (err) {
        if (!/no such image/i.test(errorMessage(err)) || !socket) throw err;
        // The host does not have the image: pull it (progress pushed), then create again.
        setPhase("pulling");
        setPull({ ref: input.image, layers: new Map() });
        await request(socket, (ack) =>
          socket.emit("image:pull", { hostId: input.hostId, ref: input.image }, ack),
        );
        setPhase("creating");
        created = await trpc.containers.create.mutate(input);
      }
      qc.setQueryData(keys.container(created.id), created);
      router.push(`/containers/${created.id}`);
    } catch (err) {
      setError(errorMessage(err));
      setPhase("idle");
    }
  }

  const busy = phase !== "idle";
  return (
    <>
      <div className="page-head">
        <h1>New container</h1>
      </div>
      {hosts.data && online.length === 0 && (
        <div className="notice" style={{ marginBottom: 12 }}>
          No host takes new containers: each is offline or draining. Start an agent (Fleet → Add
          host), or undrain a host on its page.
        </div>
      )}
      <form className="form panel" onSubmit={submit}>
        <div className="row">
          <label>
            Image
            <input name="image" required placeholder="busybox:latest" autoFocus />
            <span className="hint">Pulled first if the host does not have it.</span>
          </label>
          <label>
            Host
            <select value={hostId} onChange={(e) => setHostId(e.target.value)} required>
              {hosts.isPending && <option value="">Loading…</option>}
              {(hosts.data ?? []).map((h) => (
                <option
                  key={h.id}
                  value={h.id}
                  disabled={h.status !== "online" || h.draining !== null}
                >
                  {h.name}
                  {h.status !== "online" ? " (offline)" : h.draining ? " (draining)" : ""}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div className="row">
          <label>
            Name <span className="hint">optional; letters, digits, _ . -</span>
            <input name="name" placeholder="web-1" pattern="[a-zA-Z0-9][a-zA-Z0-9_.\-]*" />
          </label>
          <label>
            Command <span className="hint">optional; the image&apos;s default otherwise</span>
            <input
              name="cmd"
              className="mono"
              placeholder={`sh -c "while true; do date; sleep 1; done"`}
            />
          </label>
        </div>
        <label>
          Environment <span className="hint">one KEY=value per line</span>
          <textarea name="env" rows={3} placeholder={"TZ=UTC\nLOG_LEVEL=info"} />
        </label>
        <div className="row">
          <label>
            Ports <span className="hint">HOST:CONTAINER[/udp], comma-separated</span>
            <input name="ports" className="mono" placeholder="8080:80" />
          </label>
          <label>
            Restart policy
            <select
              value={restart}
              onChange={(e) => setRestart(e.target.value as (typeof RESTART)[number])}
            >
              {RESTART.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
        </div>
        <div className="row">
          <label>
            Memory limit <span className="hint">MiB; empty: no limit</span>
            <input name="memory" type="number" min="0" step="any" placeholder="256" />
          </label>
          <label>
            CPUs <span className="hint">e.g. 0.5; empty: no limit</span>
            <input name="cpus" type="number" min="0" step="any" placeholder="1" />
          </label>
        </div>
        {restart === "on-failure" && (
          <label>
            Maximum retries <span className="hint">0: no limit</span>
            <input name="retries" type="number" min="0" step="1" defaultValue="0" />
          </label>
        )}
        <label style={{ display: "flex", gap: 8, alignItems: "center" }}>
          <input type="checkbox" name="start" defaultChecked /> Start it now
        </label>
        {pull && phase === "pulling" && <PullProgress image={pull.ref} layers={pull.layers} />}
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        <div>
          <button className="primary" type="submit" disabled={busy || online.length === 0}>
            {phase === "pulling"
              ? "Pulling the image…"
              : phase === "creating"
                ? "Creating…"
                : "Create"}
          </button>
        </div>
      </form>
    </>
  );
}
