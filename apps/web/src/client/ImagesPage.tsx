"use client";
// Images of every host (or one): pull with per-layer progress, remove (the host's reason when a
// container uses it, with a way to force), prune what no container uses. Lists are read again
// when a host reports a change (pushed), never polled.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import type { PullLayer } from "../live/events.ts";
import type { ImageView } from "../server/services/images.ts";
import { useCan } from "./can.tsx";
import { PullProgress } from "./CreateContainer.tsx";
import { ago, bytes, shortId } from "./format.ts";
import { HostPicker, targetHosts } from "./HostPicker.tsx";
import { keys, request, useLive } from "./live.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

const imageKey = (i: ImageView) => `${i.hostId} ${i.id}`;

function PullForm({
  hostId,
  hosts,
}: {
  hostId?: string;
  hosts: Array<{ id: string; name: string }>;
}) {
  const { socket } = useLive();
  const [target, setTarget] = useState(hostId ?? "");
  const [pull, setPull] = useState<{
    ref: string;
    layers: Map<string, PullLayer>;
    done: boolean;
  } | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    if (!target && hosts.length > 0) setTarget((hosts[0] as { id: string }).id);
  }, [target, hosts]);
  useEffect(() => {
    if (!socket) return;
    const onProgress = (p: { ref: string; layer: PullLayer }) =>
      setPull((cur) =>
        cur && cur.ref === p.ref
          ? { ...cur, layers: new Map(cur.layers).set(p.layer.digest, p.layer) }
          : cur,
      );
    socket.on("pull:progress", onProgress);
    return () => {
      socket.off("pull:progress", onProgress);
    };
  }, [socket]);

  const pulling = pull !== null && !pull.done;

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const ref = String(new FormData(e.currentTarget).get("ref") ?? "").trim();
    setResult(null);
    if (!socket) return setResult({ ok: false, text: "not connected to the server" });
    if (!target) return setResult({ ok: false, text: "no host is online to pull on" });
    setPull({ ref, layers: new Map(), done: false });
    try {
      const r = await request<{ id: string }>(socket, (ack) =>
        socket.emit("image:pull", { hostId: target, ref }, ack),
      );
      setResult({ ok: true, text: `Pulled ${ref} (${shortId(r.id.replace(/^sha256:/, ""))})` });
      // The layers stay shown: what was fetched and what the host already had.
      setPull((cur) => cur && { ...cur, done: true });
    } catch (err) {
      setPull(null);
      setResult({ ok: false, text: errorMessage(err) });
    }
  }

  return (
    <form className="panel pull-form" onSubmit={submit} aria-label="Pull an image">
      <div className="toolbar" style={{ marginBottom: 0 }}>
        <input
          name="ref"
          required
          placeholder="busybox:latest or registry.example.com/team/app:1.2"
          aria-label="Image to pull"
          style={{ flex: "1 1 240px" }}
          disabled={pulling}
        />
        {!hostId && (
          <select
            aria-label="Pull on host"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
          >
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                on {h.name}
              </option>
            ))}
          </select>
        )}
        <button className="primary" type="submit" disabled={pulling || !hosts.length}>
          {pulling ? "Pulling…" : "Pull"}
        </button>
      </div>
      {pull && <PullProgress image={pull.ref} layers={pull.layers} done={pull.done} />}
      {result && (
        <div className={result.ok ? "notice" : "error"} role={result.ok ? "status" : "alert"}>
          {result.text}
        </div>
      )}
    </form>
  );
}

function RemoveButton({ image }: { image: ImageView }) {
  const remove = useMutation({
    mutationFn: (force: boolean) =>
      trpc.images.remove.mutate({ hostId: image.hostId, id: image.id, force }),
  });
  const name = image.repoTags[0] ?? shortId(image.id.replace(/^sha256:/, ""));
  return (
    <span className="actions">
      <button
        className="small danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Remove ${name} from this host?`)) remove.mutate(false);
        }}
      >
        {remove.isPending ? "removing…" : "remove"}
      </button>
      {remove.isError && (
        <span className="error inline" role="alert">
          {errorMessage(remove.error)}{" "}
          {remove.variables === false && (
            <button
              className="small danger"
              onClick={() => {
                if (
                  window.confirm(
                    `Remove ${name} anyway? Containers that use it keep running, but cannot be re-created from it.`,
                  )
                )
                  remove.mutate(true);
              }}
            >
              remove anyway (force)
            </button>
          )}
        </span>
      )}
    </span>
  );
}

export function ImagesPage({ hostId }: { hostId?: string }) {
  const now = useNow(10000);
  const mayWrite = useCan("images.write");
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const images = useQuery({
    queryKey: keys.images(hostId),
    queryFn: () => trpc.images.list.query(hostId ? { hostId } : undefined),
  });
  const [filter, setFilter] = useState("");
  const hostName = useMemo(
    () => new Map((hosts.data ?? []).map((h) => [h.id, h.name])),
    [hosts.data],
  );
  const online = targetHosts(hosts.data, hostId);
  const prune = useMutation({
    mutationFn: async () => {
      const answers = await Promise.allSettled(
        online.map((h) => trpc.images.prune.mutate({ hostId: h.id, all: true })),
      );
      return answers.map((a, i) => ({
        host: (online[i] as { name: string }).name,
        text:
          a.status === "fulfilled"
            ? `${a.value.deleted.length} removed, ${bytes(a.value.spaceReclaimed)} freed`
            : errorMessage(a.reason),
        ok: a.status === "fulfilled",
      }));
    },
  });
  const rows = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return (images.data ?? []).filter((i) => {
      const text = `${i.repoTags.join(" ")} ${i.id} ${hostName.get(i.hostId) ?? ""}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }, [images.data, filter, hostName]);
  const total = images.data?.reduce((n, i) => n + i.size, 0) ?? 0;

  return (
    <>
      <div className="page-head">
        <h1>Images</h1>
        {images.data && (
          <span className="sub">
            {images.data.length} · {bytes(total)}
          </span>
        )}
        <span className="spacer" />
        {mayWrite && online.length > 0 && (
          <button
            disabled={prune.isPending}
            onClick={() => {
              if (
                window.confirm(
                  `Remove every image no container uses on ${online.map((h) => h.name).join(", ")}?`,
                )
              )
                prune.mutate();
            }}
          >
            {prune.isPending ? "Pruning…" : "Prune unused"}
          </button>
        )}
      </div>
      {mayWrite && <PullForm key={hostId ?? "all"} hostId={hostId} hosts={online} />}
      {prune.data && (
        <div className="notice" role="status" style={{ marginBottom: 12 }}>
          Prune: {prune.data.map((p) => `${p.host}: ${p.text}`).join("; ")}
        </div>
      )}
      <div className="toolbar">
        <input
          type="search"
          placeholder="Filter by tag, id, host…"
          aria-label="Filter images"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <HostPicker hosts={hosts} hostId={hostId} />
      </div>
      {images.isPending && <div className="state">Loading images…</div>}
      {images.isError && (
        <div className="error">Could not load the images: {errorMessage(images.error)}</div>
      )}
      {images.data && images.data.length === 0 && (
        <div className="panel state">
          <strong>No images {hostId ? "on this host" : "yet"}</strong>
          {mayWrite
            ? "Pull one above, e.g. busybox:latest."
            : "An operator can pull one; hosts report theirs here."}
        </div>
      )}
      {images.data && images.data.length > 0 && rows.length === 0 && (
        <div className="panel state">
          <strong>Nothing matches “{filter}”</strong>
          <button className="small" onClick={() => setFilter("")}>
            Clear the filter
          </button>
        </div>
      )}
      {rows.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>Tags</th>
              <th>ID</th>
              <th className="num">Size</th>
              <th>Created</th>
              <th>Used by</th>
              {!hostId && <th>Host</th>}
              {mayWrite && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => (
              <tr key={imageKey(i)} data-image={i.repoTags[0] ?? i.id}>
                <td data-label="Tags">
                  <span className="tags">
                    {i.repoTags.length ? (
                      i.repoTags.map((t) => (
                        <span key={t} className="badge mono">
                          {t}
                        </span>
                      ))
                    ) : (
                      <span className="sub">untagged</span>
                    )}
                  </span>
                </td>
                <td data-label="ID" className="mono">
                  {shortId(i.id.replace(/^sha256:/, ""))}
                </td>
                <td data-label="Size" className="num">
                  {bytes(i.size)}
                </td>
                <td data-label="Created">{ago(i.created, now)}</td>
                <td data-label="Used by" title={i.usedBy.join(", ")}>
                  {i.usedBy.length === 0 ? (
                    <span className="sub">no container</span>
                  ) : (
                    `${i.usedBy.length} container${i.usedBy.length === 1 ? "" : "s"}`
                  )}
                </td>
                {!hostId && (
                  <td data-label="Host">{hostName.get(i.hostId) ?? shortId(i.hostId)}</td>
                )}
                {mayWrite && (
                  <td data-label="Actions">
                    <RemoveButton image={i} />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
