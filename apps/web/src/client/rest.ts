// The pages' few REST calls that set the session cookie (login, setup): a JSON POST whose
// failure is the server's own message.
import { CSRF_HEADER } from "../csrf-header.ts";

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", [CSRF_HEADER]: "1" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error("the server cannot be reached: is it running?");
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok) throw new Error(answer.error ?? answer.message ?? `failed (${res.status})`);
  return answer as T;
}
