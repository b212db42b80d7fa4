// State badges: one colour per meaning, the word always shown (colour is never the only cue).
import type { ContainerView } from "../server/services/containers.ts";

const CONTAINER_TONE: Record<ContainerView["state"], string> = {
  running: "ok",
  paused: "warn",
  restarting: "warn",
  created: "",
  exited: "",
  dead: "bad",
  unknown: "warn",
};

export function ContainerState({
  c,
}: {
  c: Pick<ContainerView, "state" | "exitCode" | "oomKilled">;
}) {
  let tone = CONTAINER_TONE[c.state];
  let text: string = c.state;
  if (c.state === "exited" && c.exitCode !== null) {
    text = c.oomKilled ? `oom-killed (${c.exitCode})` : `exited (${c.exitCode})`;
    if (c.exitCode !== 0) tone = "bad";
  }
  return <span className={`badge ${tone}`}>{text}</span>;
}

export function HostStatus({ status }: { status: "online" | "offline" }) {
  return <span className={`badge ${status === "online" ? "ok" : "bad"}`}>{status}</span>;
}
