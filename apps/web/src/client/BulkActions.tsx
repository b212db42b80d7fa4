"use client";
// Bulk start/stop/restart/remove of the selected containers. Each container is its own
// request (a few at a time), so one failure does not hide the others: every row's result is
// listed, failures first with the host's reason.
import { useCallback, useMemo, useState } from "react";
import type { ContainerRow } from "../server/services/container-row.ts";
import { errorMessage, trpc } from "./trpc.ts";

type BulkAction = "start" | "stop" | "restart" | "remove";
const BULK_ACTIONS: BulkAction[] = ["start", "stop", "restart", "remove"];
/** Requests in flight at once: enough to be quick, few enough not to flood one host. */
const PARALLEL = 4;

interface RowResult {
  id: string;
  name: string;
  hostId: string;
  error?: string;
}

export function useBulk(all: ContainerRow[] | undefined, shown: ContainerRow[]) {
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [running, setRunning] = useState<BulkAction | null>(null);
  const [results, setResults] = useState<{ action: BulkAction; rows: RowResult[] } | null>(null);
  // A container that went away (removed here or elsewhere) is no longer selected.
  const selected = useMemo(
    () => new Set((all ?? []).filter((c) => picked.has(c.id)).map((c) => c.id)),
    [all, picked],
  );
  const allShown = shown.length > 0 && shown.every((c) => selected.has(c.id));
  // Stable: memoised rows take it as a prop, and a new function would render every row again.
  const toggle = useCallback(
    (id: string, on: boolean) =>
      setPicked((s) => {
        const next = new Set(s);
        if (on) next.add(id);
        else next.delete(id);
        return next;
      }),
    [],
  );

  async function run(action: BulkAction): Promise<void> {
    const targets = (all ?? []).filter((c) => selected.has(c.id));
    setRunning(action);
    setResults(null);
    const rows: RowResult[] = [];
    const queue = [...targets];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const row: RowResult = { id: c.id, name: c.name, hostId: c.hostId };
        try {
          if (action === "remove")
            await trpc.containers.remove.mutate({ id: c.id, force: c.state === "running" });
          else await trpc.containers.action.mutate({ id: c.id, action });
        } catch (err) {
          row.error = errorMessage(err);
        }
        rows.push(row);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, targets.length) }, worker));
    setRunning(null);
    setResults({ action, rows });
    // Keep the failed ones selected: the user can retry them or act on them otherwise.
    setPicked(new Set(rows.filter((r) => r.error).map((r) => r.id)));
  }

  return {
    selected,
    allShown,
    running,
    results,
    run,
    clearResults: () => setResults(null),
    toggle,
    /** every row the filter shows, not only those on screen */
    selectShown: (on: boolean) =>
      setPicked((s) => {
        const next = new Set(s);
        for (const c of shown)
          if (on) next.add(c.id);
          else next.delete(c.id);
        return next;
      }),
    shownCount: shown.length,
  };
}

export function BulkBar({
  bulk,
  hostName,
}: {
  bulk: ReturnType<typeof useBulk>;
  hostName: Map<string, string>;
}) {
  const n = bulk.selected.size;
  const failed = bulk.results?.rows.filter((r) => r.error) ?? [];
  const done = bulk.results?.rows.filter((r) => !r.error) ?? [];
  return (
    <>
      <div className="toolbar bulk" role="group" aria-label="Bulk actions">
        <label className="check-label">
          <input
            type="checkbox"
            checked={bulk.allShown}
            onChange={(e) => bulk.selectShown(e.target.checked)}
          />
          Select all {bulk.shownCount} shown
        </label>
        <span className="sub" data-testid="selected-count">
          {n} selected
        </span>
        {BULK_ACTIONS.map((a) => (
          <button
            key={a}
            className={`small ${a === "remove" ? "danger" : ""}`}
            disabled={n === 0 || bulk.running !== null}
            onClick={() => {
              if (
                a === "remove" &&
                !window.confirm(
                  `Remove ${n} container${n === 1 ? "" : "s"}? Running ones are stopped first; their writable layers are deleted.`,
                )
              )
                return;
              void bulk.run(a);
            }}
          >
            {bulk.running === a ? `${a}…` : `${a} ${n || ""}`.trim()}
          </button>
        ))}
      </div>
      {bulk.results && (
        <div
          className={`panel bulk-results ${failed.length ? "has-failures" : ""}`}
          role={failed.length ? "alert" : "status"}
        >
          <div className="toolbar" style={{ marginBottom: 4 }}>
            <b>
              {bulk.results.action}: {done.length} done
              {failed.length > 0 && `, ${failed.length} failed`}
            </b>
            <span className="spacer" />
            <button className="small" onClick={bulk.clearResults}>
              Dismiss
            </button>
          </div>
          <ul>
            {[...failed, ...done].map((r) => (
              <li key={r.id} className={r.error ? "failed" : "ok"}>
                <b>{r.name}</b>{" "}
                <span className="sub">({hostName.get(r.hostId) ?? r.hostId.slice(0, 12)})</span>:{" "}
                {r.error ?? "done"}
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}
