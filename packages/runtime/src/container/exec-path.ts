// Finds the executable the way execvp would inside the container, so that "not found" and
// "not executable" become Docker's exit codes 127 and 126 with Docker's messages, before exec.
import { accessSync, constants, statSync } from "node:fs";
import { posix } from "node:path";

export class CommandError extends Error {
  constructor(
    readonly exitCode: 126 | 127,
    message: string,
  ) {
    super(message);
  }
}

function isExecutableFile(path: string): boolean | "not-found" {
  let st;
  try {
    st = statSync(path);
  } catch {
    return "not-found";
  }
  if (!st.isFile()) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `command` against PATH (from the container's env) relative to `cwd`. */
export function resolveCommand(command: string, pathVar: string, cwd: string): string {
  if (command.includes("/")) {
    const path = posix.resolve(cwd, command);
    const ok = isExecutableFile(path);
    if (ok === "not-found")
      throw new CommandError(127, `exec: "${command}": stat ${command}: no such file or directory`);
    if (!ok) throw new CommandError(126, `exec: "${command}": permission denied`);
    return path;
  }
  let sawNonExecutable = false;
  for (const dir of pathVar.split(":")) {
    const path = posix.resolve(cwd, dir || ".", command);
    const ok = isExecutableFile(path);
    if (ok === true) return path;
    if (ok === false) sawNonExecutable = true;
  }
  if (sawNonExecutable) throw new CommandError(126, `exec: "${command}": permission denied`);
  throw new CommandError(127, `exec: "${command}": executable file not found in $PATH`);
}
