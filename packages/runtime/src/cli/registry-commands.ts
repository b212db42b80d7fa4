// Registry commands: login, logout, push. The daemon checks and keeps the credentials (it does
// the pulls); these commands only gather input and print what it reports.
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { api, client, enc, ExitError } from "./common.js";
import { familiarName, parseReference } from "../image/reference.js";
import { formatBytes } from "./format.js";
import { shortId } from "./progress.js";

/** Reads a line from the terminal without echoing it (a password). */
async function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  try {
    let line = "";
    for await (const chunk of stdin) {
      for (const ch of (chunk as Buffer).toString("utf8")) {
        if (ch === "\r" || ch === "\n") return line;
        if (ch === "\u0003") throw new ExitError("login cancelled", 130);
        if (ch === "\u007f" || ch === "\b") line = line.slice(0, -1);
        else line += ch;
      }
    }
    return line;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

/** Reads a visible line from the terminal (a user name). */
async function readLine(prompt: string): Promise<string> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // As Docker: the trailing newline of `echo $PASS |` is not part of the password.
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

interface PushEvent {
  type: string;
  digest?: string;
  diffId?: string;
  status?: string;
  bytes?: number;
  total?: number;
  repository?: string;
  tag?: string;
  size?: number;
  configDigest?: string;
  message?: string;
}

async function push(ref: string, quiet: boolean): Promise<void> {
  await client.ensureDaemon();
  const res = await client.stream("POST", `/v1/images/push?ref=${enc(ref)}`);
  const say = (line: string): void => void (quiet || process.stderr.write(line + "\n"));
  let announced = false;
  try {
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      if (line === "") continue;
      const e = JSON.parse(line) as PushEvent;
      // As Docker's push: a layer is known by its diff_id, the one id every event carries
      // (the blob digest is unknown while preparing).
      const short = shortId(e.diffId ?? "");
      if (e.type === "layer" && !announced) {
        announced = true;
        say(`The push refers to repository [${familiarName(parseReference(ref))}]`);
      }
      if (e.type === "layer" && e.status === "preparing") say(`${short}: Preparing`);
      else if (e.type === "layer" && e.status === "exists") say(`${short}: Layer already exists`);
      else if (e.type === "layer" && e.status === "done") {
        say(`${short}: Pushed (${formatBytes(e.total ?? 0)})`);
      } else if (e.type === "error") throw new ExitError(e.message ?? "push failed", 1);
      else if (e.type === "done") {
        console.log(`${e.tag ?? ""}: digest: ${e.digest ?? ""} size: ${e.size ?? 0}`);
        return;
      }
    }
  } finally {
    res.destroy();
  }
  throw new ExitError("push ended without a result", 1);
}

export function registerRegistryCommands(program: Command): void {
  program
    .command("login")
    .description("log in to a registry (Docker Hub when no server is given)")
    .argument("[server]")
    .option("-u, --username <user>", "user name")
    .option(
      "-p, --password <password>",
      "password (visible to other users: prefer --password-stdin)",
    )
    .option("--password-stdin", "read the password from stdin")
    .action(
      async (
        server: string | undefined,
        o: { username?: string; password?: string; passwordStdin?: boolean },
      ) => {
        if (o.password !== undefined && o.passwordStdin) {
          throw new ExitError("--password and --password-stdin are mutually exclusive", 1);
        }
        const tty = process.stdin.isTTY === true;
        let username = o.username;
        if (username === undefined) {
          if (!tty || o.passwordStdin) {
            throw new ExitError("login needs a user name: use -u USER", 1);
          }
          username = await readLine("Username: ");
        }
        let password = o.password;
        if (o.passwordStdin) password = await readStdin();
        else if (password === undefined) {
          if (!tty) throw new ExitError("login needs a password: use --password-stdin or -p", 1);
          password = await readHidden("Password: ");
        } else {
          process.stderr.write(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
          );
        }
        const result = await api<{ registry: string; status: string }>("POST", "/v1/auth", {
          server,
          username,
          password,
        });
        console.log(result.status);
      },
    );

  program
    .command("logout")
    .description("forget the credentials saved for a registry (Docker Hub when no server is given)")
    .argument("[server]")
    .action(async (server: string | undefined) => {
      const query = server === undefined ? "" : `?server=${enc(server)}`;
      const r = await api<{ registry: string; removed: boolean }>("DELETE", `/v1/auth${query}`);
      console.log(
        r.removed
          ? `Removing login credentials for ${r.registry}`
          : `Not logged in to ${r.registry}`,
      );
    });

  program
    .command("push")
    .description("push an image to its registry")
    .argument("<image>", "NAME[:TAG], e.g. registry.example.com:5000/team/app:1.2")
    .option("-q, --quiet", "print only the result")
    .action(async (ref: string, o: { quiet?: boolean }) => {
      await push(ref, o.quiet ?? false);
    });
}
