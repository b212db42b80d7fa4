/** Prints rows under headers in aligned columns, as Docker's CLI does. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join("")
      .trimEnd();
  console.log(line(headers));
  for (const r of rows) console.log(line(r));
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(2) : v < 100 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

/** How long ago `iso` was, as Docker words it ("2 hours ago"); "N/A" for no time. */
export function timeAgo(iso: string, now = Date.now()): string {
  const at = Date.parse(iso);
  if (!iso || !Number.isFinite(at) || at <= 0) return "N/A";
  const s = Math.max(0, (now - at) / 1000);
  const h = s / 3600;
  const ago = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? "" : "s"} ago`;
  // The thresholds of Docker's units.HumanDuration.
  if (s < 1) return "Less than a second ago";
  if (s < 60) return ago(Math.floor(s), "second");
  if (s < 120) return "About a minute ago";
  if (s < 3600) return ago(Math.floor(s / 60), "minute");
  if (s < 7200) return "About an hour ago";
  if (h < 48) return ago(Math.floor(h), "hour");
  if (h < 24 * 7 * 2) return ago(Math.floor(h / 24), "day");
  if (h < 24 * 30 * 2) return ago(Math.floor(h / 24 / 7), "week");
  if (h < 24 * 365 * 2) return ago(Math.floor(h / 24 / 30), "month");
  return ago(Math.floor(h / 24 / 365), "year");
}
