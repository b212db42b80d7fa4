"use client";
// What the pages of the hosts' own resources (images, networks, volumes) share beyond the list
// itself: the hosts and their names, the Host column, a form that acts on one host, and a prune
// on every online host (each host's answer listed).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { shortId } from "./format.ts";
import { HostPicker, targetHosts } from "./HostPicker.tsx";
import { keys } from "./live.tsx";
import type { Column } from "./ResourceList.tsx";
import { errorMessage, trpc } from "./trpc.ts";

/** The hosts (kept current by the pushes), each one's name, and those a command can go to. */
export function useHosts(hostId: string | undefined) {
  const hosts = useQuery({ queryKey: keys.hosts, queryFn: () => trpc.hosts.list.query() });
  const names = useMemo(() => new Map((hosts.data ?? []).map((h) => [h.id, h.name])), [hosts.data]);
  return {
    hosts,
    online: targetHosts(hosts.data, hostId),
    /** a host's name (its short id while the hosts load or after it was removed) */
    nameOf: (id: string) => names.get(id) ?? shortId(id),
    picker: <HostPicker hosts={hosts} hostId={hostId} />,
  };
}

/** The Host column, left out when the page shows one host. */
export function hostColumn<T extends { hostId: string }>(
  hostId: string | undefined,
  nameOf: (id: string) => string,
): Column<T> | false {
  return !hostId && { label: "Host", cell: (r: T) => nameOf(r.hostId) };
}

/**
 * A form that acts on one host: the page's inputs, a host to choose when the page shows them
 * all, the submit button, and what went wrong.
 */
export function HostForm({
  label,
  verb,
  submit,
  busy,
  hostId,
  hosts,
  onSubmit,
  error,
  children,
  after,
}: {
  /** the form's accessible name, e.g. "Create a network" */
  label: string;
  /** "Create" → the host select is "Create on host" */
  verb: string;
  /** the submit button while idle and while busy */
  submit: [idle: string, busy: string];
  busy: boolean;
  hostId: string | undefined;
  /** where it may act: the online hosts */
  hosts: Array<{ id: string; name: string }>;
  onSubmit: (target: string, form: FormData) => void;
  error?: unknown;
  /** the inputs */
  children: ReactNode;
  /** under the inputs (progress, result) */
  after?: ReactNode;
}) {
  const [target, setTarget] = useState(hostId ?? "");
  useEffect(() => {
    if (!target && hosts.length > 0) setTarget((hosts[0] as { id: string }).id);
  }, [target, hosts]);
  function submitted(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    onSubmit(target, new FormData(e.currentTarget));
  }
  return (
    <form className="panel host-form" onSubmit={submitted} aria-label={label}>
      <div className="toolbar" style={{ marginBottom: 0 }}>
        {children}
        {!hostId && (
          <select
            aria-label={`${verb} on host`}
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
        <button className="primary" type="submit" disabled={busy || !target}>
          {busy ? submit[1] : submit[0]}
        </button>
      </div>
      {after}
      {error !== undefined && error !== null && (
        <div className="error" role="alert">
          {errorMessage(error)}
        </div>
      )}
    </form>
  );
}

/** HostForm that creates one thing (a network, a volume) on the chosen host. */
export function CreateOnHost({
  noun,
  hostId,
  hosts,
  create,
  children,
}: {
  /** "network" → "Create a network", "Create network" */
  noun: string;
  hostId: string | undefined;
  hosts: Array<{ id: string; name: string }>;
  create: (hostId: string, form: FormData) => Promise<unknown>;
  children: ReactNode;
}) {
  const mutation = useMutation({
    mutationFn: (input: { target: string; form: FormData }) => create(input.target, input.form),
  });
  return (
    <HostForm
      label={`Create a ${noun}`}
      verb="Create"
      submit={[`Create ${noun}`, "Creating…"]}
      busy={mutation.isPending}
      hostId={hostId}
      hosts={hosts}
      error={mutation.error}
      onSubmit={(target, form) => mutation.mutate({ target, form })}
    >
      {children}
    </HostForm>
  );
}

/**
 * "Prune unused" on every host the page can act on: the button (for the head) and each host's
 * answer (a line per host, what `run` says or the host's reason).
 */
export function usePrune({
  hosts,
  question,
  run,
}: {
  hosts: Array<{ id: string; name: string }>;
  /** asked first, with the hosts' names */
  question: (names: string) => string;
  run: (hostId: string) => Promise<string>;
}): { button: ReactNode; result: ReactNode } {
  const prune = useMutation({
    mutationFn: async () => {
      const answers = await Promise.allSettled(hosts.map((h) => run(h.id)));
      return answers.map(
        (a, i) =>
          `${(hosts[i] as { name: string }).name}: ${a.status === "fulfilled" ? a.value : errorMessage(a.reason)}`,
      );
    },
  });
  return {
    button: hosts.length > 0 && (
      <button
        disabled={prune.isPending}
        onClick={() => {
          if (window.confirm(question(hosts.map((h) => h.name).join(", ")))) prune.mutate();
        }}
      >
        {prune.isPending ? "Pruning…" : "Prune unused"}
      </button>
    ),
    result: prune.data && (
      <div className="notice" role="status" style={{ marginBottom: 12 }}>
        Prune: {prune.data.join("; ")}
      </div>
    ),
  };
}
