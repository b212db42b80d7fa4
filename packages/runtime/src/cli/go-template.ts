// Go's text/template, the subset Docker users' scripts use in `--format`: fields (`.State.Pid`),
// variables (`$`, `$i, $v := ...`), pipelines (`{{.Names | upper}}`), parentheses,
// `if`/`else if`/`else`, `range` (arrays and maps, with `else`), `with`, comments, trim markers
// (`{{-`, `-}}`), Go's functions (and, or, not, len, index, slice, print, printf, println, eq, ne,
// lt, le, gt, ge) and Docker's (json, upper, lower, title, join, split, pad, truncate).
// Hand-written: the npm ports of text/template found (e.g. @ctrl/golang-template) have no
// pipelines, no function calls with arguments and no way to add functions, which `{{json .}}`,
// `{{index .Labels "k"}}` and `{{.Names | upper}}` need; the others wrap a Go binary.

export class TemplateError extends Error {
  constructor(message: string) {
    super(`template: ${message}`);
    this.name = "TemplateError";
  }
}

// ---- syntax -------------------------------------------------------------------------------

type Operand =
  | { kind: "field"; root: "dot" | "var"; name: string; path: string[] }
  | { kind: "literal"; value: unknown }
  | { kind: "function"; name: string }
  | { kind: "pipeline"; pipeline: Pipeline; path: string[] };

interface Pipeline {
  declare: string[];
  commands: Operand[][];
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipeline: Pipeline }
  | { kind: "if" | "with" | "range"; pipeline: Pipeline; body: Node[]; otherwise: Node[] };

type Token =
  | { t: "field"; path: string[] }
  | { t: "var"; name: string; path: string[] }
  | { t: "string"; value: string }
  | { t: "number"; value: number }
  | { t: "ident"; name: string }
  | { t: "punct"; value: "|" | "(" | ")" | ":=" | "=" | "," };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const FIELD_CHAIN = /^(?:\.[A-Za-z_][A-Za-z0-9_]*)+/;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (rest.startsWith(":=")) {
      tokens.push({ t: "punct", value: ":=" });
      i += 2;
    } else if ("|(),=".includes(c)) {
      tokens.push({ t: "punct", value: c as "|" });
      i++;
    } else if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(rest);
      if (!m) throw new TemplateError(`unterminated quoted string in ${src}`);
      tokens.push({ t: "string", value: JSON.parse(m[0]) as string });
      i += m[0].length;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new TemplateError(`unterminated raw string in ${src}`);
      tokens.push({ t: "string", value: src.slice(i + 1, end) });
      i = end + 1;
    } else if (c === ".") {
      const m = FIELD_CHAIN.exec(rest);
      const path = m ? m[0].slice(1).split(".") : [];
      tokens.push({ t: "field", path });
      i += m ? m[0].length : 1;
    } else if (c === "$") {
      const name = IDENT.exec(rest.slice(1))?.[0] ?? "";
      i += 1 + name.length;
      const m = FIELD_CHAIN.exec(src.slice(i));
      tokens.push({ t: "var", name: `$${name}`, path: m ? m[0].slice(1).split(".") : [] });
      if (m) i += m[0].length;
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(?:0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/.exec(rest);
      if (!m) throw new TemplateError(`bad number syntax in ${src}`);
      tokens.push({ t: "number", value: Number(m[0]) });
      i += m[0].length;
    } else if (IDENT.test(rest)) {
      const name = IDENT.exec(rest)?.[0] as string;
      tokens.push({ t: "ident", name });
      i += name.length;
    } else {
      throw new TemplateError(`unexpected "${c}" in ${src}`);
    }
  }
  return tokens;
}

class PipelineParser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
  ) {}

  parse(): Pipeline {
    const p = this.pipeline();
    if (this.pos < this.tokens.length) throw new TemplateError(`unexpected tokens in ${this.src}`);
    return p;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isPunct(value: string, at = this.pos): boolean {
    const t = this.tokens[at];
    return t?.t === "punct" && t.value === value;
  }

  private pipeline(): Pipeline {
    const declare: string[] = [];
    // `$v :=` or `$i, $v :=`
    const save = this.pos;
    while (this.peek()?.t === "var") {
      declare.push((this.peek() as { name: string }).name);
      this.pos++;
      if (this.isPunct(",")) this.pos++;
      else break;
    }
    if (declare.length && (this.isPunct(":=") || this.isPunct("="))) this.pos++;
    else {
      declare.length = 0;
      this.pos = save;
    }
    const commands: Operand[][] = [this.command()];
    while (this.isPunct("|")) {
      this.pos++;
      commands.push(this.command());
    }
    return { declare, commands };
  }

  private command(): Operand[] {
    const operands: Operand[] = [];
    for (;;) {
      const t = this.peek();
      if (!t || (t.t === "punct" && t.value !== "(")) break;
      operands.push(this.operand());
    }
    if (operands.length === 0) throw new TemplateError(`missing value for command in ${this.src}`);
    return operands;
  }

  private operand(): Operand {
    const t = this.tokens[this.pos++] as Token;
    switch (t.t) {
      case "field":
        return { kind: "field", root: "dot", name: ".", path: t.path };
      case "var":
        return { kind: "field", root: "var", name: t.name, path: t.path };
      case "string":
      case "number":
        return { kind: "literal", value: t.value };
      case "ident":
        if (t.name === "true" || t.name === "false")
          return { kind: "literal", value: t.name === "true" };
        if (t.name === "nil") return { kind: "literal", value: undefined };
        return { kind: "function", name: t.name };
      case "punct": {
        const pipeline = this.pipeline();
        if (!this.isPunct(")")) throw new TemplateError(`unclosed left paren in ${this.src}`);
        this.pos++;
        const next = this.peek();
        let path: string[] = [];
        if (next?.t === "field" && next.path.length) {
          path = next.path;
          this.pos++;
        }
        return { kind: "pipeline", pipeline, path };
      }
    }
  }
}

const parsePipeline = (src: string): Pipeline => new PipelineParser(tokenize(src), src).parse();

/** Splits a template into text and actions, applying the trim markers. */
function lex(template: string): ({ text: string } | { action: string })[] {
  const items: ({ text: string } | { action: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= template.length) {
    const open = template.indexOf("{{", i);
    let text = template.slice(i, open < 0 ? template.length : open);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (open < 0) {
      if (text) items.push({ text });
      break;
    }
    const close = template.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateError(`unclosed action in ${JSON.stringify(template)}`);
    let inner = template.slice(open + 2, close);
    if (/^-\s/.test(inner)) {
      text = text.replace(/\s+$/, "");
      inner = inner.slice(1);
    }
    trimNext = /\s-$/.test(inner);
    if (trimNext) inner = inner.slice(0, -1);
    if (text) items.push({ text });
    inner = inner.trim();
    if (!/^\/\*[\s\S]*\*\/$/.test(inner)) items.push({ action: inner });
    i = close + 2;
  }
  return items;
}

/** Parses a template into nodes. */
export function parseTemplate(template: string): Node[] {
  const items = lex(template);
  let pos = 0;
  // Returns the list and the keyword that ended it ("end", "else", or "" at the end of input).
  const list = (): { nodes: Node[]; ended: string; rest: string } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const item = items[pos++] as { text: string } | { action: string };
      if ("text" in item) {
        nodes.push({ kind: "text", text: item.text });
        continue;
      }
      const [, keyword = "", rest = ""] = /^([a-z]+)\b\s*([\s\S]*)$/.exec(item.action) ?? [];
      if (keyword === "end" || keyword === "else") return { nodes, ended: keyword, rest };
      if (keyword === "if" || keyword === "with" || keyword === "range") {
        nodes.push(block(keyword, rest));
        continue;
      }
      if (item.action === "") throw new TemplateError("missing value for command");
      nodes.push({ kind: "action", pipeline: parsePipeline(item.action) });
    }
    return { nodes, ended: "", rest: "" };
  };
  const block = (kind: "if" | "with" | "range", src: string): Node => {
    const pipeline = parsePipeline(src);
    const body = list();
    let otherwise: Node[] = [];
    if (body.ended === "else") {
      if (/^if\b/.test(body.rest)) {
        // `else if X` is an `if` in the else branch that shares this block's `end`.
        otherwise = [block("if", body.rest.replace(/^if\s*/, ""))];
      } else {
        const e = list();
        if (e.ended !== "end") throw new TemplateError(`unexpected EOF: ${kind} without end`);
        otherwise = e.nodes;
      }
    } else if (body.ended !== "end") throw new TemplateError(`unexpected EOF: ${kind} without end`);
    return { kind, pipeline, body: body.nodes, otherwise };
  };
  const top = list();
  if (top.ended) throw new TemplateError(`unexpected {{${top.ended}}}`);
  return top.nodes;
}

// ---- values -------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Go's notion of true: not the zero value, not empty. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** A value as Go's fmt %v prints it. */
export function printValue(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(printValue).join(" ")}]`;
  if (isObject(v))
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${printValue(v[k])}`)
      .join(" ")}]`;
  return String(v);
}

function printf(format: string, ...args: unknown[]): string {
  let n = 0;
  return format.replace(
    /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([svdqftxX%])/g,
    (_m, flags: string, width?: string, precision?: string, verb?: string) => {
      if (verb === "%") return "%";
      const arg = args[n++];
      let s: string;
      if (verb === "q") s = JSON.stringify(printValue(arg));
      else if (verb === "d") s = String(Math.trunc(Number(arg)));
      else if (verb === "f")
        s = Number(arg).toFixed(precision === undefined ? 6 : Number(precision));
      else if (verb === "x" || verb === "X") {
        s =
          typeof arg === "number" ? arg.toString(16) : Buffer.from(printValue(arg)).toString("hex");
        if (verb === "X") s = s.toUpperCase();
      } else {
        s = printValue(arg);
        if (precision !== undefined) s = s.slice(0, Number(precision));
      }
      const w = Number(width ?? 0);
      if (s.length < w)
        s = flags.includes("-") ? s.padEnd(w) : s.padStart(w, flags.includes("0") ? "0" : " ");
      return s;
    },
  );
}

function compare(a: unknown, b: unknown, name: string): number {
  if (typeof a !== typeof b || (typeof a !== "number" && typeof a !== "string"))
    throw new TemplateError(`${name}: incompatible types for comparison`);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function indexInto(v: unknown, keys: unknown[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (Array.isArray(cur) || typeof cur === "string") {
      if (typeof k !== "number" || k < 0 || k >= cur.length)
        throw new TemplateError(`index: index out of range: ${printValue(k)}`);
      cur = cur[k];
    } else if (isObject(cur)) cur = cur[String(k)];
    else if (cur === undefined || cur === null) return undefined;
    else throw new TemplateError(`index: can't index item of type ${typeof cur}`);
  }
  return cur;
}

type TemplateFunction = (...args: unknown[]) => unknown;

/** Go's builtins and Docker's additions (docker/cli templates.basicFunctions). */
const FUNCTIONS: Record<string, TemplateFunction> = {
  and: (...a) => a.find((v) => !truth(v)) ?? a[a.length - 1],
  or: (...a) => a.find((v) => truth(v)) ?? a[a.length - 1],
  not: (v) => !truth(v),
  len: (v) => {
    if (typeof v === "string" || Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw new TemplateError(`len of ${printValue(v)}`);
  },
  index: (v, ...keys) => indexInto(v, keys),
  slice: (v, from = 0, to?: unknown) => {
    if (typeof v !== "string" && !Array.isArray(v)) throw new TemplateError("slice of non-list");
    return v.slice(Number(from), to === undefined ? undefined : Number(to));
  },
  print: (...a) =>
    a
      .map(
        (v, i) =>
          (i > 0 && typeof v !== "string" && typeof a[i - 1] !== "string" ? " " : "") +
          printValue(v),
      )
      .join(""),
  println: (...a) => `${a.map(printValue).join(" ")}\n`,
  printf: (format, ...a) => printf(String(format), ...a),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b, "lt") < 0,
  le: (a, b) => compare(a, b, "le") <= 0,
  gt: (a, b) => compare(a, b, "gt") > 0,
  ge: (a, b) => compare(a, b, "ge") >= 0,
  json: (v) => JSON.stringify(v ?? null),
  upper: (s) => printValue(s).toUpperCase(),
  lower: (s) => printValue(s).toLowerCase(),
  title: (s) => printValue(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (list, sep) =>
    Array.isArray(list) ? list.map(printValue).join(String(sep)) : printValue(list),
  split: (s, sep) => printValue(s).split(String(sep)),
  pad: (s, left, right) =>
    `${" ".repeat(Number(left))}${printValue(s)}${" ".repeat(Number(right))}`,
  truncate: (s, n) => printValue(s).slice(0, Number(n)),
};

// ---- execution ----------------------------------------------------------------------------

type Vars = Map<string, unknown>;

function field(value: unknown, path: string[], from: string): unknown {
  let cur = value;
  for (const name of path) {
    if (isObject(cur)) {
      if (!(name in cur) && /^[A-Z]/.test(name) && !Object.keys(cur).some((k) => /^[a-z]/.test(k)))
        throw new TemplateError(`can't evaluate field ${name} in ${from}`);
      cur = cur[name];
    } else if (cur === undefined || cur === null) {
      return undefined;
    } else throw new TemplateError(`can't evaluate field ${name} in type ${typeof cur}`);
  }
  return cur;
}

function evalCommand(cmd: Operand[], dot: unknown, vars: Vars, final: unknown[]): unknown {
  const [first, ...rest] = cmd as [Operand, ...Operand[]];
  const args = (): unknown[] => [...rest.map((o) => evalOperand(o, dot, vars)), ...final];
  if (first.kind === "function") {
    const fn = FUNCTIONS[first.name];
    if (!fn) throw new TemplateError(`function "${first.name}" not defined`);
    return fn(...args());
  }
  const value = evalOperand(first, dot, vars);
  // A field holding a function is a method: `{{.Label "com.example"}}`.
  if (typeof value === "function") return (value as TemplateFunction)(...args());
  if (rest.length || final.length)
    throw new TemplateError(`can't give argument to non-function ${describe(first)}`);
  return value;
}

const describe = (o: Operand): string =>
  o.kind === "field" ? `${o.root === "dot" ? "" : o.name}.${o.path.join(".")}` : o.kind;

function evalOperand(o: Operand, dot: unknown, vars: Vars): unknown {
  switch (o.kind) {
    case "literal":
      return o.value;
    case "function":
      return evalCommand([o], dot, vars, []);
    case "field": {
      if (o.root === "var" && !vars.has(o.name))
        throw new TemplateError(`undefined variable: ${o.name}`);
      const base = o.root === "dot" ? dot : vars.get(o.name);
      return field(base, o.path, describe(o));
    }
    case "pipeline":
      return field(evalPipeline(o.pipeline, dot, vars), o.path, "(...)");
  }
}

function evalPipeline(p: Pipeline, dot: unknown, vars: Vars): unknown {
  let value: unknown;
  p.commands.forEach((cmd, i) => {
    value = evalCommand(cmd, dot, vars, i === 0 ? [] : [value]);
  });
  if (p.declare.length === 1) vars.set(p.declare[0] as string, value);
  return value;
}

function execute(nodes: Node[], dot: unknown, vars: Vars, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case "text":
        out.push(node.text);
        break;
      case "action": {
        const v = evalPipeline(node.pipeline, dot, vars);
        if (node.pipeline.declare.length === 0) out.push(printValue(v));
        break;
      }
      case "if":
      case "with": {
        const scope = new Map(vars);
        const v = evalPipeline(node.pipeline, dot, scope);
        if (truth(v)) execute(node.body, node.kind === "with" ? v : dot, scope, out);
        else execute(node.otherwise, dot, scope, out);
        break;
      }
      case "range": {
        const { declare } = node.pipeline;
        const scope = new Map(vars);
        const v = evalPipeline({ ...node.pipeline, declare: [] }, dot, scope);
        const entries: [unknown, unknown][] = Array.isArray(v)
          ? v.map((e, i) => [i, e])
          : isObject(v)
            ? Object.keys(v)
                .sort()
                .map((k) => [k, v[k]])
            : typeof v === "number"
              ? Array.from({ length: v }, (_e, i) => [i, i])
              : [];
        if (
          v !== undefined &&
          v !== null &&
          !Array.isArray(v) &&
          !isObject(v) &&
          typeof v !== "number"
        )
          throw new TemplateError(`range can't iterate over ${printValue(v)}`);
        if (entries.length === 0) execute(node.otherwise, dot, scope, out);
        for (const [k, e] of entries) {
          const inner = new Map(scope);
          if (declare.length === 1) inner.set(declare[0] as string, e);
          if (declare.length === 2) {
            inner.set(declare[0] as string, k);
            inner.set(declare[1] as string, e);
          }
          execute(node.body, e, inner, out);
        }
        break;
      }
    }
  }
}

/** A parsed template, to run on many values. */
export class GoTemplate {
  private readonly nodes: Node[];
  constructor(readonly source: string) {
    this.nodes = parseTemplate(source);
  }

  execute(data: unknown): string {
    const out: string[] = [];
    execute(this.nodes, data, new Map([["$", data]]), out);
    return out.join("");
  }
}
