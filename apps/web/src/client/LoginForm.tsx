"use client";
// Email + password -> POST /api/v1/auth/session, which sets the httpOnly session cookie (and
// makes no API token: scripts use /api/v1/auth/login for that). Sent before React hydrates (a
// slow phone, a busy server) or without JavaScript, the form is a native POST /login
// (server/login-forms.ts: the same login, then a redirect), never a GET with the password in
// the URL; its error comes back as ?error= (`failed`).
import { useState, type FormEvent } from "react";
import { postJson } from "./rest.ts";

export function LoginForm({
  next,
  setupOpen,
  failed = "",
}: {
  next: string;
  setupOpen: boolean;
  /** the native form post's error (?error=) */
  failed?: string;
}) {
  const [error, setError] = useState(failed);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    try {
      await postJson("/api/v1/auth/session", {
        email: form.get("email"),
        password: form.get("password"),
      });
      window.location.assign(next);
      return;
    } catch (err) {
      setError((err as Error).message);
    }
    setBusy(false);
  }

  return (
    <div className="login">
      <form className="panel" method="post" action="/login" onSubmit={submit}>
        <input type="hidden" name="next" value={next} />
        <div>
          <h1>Corral</h1>
          <p className="sub">Log in to manage your hosts and containers.</p>
        </div>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
        {setupOpen ? (
          <div className="notice" role="status">
            <b>No user yet.</b> <a href="/setup">Set up Corral</a> with the one-time setup token the
            server printed when it started.
          </div>
        ) : (
          <p className="sub" style={{ margin: 0, fontSize: 12 }}>
            No account? Ask an admin of this Corral to make you one.
          </p>
        )}
      </form>
    </div>
  );
}
