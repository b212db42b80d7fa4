// Pull progress for a person, as Docker draws it: on a terminal one line per layer, redrawn in
// place (ANSI cursor movement) with a bar and byte counts; elsewhere (a pipe, a log file) a
// plain line only when a layer is finished. Pure: callers give the events, the time and the
// terminal width, and write the text this returns.
import { formatBytes } from "./format.js";

/** A layer event of the daemon's pull stream (PullProgress as JSON). */
export interface LayerEvent {
  type: "layer";
  digest: string;
  status: string;
  bytes?: number;
  total?: number;
}

/** Redraws while bytes are flowing come at most this often; status changes draw at once. */
export const REDRAW_INTERVAL_MS = 100;
/** Docker's bar width on a wide terminal. */
const MAX_BAR = 50;
/** "0123456789ab: Downloading " + "[" + "] " + "1023KiB/1023KiB" */
const LINE_WITHOUT_BAR = 26 + 3 + 15;
const MIN_BAR = 10;

const ESC = "\x1b[";

/** The 12 hex digits Docker shows for a layer. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/** `[=====>     ]`: `width` characters between the brackets. */
export function progressBar(bytes: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, bytes / total)) : 0;
  const filled = Math.floor(ratio * width);
  const inner =
    filled >= width ? "=".repeat(width) : "=".repeat(filled) + ">" + " ".repeat(width - filled - 1);
  return `[${inner}]`;
}

interface Layer {
  status: string;
  bytes: number;
  total: number;
}

/** The text of one layer's line, fitted to `columns` (a wrapped line would break the redraw). */
function layerLine(id: string, layer: Layer, columns: number): string {
  let text: string;
  switch (layer.status) {
    case "exists":
      text = `${id}: Already exists`;
      break;
    case "done":
      text = `${id}: Pull complete`;
      break;
    case "downloading": {
      // Layers unpack while they download: once every byte is in, only the last writes remain.
      if (layer.total > 0 && layer.bytes >= layer.total) {
        text = `${id}: Extracting`;
        break;
      }
      // The count right-aligned as Docker's "%8v/%v", so the bar does not jitter.
      const numbers = `${formatBytes(layer.bytes).padStart(7)}/${formatBytes(layer.total)}`;
      const width = Math.min(MAX_BAR, columns - 1 - LINE_WITHOUT_BAR);
      const bar = width >= MIN_BAR ? `${progressBar(layer.bytes, layer.total, width)} ` : "";
      text = `${id}: Downloading ${bar}${numbers}`;
      break;
    }
    default:
      text = `${id}: ${layer.status}`;
  }
  return text.length < columns ? text : text.slice(0, Math.max(0, columns - 1));
}

/** The layers of one pull as a block of lines redrawn in place on a terminal. */
export class ProgressBoard {
  private readonly layers = new Map<string, Layer>();
  /** lines on the screen from the last draw (the cursor is just below them) */
  private drawn = 0;
  private lastDraw = -Infinity;
  private dirty = false;

  /**
   * Takes one event. Returns whether to draw now: at once when a layer appears or changes
   * status, at most every REDRAW_INTERVAL_MS for byte counts.
   */
  update(event: LayerEvent, now: number): boolean {
    const id = shortId(event.digest);
    const previous = this.layers.get(id);
    this.layers.set(id, {
      status: event.status,
      bytes: event.bytes ?? 0,
      total: event.total ?? previous?.total ?? 0,
    });
    this.dirty = true;
    return previous?.status !== event.status || now - this.lastDraw >= REDRAW_INTERVAL_MS;
  }

  /** The board's lines as they stand. */
  lines(columns: number): string[] {
    return [...this.layers].map(([id, layer]) => layerLine(id, layer, columns));
  }

  /**
   * What to write to redraw the board: up over the lines drawn before, then every line
   * cleared and written again. Empty when nothing changed since the last draw.
   */
  draw(columns: number, now: number): string {
    if (!this.dirty) return "";
    this.dirty = false;
    this.lastDraw = now;
    const lines = this.lines(columns);
    const up = this.drawn > 0 ? `${ESC}${this.drawn}A` : "";
    this.drawn = lines.length;
    return up + lines.map((line) => `\r${ESC}2K${line}\n`).join("");
  }
}

/** Off a terminal: one line per finished layer, none for byte counts. */
export function plainLine(event: LayerEvent): string | undefined {
  const id = shortId(event.digest);
  if (event.status === "exists") return `${id}: Already exists`;
  if (event.status === "done") return `${id}: Pull complete (${formatBytes(event.bytes ?? 0)})`;
  return undefined;
}
