"use client";
// Email + password -> POST /api/v1/auth/session, which sets the httpOnly session cookie (and
// makes no API token: scripts use /api/v1/auth/login for that).
import { useState, type FormEvent } from "react";
import { CSRF_HEADER } from "../csrf-header.ts";

export function LoginForm({ next }: { next: string }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    try {
      const res = await fetch("/api/v1/auth/session", {
        method: "POST",
        headers: { "content-type": "application/json", [CSRF_HEADER]: "1" },
        body: JSON.stringify({ email: form.get("email"), password: form.get("password") }),
      });
      if (res.ok) {
        window.location.assign(next);
        return;
      }
      const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      setError(body.error ?? body.message ?? `login failed (${res.status})`);
    } catch {
      setError("the server cannot be reached: is it running?");
    }
    setBusy(false);
  }

  return (
    <div className="login">
      <form className="panel" onSubmit={submit}>
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
        <p className="sub" style={{ margin: 0, fontSize: 12 }}>
          First time? The server printed the first admin&apos;s email and one-time password when it
          started (or set CORRAL_ADMIN_EMAIL and CORRAL_ADMIN_PASSWORD).
        </p>
      </form>
    </div>
  );
}
