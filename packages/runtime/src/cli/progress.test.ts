import { test } from "node:test";
import assert from "node:assert/strict";
import { plainLine, progressBar, ProgressBoard, REDRAW_INTERVAL_MS } from "./progress.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const MiB = 1024 * 1024;
const ESC = "\x1b";

/** What a terminal shows after `text` is written from the top-left of an empty screen. */
function screen(text: string): string[] {
  const rows: string[] = [];
  let row = 0;
  let col = 0;
  for (let i = 0; i < text.length;) {
    const esc = text.startsWith(ESC, i) ? /^\[(\d*)([AK])/.exec(text.slice(i + 1)) : null;
    if (esc) {
      if (esc[2] === "A") row -= Number(esc[1] || 1);
      else rows[row] = ""; // 2K: the whole line
      i += 1 + esc[0].length;
      continue;
    }
    const ch = text[i++] as string;
    if (ch === "\r") col = 0;
    else if (ch === "\n") {
      row++;
      col = 0;
    } else {
      const line = (rows[row] ?? "").padEnd(col);
      rows[row] = line.slice(0, col) + ch + line.slice(col + 1);
      col++;
    }
  }
  return rows.map((r) => r ?? "");
}

test("the bar fills with the bytes and keeps its width", () => {
  assert.equal(progressBar(0, 100, 10), "[>         ]");
  assert.equal(progressBar(55, 100, 10), "[=====>    ]");
  assert.equal(progressBar(100, 100, 10), "[==========]");
  assert.equal(progressBar(5, 0, 4), "[>   ]");
});

test("a pull is drawn as Docker does, each layer's line redrawn in place", () => {
  const board = new ProgressBoard();
  let out = "";
  const feed = (e: Parameters<ProgressBoard["update"]>[0], now: number): void => {
    if (board.update(e, now)) out += board.draw(120, now);
  };
  feed({ type: "layer", digest: A, status: "exists", bytes: 0, total: 3 * MiB }, 0);
  feed({ type: "layer", digest: B, status: "downloading", bytes: 0, total: 40 * MiB }, 1);
  assert.deepEqual(screen(out), [
    "aaaaaaaaaaaa: Already exists",
    `bbbbbbbbbbbb: Downloading [>${" ".repeat(49)}]      0B/40.0MiB`,
  ]);

  // Byte counts within the interval wait; the next one after it draws.
  feed({ type: "layer", digest: B, status: "downloading", bytes: 10 * MiB, total: 40 * MiB }, 20);
  assert.equal(screen(out)[1]?.includes("0B/40.0MiB"), true);
  const later = 1 + REDRAW_INTERVAL_MS;
  feed(
    { type: "layer", digest: B, status: "downloading", bytes: 20 * MiB, total: 40 * MiB },
    later,
  );
  assert.deepEqual(screen(out), [
    "aaaaaaaaaaaa: Already exists",
    `bbbbbbbbbbbb: Downloading [${"=".repeat(25)}>${" ".repeat(24)}] 20.0MiB/40.0MiB`,
  ]);
  assert.equal(board.draw(120, later + 500), "", "nothing new, nothing drawn");

  // Every byte in, the last writes pending; then done, at once (a status change).
  feed({ type: "layer", digest: B, status: "downloading", bytes: 40 * MiB, total: 40 * MiB }, 300);
  assert.equal(screen(out)[1], "bbbbbbbbbbbb: Extracting");
  feed({ type: "layer", digest: B, status: "done", bytes: 40 * MiB, total: 40 * MiB }, 301);
  assert.deepEqual(screen(out), ["aaaaaaaaaaaa: Already exists", "bbbbbbbbbbbb: Pull complete"]);
  // The cursor is back below the board, where Digest and Status lines follow.
  assert.ok(out.endsWith("Pull complete\n"));
  assert.ok(out.includes(`${ESC}[2A`));
});

test("lines never wrap: the bar shrinks, then goes, on narrow terminals", () => {
  const board = new ProgressBoard();
  board.update({ type: "layer", digest: A, status: "downloading", bytes: MiB, total: 4 * MiB }, 0);
  const [wide] = board.lines(200);
  const [medium] = board.lines(70);
  const [narrow] = board.lines(50);
  const [tiny] = board.lines(20);
  assert.match(wide ?? "", /\[={12}>\s{37}\]/);
  assert.ok((medium ?? "").length < 70 && /\[=+>\s*\]/.test(medium ?? ""), medium);
  assert.equal(narrow, "aaaaaaaaaaaa: Downloading 1.00MiB/4.00MiB");
  assert.equal(tiny, "aaaaaaaaaaaa: Downl", "19 columns: the last one stays free");
});

test("off a terminal only finished layers print, one plain line each", () => {
  const base = { type: "layer" as const, digest: A, total: 2 * MiB };
  assert.equal(plainLine({ ...base, status: "downloading", bytes: MiB }), undefined);
  assert.equal(plainLine({ ...base, status: "exists", bytes: 0 }), "aaaaaaaaaaaa: Already exists");
  assert.equal(
    plainLine({ ...base, status: "done", bytes: 2 * MiB }),
    "aaaaaaaaaaaa: Pull complete (2.00MiB)",
  );
});
