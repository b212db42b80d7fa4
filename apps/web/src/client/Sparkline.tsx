// A tiny line of recent values for a table row, as plain SVG: a chart library per row would
// cost a canvas and a resize observer for each of hundreds of hosts.
export function sparkPoints(values: number[], max: number, width: number, height: number): string {
  if (values.length < 2 || max <= 0) return "";
  const step = width / (values.length - 1);
  return values
    .map((v, i) => {
      const y = height - (Math.min(Math.max(v, 0), max) / max) * (height - 2) - 1;
      return `${(i * step).toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

export function Sparkline({
  values,
  max,
  label,
  color = "var(--accent)",
}: {
  values: number[];
  max: number;
  label: string;
  color?: string;
}) {
  const w = 96;
  const h = 24;
  const points = sparkPoints(values.slice(-60), max, w, h);
  return (
    <svg
      className="spark"
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label={label}
      data-points={values.length}
    >
      <line x1="0" y1={h - 0.5} x2={w} y2={h - 0.5} stroke="var(--border)" />
      {points && <polyline points={points} fill="none" stroke={color} strokeWidth="1.5" />}
    </svg>
  );
}
