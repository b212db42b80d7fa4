// `--format` as Docker's CLI reads it: `json` (one object per line), `table TEMPLATE` (a header
// row, then the rows, aligned by tabs), or a Go template run once per row; `\t` and `\n` in the
// format are a tab and a newline.
import { GoTemplate, TemplateError } from "./go-template.js";
import { UsageError } from "./run-options.js";

/** Per command: the header of each field (Docker's names), and the table `table` alone shows. */
export interface FormatSpec {
  headers: Record<string, string>;
  defaultTable: string;
}

export const PS_FORMAT: FormatSpec = {
  headers: {
    ID: "CONTAINER ID",
    Image: "IMAGE",
    Command: "COMMAND",
    CreatedAt: "CREATED AT",
    RunningFor: "CREATED",
    Ports: "PORTS",
    Status: "STATUS",
    Size: "SIZE",
    Names: "NAMES",
    Labels: "LABELS",
    Label: "LABEL",
    Mounts: "MOUNTS",
    Networks: "NETWORKS",
    State: "STATE",
  },
  defaultTable:
    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
};

export const IMAGES_FORMAT: FormatSpec = {
  headers: {
    ID: "IMAGE ID",
    Repository: "REPOSITORY",
    Tag: "TAG",
    Digest: "DIGEST",
    CreatedSince: "CREATED",
    CreatedAt: "CREATED AT",
    Size: "SIZE",
  },
  defaultTable: "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
};

export const STATS_FORMAT: FormatSpec = {
  headers: {
    Container: "CONTAINER",
    ID: "CONTAINER ID",
    Name: "NAME",
    CPUPerc: "CPU %",
    MemUsage: "MEM USAGE / LIMIT",
    MemPerc: "MEM %",
    NetIO: "NET I/O",
    BlockIO: "BLOCK I/O",
    PIDs: "PIDS",
  },
  defaultTable:
    "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
};

export const NETWORK_FORMAT: FormatSpec = {
  headers: {
    ID: "NETWORK ID",
    Name: "NAME",
    Driver: "DRIVER",
    Scope: "SCOPE",
    IPv6: "IPV6",
    Internal: "INTERNAL",
    Labels: "LABELS",
    CreatedAt: "CREATED AT",
  },
  defaultTable: "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
};

export const VOLUME_FORMAT: FormatSpec = {
  headers: {
    Name: "VOLUME NAME",
    Driver: "DRIVER",
    Scope: "SCOPE",
    Mountpoint: "MOUNTPOINT",
    Labels: "LABELS",
  },
  defaultTable: "{{.Driver}}\t{{.Name}}",
};

/** Docker's row fields for labels: `.Labels` ("k=v,k2=v2") and `.Label "k"`. */
export function labelFields(labels: Record<string, string> | undefined): {
  Labels: string;
  Label: (key: unknown) => string;
} {
  const l = labels ?? {};
  return {
    Labels: Object.entries(l)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    Label: (key) => l[String(key)] ?? "",
  };
}

/** A `ps` row from the daemon, with Docker's `.Label "k"` and `.Size`. */
export function psFormatRow(row: Record<string, string>): object {
  const labels = Object.fromEntries(
    (row.Labels ?? "")
      .split(",")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=") >>> 0), kv.slice(kv.indexOf("=") + 1)]),
  );
  return { Size: "0B", ...row, Label: labelFields(labels).Label };
}

const unescape = (format: string): string => format.replace(/\\t/g, "\t").replace(/\\n/g, "\n");

/** Parses a user's template; a syntax error is a usage error that names the template. */
export function compileTemplate(format: string): GoTemplate {
  try {
    return new GoTemplate(unescape(format));
  } catch (err) {
    throw new UsageError(`invalid --format ${JSON.stringify(format)}: ${(err as Error).message}`);
  }
}

/** Runs a template on one value; an execution error is a usage error too. */
export function runTemplate(t: GoTemplate, data: unknown): string {
  try {
    return t.execute(data);
  } catch (err) {
    if (err instanceof TemplateError)
      throw new UsageError(`--format ${JSON.stringify(t.source)}: ${err.message}`);
    throw err;
  }
}

/**
 * Go's text/tabwriter as Docker configures it (minwidth 10, padding 3, spaces): a cell ends at
 * a tab and its column is as wide as its widest cell plus the padding; text after a line's last
 * tab is not aligned.
 */
export function tabwrite(lines: string[]): string {
  const cells = lines.map((l) => l.split("\t"));
  const widths: number[] = [];
  for (const row of cells)
    row.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length + 3, 10)));
  return cells
    .map((row) => row.map((c, i) => (i < row.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join(""))
    .map((l) => `${l}\n`)
    .join("");
}

/** Renders rows with a --format value (anything but undefined, which is each command's own table). */
export function formatRows(format: string, rows: object[], spec: FormatSpec): string {
  if (format === "json") return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  const table = /^table(\s|$)/.test(format);
  const source = table ? format.replace(/^table\s*/, "") || spec.defaultTable : format;
  const t = compileTemplate(source);
  const out = rows.map((r) => runTemplate(t, r));
  if (!table) return out.map((l) => `${l}\n`).join("");
  // The header row: the same template on a value whose every field is its header.
  const header = new Proxy(
    {},
    {
      get: (_t, name) =>
        typeof name === "string"
          ? (spec.headers[name] ?? name.replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase())
          : undefined,
      has: () => true,
    },
  );
  return tabwrite([runTemplate(t, header), ...out].join("\n").split("\n"));
}

/** Prints what `formatRows` renders. */
export function printFormatted(format: string, rows: object[], spec: FormatSpec): void {
  process.stdout.write(formatRows(format, rows, spec));
}
