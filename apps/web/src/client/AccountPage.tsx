"use client";
// Change password: the current one is checked again, and every other session of this user ends
// (this browser stays logged in).
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage, trpc } from "./trpc.ts";

export function AccountPage() {
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: (input: { currentPassword: string; newPassword: string }) =>
      trpc.account.changePassword.mutate(input),
  });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const form = new FormData(formEl);
    const newPassword = String(form.get("newPassword"));
    setMismatch(newPassword !== form.get("confirm"));
    if (newPassword !== form.get("confirm")) return;
    change.mutate(
      { currentPassword: String(form.get("currentPassword")), newPassword },
      { onSuccess: () => formEl.reset() },
    );
  }

  return (
    <>
      <div className="page-head">
        <h1>Change password</h1>
      </div>
      <form className="panel form narrow-form" onSubmit={submit}>
        <label>
          Current password
          <input name="currentPassword" type="password" autoComplete="current-password" required />
        </label>
        <label>
          New password (12 characters or more)
          <input
            name="newPassword"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
          />
        </label>
        <label>
          New password again
          <input
            name="confirm"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
          />
        </label>
        <p className="sub" style={{ margin: 0 }}>
          Your other sessions (other browsers) are logged out; this one stays. API tokens keep
          working: revoke them on the <a href="/tokens">API tokens</a> page.
        </p>
        {mismatch && (
          <div className="error" role="alert">
            The two new passwords differ.
          </div>
        )}
        {change.isError && (
          <div className="error" role="alert">
            {errorMessage(change.error)}
          </div>
        )}
        {change.isSuccess && (
          <div className="notice" role="status">
            Password changed.{" "}
            {change.data.endedSessions === 0
              ? "No other session was open."
              : `${change.data.endedSessions} other session${change.data.endedSessions === 1 ? "" : "s"} logged out.`}
          </div>
        )}
        <div>
          <button className="primary" type="submit" disabled={change.isPending}>
            {change.isPending ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </>
  );
}
