"use client";
// Images of every host (or one): pull with per-layer progress, remove (the host's reason when a
// container uses it, with a way to force), remove the selected, prune what no container uses. Lists are read again
// when a host reports a change (pushed), never polled.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { PullLayer } from "../live/events.ts";
import type { ImageView } from "../server/services/images.ts";
import { useCan } from "./can.tsx";
import { PullProgress } from "./CreateContainer.tsx";
import { ago, bytes, shortId } from "./format.ts";
import { HostForm, hostColumn, useHosts, usePrune } from "./HostResources.tsx";
import { keys, request, useLive } from "./live.tsx";
import { bulkRemove, RemoveButton, ResourceList } from "./ResourceList.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { useNow } from "./useNow.ts";

/** The image's first tag, or its short id. */
const imageName = (i: ImageView) => i.repoTags[0] ?? shortId(i.id.replace(/^sha256:/, ""));

function PullForm({
  hostId,
  hosts,
}: {
  hostId?: string;
  hosts: Array<{ id: string; name: string }>;
}) {
  const { socket } = useLive();
  const [pull, setPull] = useState<{
    ref: string;
    layers: Map<string, PullLayer>;
    done: boolean;
  } | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
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

  async function submit(target: string, form: FormData) {
    const ref = String(form.get("ref") ?? "").trim();
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
    <HostForm
      label="Pull an image"
      verb="Pull"
      submit={["Pull", "Pulling…"]}
      busy={pulling}
      hostId={hostId}
      hosts={hosts}
      onSubmit={(target, form) => void submit(target, form)}
      after={
        <>
          {pull && <PullProgress image={pull.ref} layers={pull.layers} done={pull.done} />}
          {result && (
            <div className={result.ok ? "notice" : "error"} role={result.ok ? "status" : "alert"}>
              {result.text}
            </div>
          )}
        </>
      }
    >
      <input
        name="ref"
        required
        placeholder="busybox:latest or registry.example.com/team/app:1.2"
        aria-label="Image to pull"
        style={{ flex: "1 1 240px" }}
        disabled={pulling}
      />
    </HostForm>
  );
}

const remove = (i: ImageView, force = false) =>
  trpc.images.remove.mutate({ hostId: i.hostId, id: i.id, force });

export function ImagesPage({ hostId }: { hostId?: string }) {
  const now = useNow(10000);
  const mayWrite = useCan("images.write");
  const { online, nameOf, picker } = useHosts(hostId);
  const images = useQuery({
    queryKey: keys.images(hostId),
    queryFn: () => trpc.images.list.query(hostId ? { hostId } : undefined),
  });
  const prune = usePrune({
    hosts: online,
    question: (names) => `Remove every image no container uses on ${names}?`,
    run: async (id) => {
      const r = await trpc.images.prune.mutate({ hostId: id, all: true });
      return `${r.deleted.length} removed, ${bytes(r.spaceReclaimed)} freed`;
    },
  });
  const total = images.data?.reduce((n, i) => n + i.size, 0) ?? 0;

  return (
    <ResourceList<ImageView>
      title="Images"
      noun="images"
      summary={images.data && `${images.data.length} · ${bytes(total)}`}
      headActions={mayWrite && prune.button}
      filterPlaceholder="Filter by tag, id, host…"
      controls={picker}
      query={images}
      items={images.data}
      loading="Loading images…"
      empty={{
        title: `No images ${hostId ? "on this host" : "yet"}`,
        next: mayWrite
          ? "Pull one above, e.g. busybox:latest."
          : "An operator can pull one; hosts report theirs here.",
      }}
      text={(i) => `${i.repoTags.join(" ")} ${i.id} ${nameOf(i.hostId)}`}
      rowKey={(i) => `${i.hostId} ${i.id}`}
      rowName={(i) => (hostId ? imageName(i) : `${imageName(i)} on ${nameOf(i.hostId)}`)}
      rowData={(i) => ({ "data-image": i.repoTags[0] ?? i.id })}
      columns={[
        {
          label: "Tags",
          cell: (i) => (
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
          ),
        },
        { label: "ID", className: "mono", cell: (i) => shortId(i.id.replace(/^sha256:/, "")) },
        { label: "Size", className: "num", cell: (i) => bytes(i.size) },
        { label: "Created", cell: (i) => ago(i.created, now) },
        {
          label: "Used by",
          title: (i) => i.usedBy.join(", "),
          cell: (i) =>
            i.usedBy.length === 0 ? (
              <span className="sub">no container</span>
            ) : (
              `${i.usedBy.length} container${i.usedBy.length === 1 ? "" : "s"}`
            ),
        },
        hostColumn(hostId, nameOf),
      ]}
      {...(mayWrite && {
        rowActions: (i: ImageView) => (
          <RemoveButton
            question={`Remove ${imageName(i)} from this host?`}
            force={`Remove ${imageName(i)} anyway? Containers that use it keep running, but cannot be re-created from it.`}
            remove={(force) => remove(i, force)}
          />
        ),
        bulkActions: [
          bulkRemove(
            ["image", "images"],
            "One a container uses is refused (remove it alone to force).",
            (i: ImageView) => remove(i),
          ),
        ],
      })}
    >
      {mayWrite && <PullForm key={hostId ?? "all"} hostId={hostId} hosts={online} />}
      {prune.result}
    </ResourceList>
  );
}
