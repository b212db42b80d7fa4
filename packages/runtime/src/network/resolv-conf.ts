// The host's /etc/resolv.conf as the embedded DNS resolver needs it: the upstream nameservers
// it forwards to, and the search domains it strips from names that are local. Parsed the way
// glibc reads it (resolv.conf(5)): `#` or `;` starts a comment line, the last `search` or
// `domain` line wins, at most three nameservers are used. Hand-written: the format is a few
// keywords per line and no maintained npm package parses it better.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";

export interface ResolvConf {
  /** Nameserver addresses in file order (IPv4 or IPv6, an IPv6 zone kept as `fe80::1%eth0`). */
  nameservers: string[];
  /** Search domains, lower case, without trailing dots. */
  search: string[];
  /** `options` tokens as written (`ndots:0`, `edns0`, ...). */
  options: string[];
}

/** glibc's MAXNS: later nameserver lines are ignored by every program on the host. */
const MAX_NAMESERVERS = 3;

export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of text.split("\n")) {
    const [keyword, ...args] = line.trim().split(/\s+/);
    if (!keyword || keyword.startsWith("#") || keyword.startsWith(";")) continue;
    // Anything after a comment character on the line is not an argument.
    const end = args.findIndex((a) => a.startsWith("#") || a.startsWith(";"));
    const values = end === -1 ? args : args.slice(0, end);
    switch (keyword) {
      case "nameserver": {
        const address = values[0];
        if (address && isIP(address) && conf.nameservers.length < MAX_NAMESERVERS) {
          conf.nameservers.push(address);
        }
        break;
      }
      case "search":
      case "domain":
        conf.search = values
          .map((d) => d.toLowerCase().replace(/\.$/, ""))
          .filter((d) => d.length > 0);
        if (keyword === "domain") conf.search = conf.search.slice(0, 1);
        break;
      case "options":
        conf.options.push(...values);
        break;
    }
  }
  return conf;
}

/**
 * The host's resolver configuration. A missing file means no nameservers: glibc would then try
 * 127.0.0.1, but forwarding there guesses, so the resolver answers SERVFAIL instead.
 */
export function readResolvConf(path = "/etc/resolv.conf"): ResolvConf {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return parseResolvConf("");
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseResolvConf(text);
}
