#!/usr/bin/env node
// corral-rt: Docker's commands and flags over Corral's runtime daemon.
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { ApiError, ConnectionLostError, connectionLost } from "../client/client.js";
import { createRequestFromFlags, UsageError, type RunFlags } from "./run-options.js";
import { printTable } from "./format.js";
import { forEachName } from "./each.js";
import { registerStatsCommand } from "./stats-command.js";
import {
  compileTemplate,
  labelFields,
  printFormatted,
  psFormatRow,
  PS_FORMAT,
  runTemplate,
  VOLUME_FORMAT,
} from "./output-format.js";
import { FRAME, FrameDecoder, encodeFrame } from "../protocol/attach.js";
import type { ContainerView } from "../exec/container-exec.js";
import type { ExecFlags } from "./exec-command.js";
import { api, client, collect, enc, ExitError, removedBeforeStart } from "./common.js";
import { pull, registerPullCommand } from "./pull.js";
import { registerImageCommands } from "./image-commands.js";
import { registerRegistryCommands } from "./registry-commands.js";
import { registerNetworkCommands } from "./network-commands.js";

function addRunFlags(cmd: Command): Command {
  return cmd
    .option("-d, --detach", "run in the background and print the container ID")
    .option("--rm", "remove the container when it exits")
    .option("--name <name>", "assign a name")
    .option("-e, --env <KEY=value>", "set an environment variable", collect)
    .option("--env-file <file>", "read environment variables from a file", collect)
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("-u, --user <user[:group]>", "user name or uid (and group)")
    .option("-h, --hostname <name>", "container host name")
    .option("-m, --memory <bytes>", "memory limit (e.g. 512m)")
    .option("--memory-swap <bytes>", "memory + swap limit, -1 for unlimited swap")
    .option("--cpus <n>", "number of CPUs (e.g. 0.5)")
    .option("-c, --cpu-shares <n>", "relative CPU weight")
    .option("--pids-limit <n>", "maximum number of processes, -1 for unlimited")
    .option("--read-only", "mount the root filesystem read-only")
    .option("--init", "run tini as pid 1, forwarding signals and reaping zombies")
    .option(
      "-v, --volume <spec>",
      "bind mount or volume: /host:/ctr[:ro], name:/ctr, /ctr",
      collect,
    )
    .option("--tmpfs <path[:opts]>", "mount a tmpfs", collect)
    .option("--device <host[:container][:rwm]>", "give the container a host device", collect)
    .option("--cap-add <cap>", "add a capability (e.g. SYS_ADMIN, or ALL)", collect)
    .option("--cap-drop <cap>", "drop a capability (e.g. CHOWN, or ALL)", collect)
    .option("-i, --interactive", "keep stdin open and attach it")
    .option("-t, --tty", "allocate a terminal")
    .option("--entrypoint <cmd>", "override the image's entrypoint")
    .option("--restart <policy>", "no, always, unless-stopped, on-failure[:N]")
    .option("--log-opt <opt>", "log option: max-size=SIZE, max-file=N", collect)
    .option("-l, --label <key=value>", "set a label", collect)
    .option("--stop-signal <signal>", "signal that stops the container")
    .option(
      "--security-opt <opt>",
      "seccomp=unconfined|PROFILE.json, no-new-privileges=false (setuid binaries work)",
      collect,
    )
    .option("--network <network>", "bridge (default), host, none or a user-defined network")
    .option("--network-alias <name>", "another name on a user-defined network", collect)
    .option("-p, --publish <[ip:]hostPort:port>", "publish a container port on the host", collect)
    .option("-P, --publish-all", "publish every exposed port on a free host port")
    .option("--expose <port[/proto]>", "expose a port (published by -P)", collect)
    .option("--pull <policy>", "missing (default), never or always")
    .option("--stop-timeout <seconds>", "seconds to wait before killing on stop")
    .argument("<image>")
    .argument("[command...]")
    .passThroughOptions();
}

async function createContainer(
  image: string,
  command: string[],
  flags: RunFlags,
  startFollows = false,
): Promise<{ Id: string }> {
  const path = startFollows ? "/v1/containers?start=1" : "/v1/containers";
  let req;
  try {
    req = createRequestFromFlags(image, command, flags);
  } catch (err) {
    throw new ExitError((err as Error).message, 125);
  }
  const policy = flags.pull ?? "missing";
  if (policy !== "missing" && policy !== "never" && policy !== "always") {
    throw new ExitError(`invalid --pull "${policy}": use missing (default), never or always`, 125);
  }
  try {
    if (policy === "always") await pull(image);
    return await api<{ Id: string }>("POST", path, req);
  } catch (err) {
    const missing =
      err instanceof ApiError && err.status === 404 && /Unable to find image/.test(err.message);
    if (!missing || policy !== "missing") throw new ExitError((err as Error).message, 125);
  }
  // Docker's default: an image that is not here is pulled, then the container created.
  process.stderr.write(`Unable to find image '${image}' locally\n`);
  try {
    await pull(image);
    return await api<{ Id: string }>("POST", path, req);
  } catch (err) {
    throw new ExitError((err as Error).message, 125);
  }
}

/**
 * Starts a container and stays attached: its output to ours, our stdin to it with -i, our
 * terminal's size to its terminal with -t. Resolves with its exit code.
 */
async function attachAndStart(
  id: string,
  o: { interactive?: boolean; tty?: boolean } = {},
): Promise<number> {
  await client.ensureDaemon();
  const cols = process.stdout.columns || 80;
  const rows = process.stdout.rows || 24;
  const socket = await client.upgrade(
    `/v1/containers/${enc(id)}/attach-start?cols=${cols}&rows=${rows}`,
  );
  const stdin = process.stdin;
  const raw = Boolean(o.tty && stdin.isTTY);
  if (raw) stdin.setRawMode(true);
  // At the daemon's pace: it reads only as fast as the container takes input.
  const onInput = (d: Buffer): void => {
    if (!socket.write(encodeFrame(FRAME.data, d))) {
      stdin.pause();
      socket.once("drain", () => stdin.resume());
    }
  };
  const onInputEnd = (): void => void socket.write(encodeFrame(FRAME.stdinEnd));
  const onResize = (): void =>
    void socket.write(
      encodeFrame(
        FRAME.resize,
        JSON.stringify({ cols: process.stdout.columns, rows: process.stdout.rows }),
      ),
    );
  if (o.interactive) {
    stdin.on("data", onInput);
    stdin.on("end", onInputEnd);
  }
  if (o.tty) process.stdout.on("resize", onResize);
  try {
    return await new Promise<number>((resolve, reject) => {
      const decoder = new FrameDecoder();
      socket.on("data", (chunk: Buffer) => {
        for (const f of decoder.push(chunk)) {
          if (f.type === FRAME.data) process.stdout.write(f.payload);
          else if (f.type === FRAME.exit) resolve(Number(f.payload.toString()));
          else if (f.type === FRAME.error) {
            const e = JSON.parse(f.payload.toString()) as { message: string; exitCode: number };
            reject(new ExitError(e.message, e.exitCode));
          }
        }
      });
      socket.on("close", () =>
        reject(
          new ExitError(
            new ConnectionLostError("POST", "", new Error("connection closed")).message,
            125,
          ),
        ),
      );
      socket.on("error", () => undefined);
    });
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.off("data", onInput);
    stdin.off("end", onInputEnd);
    stdin.pause();
    process.stdout.off("resize", onResize);
    socket.destroy();
  }
}

const { version } = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { version: string };
const program = new Command("corral-rt")
  .description("Corral's container runtime: Docker's commands, Corral's engine")
  .version(version, "-v, --version", "print the version")
  .enablePositionalOptions()
  .showHelpAfterError()
  .exitOverride();

addRunFlags(program.command("run").description("create and start a container")).action(
  async (image: string, command: string[], flags: RunFlags) => {
    const { Id } = await createContainer(image, command, flags, true);
    if (flags.detach) {
      try {
        await api("POST", `/v1/containers/${enc(Id)}/start`);
      } catch (err) {
        const code = (err instanceof ApiError ? err.exitCode : undefined) ?? 125;
        const gone = flags.rm ? removedBeforeStart(err, Id) : err;
        throw gone instanceof ExitError ? gone : new ExitError((err as Error).message, code);
      }
      console.log(Id);
      return;
    }
    try {
      process.exitCode = await attachAndStart(Id, flags);
    } catch (err) {
      throw flags.rm ? removedBeforeStart(err, Id) : err;
    }
  },
);

addRunFlags(program.command("create").description("create a container without starting it")).action(
  async (image: string, command: string[], flags: RunFlags) => {
    console.log((await createContainer(image, command, flags)).Id);
  },
);

program
  .command("start")
  .description("start stopped containers (-a -i: attach to the first)")
  .argument("<containers...>")
  .option("-a, --attach", "attach output and exit with the container's code")
  .option("-i, --interactive", "attach stdin")
  .action(async (ids: string[], o: { attach?: boolean; interactive?: boolean }) => {
    if ((o.attach || o.interactive) && ids.length === 1) {
      const id = ids[0] as string;
      const c = await api<{ Config: { Tty: boolean } }>("GET", `/v1/containers/${enc(id)}`);
      process.exitCode = await attachAndStart(id, {
        interactive: o.interactive,
        tty: c.Config.Tty,
      });
      return;
    }
    await forEachName(ids, async (id) => {
      await api("POST", `/v1/containers/${enc(id)}/start`);
      console.log(id);
    });
  });

for (const [name, description] of [
  ["stop", "stop containers (stop signal, then SIGKILL after -t seconds)"],
  ["restart", "restart containers"],
] as const) {
  program
    .command(name)
    .description(description)
    .argument("<containers...>")
    .option("-t, --time <seconds>", "seconds to wait before killing")
    .action(async (ids: string[], o: { time?: string }) => {
      if (o.time !== undefined && !/^[0-9]+$/.test(o.time))
        throw new UsageError(`invalid -t "${o.time}": seconds`);
      await forEachName(ids, async (id) => {
        await api(
          "POST",
          `/v1/containers/${enc(id)}/${name}${o.time !== undefined ? `?t=${o.time}` : ""}`,
        );
        console.log(id);
      });
    });
}

program
  .command("kill")
  .description("send a signal to running containers (default SIGKILL)")
  .argument("<containers...>")
  .option("-s, --signal <signal>", "signal to send", "SIGKILL")
  .action(async (ids: string[], o: { signal: string }) => {
    await forEachName(ids, async (id) => {
      await api("POST", `/v1/containers/${enc(id)}/kill?signal=${enc(o.signal)}`);
      console.log(id);
    });
  });

for (const name of ["pause", "unpause"] as const) {
  program
    .command(name)
    .description(name === "pause" ? "freeze every process in containers" : "thaw paused containers")
    .argument("<containers...>")
    .action(async (ids: string[]) => {
      await forEachName(ids, async (id) => {
        await api("POST", `/v1/containers/${enc(id)}/${name}`);
        console.log(id);
      });
    });
}

program
  .command("rm")
  .description("remove containers (-f: running ones too, -v: their anonymous volumes)")
  .argument("<containers...>")
  .option("-f, --force", "kill a running container first")
  .option("-v, --volumes", "remove the container's anonymous volumes")
  .action(async (ids: string[], o: { force?: boolean; volumes?: boolean }) => {
    await forEachName(ids, async (id) => {
      await api(
        "DELETE",
        `/v1/containers/${enc(id)}?force=${o.force ? 1 : 0}&v=${o.volumes ? 1 : 0}`,
      );
      console.log(id);
    });
  });

program
  .command("wait")
  .description("wait for containers to exit and print their exit codes")
  .argument("<containers...>")
  .action(async (ids: string[]) => {
    await forEachName(ids, async (id) => {
      const { StatusCode } = await api<{ StatusCode: number }>(
        "POST",
        `/v1/containers/${enc(id)}/wait`,
      );
      console.log(StatusCode);
    });
  });

program
  .command("ps")
  .description("list containers")
  .option("-a, --all", "show all containers (default: running)")
  .option("-q, --quiet", "only IDs")
  .option("--format <format>", "json, a Go template, or table TEMPLATE (Docker's fields)")
  .option("--no-trunc", "do not truncate")
  .action(async (o: { all?: boolean; quiet?: boolean; format?: string; trunc: boolean }) => {
    const rows = await api<Record<string, string>[]>("GET", `/v1/containers?all=${o.all ? 1 : 0}`);
    if (o.quiet) rows.forEach((r) => console.log(r.ID));
    else if (o.format !== undefined) printFormatted(o.format, rows.map(psFormatRow), PS_FORMAT);
    else
      printTable(
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
        rows.map((r) => [
          r.ID ?? "",
          r.Image ?? "",
          o.trunc && (r.Command ?? "").length > 22
            ? `${(r.Command ?? "").slice(0, 20)}…"`
            : (r.Command ?? ""),
          r.RunningFor ?? "",
          r.Status ?? "",
          r.Ports ?? "",
          r.Names ?? "",
        ]),
      );
  });

program
  .command("inspect")
  .description("show containers' or images' details as JSON")
  .argument("<names...>")
  .option("--type <type>", "container or image")
  .option("-f, --format <template>", "a Go template run on each object (e.g. '{{.State.Pid}}')")
  .action(async (names: string[], o: { type?: string; format?: string }) => {
    const template = o.format === undefined ? undefined : compileTemplate(o.format);
    const out: unknown[] = [];
    let failed = false;
    for (const n of names) {
      try {
        if (o.type !== "image") {
          try {
            out.push(await api("GET", `/v1/containers/${enc(n)}`));
            continue;
          } catch (err) {
            if (o.type === "container" || !(err instanceof ApiError && err.status === 404))
              throw err;
          }
        }
        out.push(await api("GET", `/v1/images/${enc(n)}/json`));
      } catch (err) {
        failed = true;
        process.stderr.write(
          `Error: No such object: ${n}${err instanceof ApiError && err.status === 404 ? "" : ` (${(err as Error).message})`}\n`,
        );
      }
    }
    if (template) out.forEach((v) => console.log(runTemplate(template, v)));
    else console.log(JSON.stringify(out, null, 4));
    if (failed) process.exitCode = 1;
  });

program
  .command("logs")
  .description("show a container's output")
  .argument("<container>")
  .option("-f, --follow", "follow log output")
  .option("-n, --tail <lines>", "lines from the end (default all)")
  .option("-t, --timestamps", "prefix each line with the time it was written")
  .action(async (id: string, o: { follow?: boolean; tail?: string; timestamps?: boolean }) => {
    await client.ensureDaemon();
    const tail = o.tail === undefined || o.tail === "all" ? -1 : Number(o.tail);
    if (!Number.isInteger(tail))
      throw new UsageError(`invalid --tail "${o.tail}": a number or all`);
    const res = await client.stream(
      "GET",
      `/v1/containers/${enc(id)}/logs?follow=${o.follow ? 1 : 0}&tail=${tail}&timestamps=${o.timestamps ? 1 : 0}`,
    );
    for await (const chunk of res) process.stdout.write(chunk as Buffer);
  });

registerStatsCommand(program);

program
  .command("exec")
  .description("run a command in a running container")
  .option("-i, --interactive", "keep stdin open")
  .option("-t, --tty", "allocate a terminal")
  .option("-e, --env <KEY=value>", "set an environment variable", collect)
  .option("-u, --user <user[:group]>", "user name or uid")
  .option("-w, --workdir <dir>", "working directory")
  .option("-d, --detach", "run in the background")
  .argument("<container>")
  .argument("<command...>")
  .passThroughOptions()
  .action(async (id: string, command: string[], o: ExecFlags) => {
    const inspect = await api<ContainerView>("GET", `/v1/containers/${enc(id)}`);
    if (!inspect.State.Running) throw new ExitError(`container ${inspect.Id} is not running`, 1);
    // Loaded on demand: the exec path (zod schemas, the seccomp program) would slow every command.
    const { execCommand } = await import("./exec-command.js");
    process.exitCode = await execCommand(inspect, command, o);
  });

registerImageCommands(program);
registerRegistryCommands(program);
registerNetworkCommands(program);
registerPullCommand(program);

const volume = program.command("volume").description("manage volumes");
volume
  .command("create")
  .description("create a named volume")
  .argument("[name]")
  .action(async (name?: string) => {
    const v = await api<{ Name: string }>("POST", "/v1/volumes", name ? { name } : {});
    console.log(v.Name);
  });
volume
  .command("ls")
  .description("list volumes")
  .option("-q, --quiet", "only names")
  .option("--format <format>", "json, a Go template, or table TEMPLATE (Docker's fields)")
  .action(async (o: { quiet?: boolean; format?: string }) => {
    const vs = await api<
      {
        Name: string;
        Driver: string;
        Scope: string;
        Mountpoint: string;
        Labels?: Record<string, string>;
      }[]
    >("GET", "/v1/volumes");
    if (o.quiet) vs.forEach((v) => console.log(v.Name));
    else if (o.format !== undefined)
      printFormatted(
        o.format,
        vs.map((v) => ({
          Name: v.Name,
          Driver: v.Driver,
          Scope: v.Scope,
          Mountpoint: v.Mountpoint,
          ...labelFields(v.Labels),
        })),
        VOLUME_FORMAT,
      );
    else
      printTable(
        ["DRIVER", "VOLUME NAME"],
        vs.map((v) => [v.Driver, v.Name]),
      );
  });
volume
  .command("inspect")
  .description("show volumes' details as JSON")
  .argument("<names...>")
  .action(async (names: string[]) => {
    const out = [];
    for (const n of names) out.push(await api("GET", `/v1/volumes/${enc(n)}`));
    console.log(JSON.stringify(out, null, 4));
  });
volume
  .command("rm")
  .description("remove volumes no container uses")
  .argument("<names...>")
  .action(async (names: string[]) => {
    await forEachName(names, async (n) => {
      await api("DELETE", `/v1/volumes/${enc(n)}`);
      console.log(n);
    });
  });

async function main(): Promise<void> {
  if (
    process.getuid?.() !== 0 &&
    !process.argv.includes("--help") &&
    !process.argv.includes("-h")
  ) {
    process.stderr.write(
      "corral-rt: containers need root: run it as root (e.g. sudo corral-rt ...)\n",
    );
    process.exitCode = 125;
    return;
  }
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 125;
      return;
    }
    const command = process.argv[2];
    // A dropped connection read mid-stream (logs -f, events) reached no request's own handler.
    const reads = ["logs", "ps", "inspect", "images", "stats", "events", "wait", "history"];
    const lost = connectionLost(err, reads.includes(command ?? "") ? "GET" : undefined);
    process.stderr.write(`corral-rt: ${(lost as Error).message}\n`);
    process.exitCode =
      err instanceof ExitError
        ? err.code
        : err instanceof UsageError || command === "run" || command === "create"
          ? 125
          : 1;
  }
}

void main();
