"use client";
// First run: the one-time setup token from the server's console, then the first admin's email
// and password (POST /api/v1/setup, which also logs this browser in). Sent before React hydrates
// or without JavaScript, the form is a native POST /setup (server/login-forms.ts), never a GET
// with the token and password in the URL; its error comes back as ?error= (`failed`).
import { useState, type FormEvent } from "react";
import { postJson } from "./rest.ts";

export function SetupForm({ failed = "" }: { failed?: string }) {
  const [error, setError] = useState(failed);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    if (form.get("password") !== form.get("confirm")) {
      setError("the two passwords differ");
      return;
    }
    setBusy(true);
    setError("");
    try {
      await postJson("/api/v1/setup", {
        token: form.get("token"),
        email: form.get("email"),
        password: form.get("password"),
      });
      window.location.assign("/");
      return;
    } catch (err) {
      setError((err as Error).message);
    }
    setBusy(false);
  }

  return (
    <div className="login">
      <form className="panel" method="post" action="/setup" onSubmit={submit}>
        <div>
          <h1>Set up Corral</h1>
          <p className="sub">
            Make the first admin. The server printed a one-time setup token in its console when it
            started (<code>corral-web: no user yet: … setup token cst_…</code>); only someone who
            can read that console can set Corral up.
          </p>
        </div>
        <label>
          Setup token
          <input name="token" autoComplete="off" spellCheck={false} required autoFocus />
        </label>
        <label>
          Your email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password (12 characters or more)
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
          />
        </label>
        <label>
          Password again
          <input
            name="confirm"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
          />
        </label>
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? "Creating the admin…" : "Create the admin and log in"}
        </button>
      </form>
    </div>
  );
}
