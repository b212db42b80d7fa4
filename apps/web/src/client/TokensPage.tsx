"use client";
// API tokens for scripts: make one (its secret is shown here once, with an expiry if wanted), see
// when each was last used and when it expires, revoke. Login tokens (a CLI's POST
// /api/v1/auth/login, 30 days) are marked apart from named ones. An admin sees everyone's.
// Live: a token made, used or revoked elsewhere (a script, REST, another browser) is pushed
// (src/client/live.tsx), and one that expires leaves the list as the server's list would.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { TokenView } from "../server/services/api-tokens.ts";
import { useCan } from "./can.tsx";
import { CopyButton } from "./CopyButton.tsx";
import { ago, dateTime, until } from "./format.ts";
import { keys } from "./live.tsx";
import { errorMessage, trpc } from "./trpc.ts";
import { ResourceList } from "./ResourceList.tsx";
import { useNow } from "./useNow.ts";

const TOKENS = keys.tokens;
const EXPIRIES = [
  ["", "Never expires"],
  ["7", "Expires in 7 days"],
  ["30", "Expires in 30 days"],
  ["90", "Expires in 90 days"],
  ["365", "Expires in a year"],
] as const;

export function TokensPage() {
  const qc = useQueryClient();
  const now = useNow(30000);
  const everyone = useCan("tokens.manage");
  const tokens = useQuery({ queryKey: TOKENS, queryFn: () => trpc.account.tokens.query() });
  const [name, setName] = useState("");
  const [days, setDays] = useState("");
  const create = useMutation({
    mutationFn: (input: { name: string; expiresInDays?: number }) =>
      trpc.account.createToken.mutate(input),
    onSuccess: () => {
      setName("");
      setDays("");
      void qc.invalidateQueries({ queryKey: TOKENS });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => trpc.account.revokeToken.mutate({ id }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: TOKENS }),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name, ...(days ? { expiresInDays: Number(days) } : {}) });
  }

  return (
    <ResourceList<TokenView>
      title="API tokens"
      noun="tokens"
      summary={
        <>
          for scripts: <code>Authorization: Bearer TOKEN</code> on <code>/api/v1</code>
          {everyone ? " · you see every user's" : ""}
        </>
      }
      query={tokens}
      items={tokens.data?.filter((t) => !t.expiresAt || Date.parse(t.expiresAt) > now)}
      loading="Loading tokens…"
      empty={{
        title: "No API tokens",
        next: "Name one above (after the script that will use it) and press Create token.",
      }}
      rowKey={(t) => t.id}
      rowName={(t) => t.name}
      rowData={(t) => ({ "data-token": t.name, "data-kind": t.kind })}
      columns={[
        { label: "Name", cell: (t) => <b>{t.name}</b> },
        {
          label: "Kind",
          cell: (t) => (
            <span
              className="badge"
              title={
                t.kind === "login"
                  ? "made by a login (POST /api/v1/auth/login), e.g. a CLI's"
                  : "made on this page"
              }
            >
              {t.kind}
            </span>
          ),
        },
        everyone && { label: "User", cell: (t) => t.user },
        {
          label: "Created",
          title: (t) => dateTime(t.createdAt),
          cell: (t) => ago(t.createdAt, now),
        },
        {
          label: "Last used",
          title: (t) => dateTime(t.lastUsedAt),
          cell: (t) => ago(t.lastUsedAt, now),
        },
        {
          label: "Expires",
          title: (t) => dateTime(t.expiresAt),
          cell: (t) => until(t.expiresAt, now),
        },
      ]}
      rowActions={(t) => (
        <button
          className="small danger"
          disabled={revoke.isPending && revoke.variables === t.id}
          onClick={() => {
            if (window.confirm(`Revoke ${t.name}? Scripts using it stop working.`))
              revoke.mutate(t.id);
          }}
        >
          Revoke
        </button>
      )}
    >
      <form className="toolbar" onSubmit={submit} aria-label="New token">
        <input
          aria-label="Token name"
          placeholder="Name, e.g. ci-deploy"
          value={name}
          maxLength={100}
          onChange={(e) => setName(e.target.value)}
          style={{ flex: "1 1 220px" }}
        />
        <select aria-label="Expiry" value={days} onChange={(e) => setDays(e.target.value)}>
          {EXPIRIES.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
        <button className="primary" type="submit" disabled={create.isPending || !name.trim()}>
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </form>
      {create.isError && (
        <div className="error" role="alert" style={{ marginBottom: 12 }}>
          {errorMessage(create.error)}
        </div>
      )}
      {create.data && (
        <section className="panel" style={{ marginBottom: 16 }} aria-label="New token secret">
          <h2>Token “{create.data.name}” created</h2>
          <p className="sub">
            Copy it now: it is not shown again (only its hash is kept).{" "}
            {create.data.expiresAt
              ? `It expires on ${dateTime(create.data.expiresAt)}.`
              : "It never expires: revoke it here when its script is gone."}
          </p>
          <div className="command">
            <code data-testid="new-token">{create.data.token}</code>
            <CopyButton text={create.data.token} />
          </div>
        </section>
      )}
      {revoke.isError && (
        <div className="error" role="alert" style={{ marginBottom: 12 }}>
          {errorMessage(revoke.error)}
        </div>
      )}
    </ResourceList>
  );
}
