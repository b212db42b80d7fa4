// A command line typed in a form, split as a POSIX shell splits words (quotes and backslashes),
// so `sh -c "echo hi"` becomes ["sh", "-c", "echo hi"]. Hand-written: no variables, globs or
// operators are meant here, and a full shell parser would be far larger than this need.
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string))
        word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`the command has an unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

export interface PortSpec {
  hostIp?: string;
  hostPort?: number;
  containerPort: number;
  protocol?: "tcp" | "udp";
}

/** "8080:80, 127.0.0.1:5353:53/udp, 9000" as Docker's -p reads each entry. */
export function parsePorts(text: string): PortSpec[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      const m = /^(?:(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})?:)?(\d{1,5})(?:\/(tcp|udp))?$/.exec(
        entry,
      );
      if (!m) throw new Error(`port "${entry}": write HOST:CONTAINER, e.g. 8080:80 or 5353:53/udp`);
      const [, hostIp, hostPort, containerPort, protocol] = m;
      const port = (s: string) => {
        const n = Number(s);
        if (n < 1 || n > 65535) throw new Error(`port "${entry}": ports are 1-65535`);
        return n;
      };
      return {
        ...(hostIp ? { hostIp } : {}),
        ...(hostPort ? { hostPort: port(hostPort) } : {}),
        containerPort: port(containerPort as string),
        ...(protocol ? { protocol: protocol as "tcp" | "udp" } : {}),
      };
    });
}

/** One KEY=value per line; blank lines and # comments skipped. */
export function parseEnv(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      if (!/^[^=\s]+=/.test(l)) throw new Error(`environment line "${l}": write KEY=value`);
      return l;
    });
}
