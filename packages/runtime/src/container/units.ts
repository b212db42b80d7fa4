// Docker's human sizes ("512m", "1g", "100k", "64MiB") as bytes.
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

export function parseBytes(value: string, what: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(value.trim());
  if (!m)
    throw new Error(
      `invalid ${what} "${value}": use a number with an optional unit b, k, m or g (e.g. 512m)`,
    );
  const unit = UNITS[(m[2] ?? "").toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * unit);
}
