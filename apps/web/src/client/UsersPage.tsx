"use client";
// Users and roles (admins): add a user, change a role, remove one. The server refuses to demote
// or remove the last admin and says why; the page shows that reason.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ROLES } from "../access.ts";
import { Denied, useCan } from "./can.tsx";
import { ago, dateTime } from "./format.ts";
import { errorMessage, trpc } from "./trpc.ts";
import { ResourceList } from "./ResourceList.tsx";
import { useNow } from "./useNow.ts";

type UserView = Awaited<ReturnType<typeof trpc.users.list.query>>[number];

const USERS = ["users"] as const;
const ROLE_HELP: Record<(typeof ROLES)[number], string> = {
  viewer: "reads everything, changes nothing",
  operator: "also runs containers, pulls images, opens terminals",
  admin: "also manages users, tokens and hosts",
};

function AddUser({ onDone }: { onDone(): void }) {
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (input: { email: string; password: string; role: (typeof ROLES)[number] }) =>
      trpc.users.create.mutate(input),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: USERS });
      onDone();
    },
  });
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    create.mutate({
      email: String(f.get("email")),
      password: String(f.get("password")),
      role: String(f.get("role")) as (typeof ROLES)[number],
    });
  }
  return (
    <form
      className="panel form"
      style={{ marginBottom: 16 }}
      onSubmit={submit}
      aria-label="Add a user"
    >
      <h2 style={{ margin: 0 }}>Add a user</h2>
      <div className="row">
        <label>
          Email
          <input name="email" type="email" required autoFocus />
        </label>
        <label>
          Role
          <select name="role" defaultValue="viewer">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}: {ROLE_HELP[r]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label>
        First password (12 characters or more; they change it on their Change password page)
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={12}
          required
        />
      </label>
      {create.isError && (
        <div className="error" role="alert">
          {errorMessage(create.error)}
        </div>
      )}
      <div className="actions">
        <button className="primary" type="submit" disabled={create.isPending}>
          {create.isPending ? "Adding…" : "Add user"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function UsersPage() {
  const allowed = useCan("users.manage");
  const qc = useQueryClient();
  const now = useNow(30000);
  const users = useQuery({
    queryKey: USERS,
    queryFn: () => trpc.users.list.query(),
    enabled: allowed,
  });
  const [adding, setAdding] = useState(false);
  const [problem, setProblem] = useState<{ id: string; message: string } | null>(null);
  const done = () => void qc.invalidateQueries({ queryKey: USERS });
  const setRole = useMutation({
    mutationFn: (i: { id: string; role: (typeof ROLES)[number] }) => trpc.users.setRole.mutate(i),
    onSuccess: () => {
      setProblem(null);
      done();
    },
    onError: (err, i) => {
      setProblem({ id: i.id, message: errorMessage(err) });
      done(); // the select goes back to the stored role
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => trpc.users.remove.mutate({ id }),
    onSuccess: () => {
      setProblem(null);
      done();
    },
    onError: (err, id) => setProblem({ id, message: errorMessage(err) }),
  });
  if (!allowed) return <Denied permission="users.manage" what="Managing users" />;
  return (
    <ResourceList<UserView>
      title="Users"
      noun="users"
      summary={
        users.data &&
        `${users.data.length} user${users.data.length === 1 ? "" : "s"} · viewer reads, operator runs containers, admin manages users and hosts`
      }
      headActions={
        !adding && (
          <button className="primary" onClick={() => setAdding(true)}>
            Add user
          </button>
        )
      }
      query={users}
      items={users.data}
      loading="Loading users…"
      empty={{ title: "No users", next: "Add one above." }}
      rowKey={(u) => u.id}
      rowName={(u) => u.email}
      rowData={(u) => ({ "data-user": u.email })}
      columns={[
        {
          label: "Email",
          cell: (u) => (
            <div>
              <b>{u.email}</b>
              {problem?.id === u.id && (
                <div className="error" role="alert" style={{ marginTop: 4 }}>
                  {problem.message}
                </div>
              )}
            </div>
          ),
        },
        {
          label: "Role",
          cell: (u) => (
            <select
              aria-label={`Role of ${u.email}`}
              value={u.role}
              disabled={setRole.isPending}
              onChange={(e) =>
                setRole.mutate({ id: u.id, role: e.target.value as (typeof ROLES)[number] })
              }
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          ),
        },
        {
          label: "Added",
          title: (u) => dateTime(String(u.createdAt)),
          cell: (u) => ago(String(u.createdAt), now),
        },
      ]}
      rowActions={(u) => (
        <button
          className="small danger"
          disabled={remove.isPending && remove.variables === u.id}
          onClick={() => {
            if (
              window.confirm(
                `Remove ${u.email}? Their sessions and API tokens stop working; the audit log keeps their entries.`,
              )
            )
              remove.mutate(u.id);
          }}
        >
          Remove
        </button>
      )}
    >
      {adding && <AddUser onDone={() => setAdding(false)} />}
    </ResourceList>
  );
}
