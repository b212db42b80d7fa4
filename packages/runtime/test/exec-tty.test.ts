// exec with a tty: an interactive shell over a pty from the container's own devpts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execInContainer, type TtyExec } from "../src/exec/index.js";
import {
  DOCKER_DEFAULT_CAPS,
  buildHelper,
  startContainer,
  type TestContainer,
} from "./exec-fixture.js";

let helper: ReturnType<typeof buildHelper>;
let container: TestContainer;

before(async () => {
  helper = buildHelper();
  container = await startContainer();
});

after(async () => {
  await container?.stop();
  helper?.remove();
});

function shell(uid = 0): TtyExec {
  return execInContainer({
    pid: container.pid,
    args: ["sh"],
    env: ["PATH=/bin", "TERM=xterm", "PS1=$ "],
    cwd: "/",
    uid,
    gid: uid,
    additionalGids: [],
    capabilities: [...DOCKER_DEFAULT_CAPS],
    noNewPrivileges: true,
    tty: true,
    stdin: true,
    cols: 100,
    rows: 30,
    helperPath: helper.path,
  });
}

/** Collects the terminal's output; `command` types a line and returns what it printed. */
function session(proc: TtyExec) {
  let output = "";
  let seq = 0;
  proc.terminal.setEncoding("utf8").on("data", (s: string) => (output += s));
  return {
    get output() {
      return output;
    },
    async command(line: string): Promise<string> {
      // The terminal echoes what we type; quoting splits the marker so only the
      // shell's own output contains it whole.
      const marker = `done-${++seq}`;
      const start = output.length;
      proc.terminal.write(`${line}; echo "${marker.slice(0, 2)}""${marker.slice(2)}"\n`);
      const deadline = Date.now() + 5000;
      for (;;) {
        // Our line as echoed (by the kernel before the shell reads, then by the shell's
        // line editor) ends with the marker's quoted tail; the output follows the last echo.
        const at = output.indexOf(`\r\n${marker}\r\n`, start);
        const echoed = at < 0 ? -1 : output.lastIndexOf(`"${marker.slice(2)}"\r\n`, at);
        if (echoed >= start) {
          const from = echoed + marker.length + 2;
          return output.slice(from, at + 2).replaceAll("\r\n", "\n");
        }
        if (Date.now() > deadline) throw new Error(`no ${marker} in ${JSON.stringify(output)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

describe("exec with a tty", () => {
  test("the command's terminal is the container's /dev/pts/N, sized as asked", async () => {
    const proc = shell();
    const sh = session(proc);
    try {
      assert.match(await sh.command("tty"), /^\/dev\/pts\/\d+\n$/);
      assert.equal(await sh.command("stty size"), "30 100\n");
      // A controlling terminal: the shell enabled job control.
      assert.doesNotMatch(sh.output, /job control/);
      proc.resize(132, 43);
      assert.equal(await sh.command("stty size"), "43 132\n");
      proc.terminal.write("exit 7\n");
      assert.equal((await proc.exit).exitCode, 7);
    } finally {
      proc.kill("SIGKILL");
    }
  });

  test("the terminal stream ends after the command exits", async () => {
    const proc = shell(1000);
    const sh = session(proc);
    try {
      assert.equal(await sh.command("id -u"), "1000\n");
      assert.equal(await sh.command("echo reopened > $(tty) && echo ok"), "reopened\nok\n");
      const ended = new Promise((resolve) => proc.terminal.once("end", resolve));
      proc.terminal.write("exit\n");
      assert.equal((await proc.exit).exitCode, 0);
      await ended;
      proc.resize(10, 10); // after the end: a no-op, never an ioctl on a recycled fd
    } finally {
      proc.kill("SIGKILL");
    }
  });

  test("kill() ends an interactive session", async () => {
    const proc = shell();
    session(proc);
    proc.kill("SIGKILL");
    assert.equal((await proc.exit).exitCode, 137);
  });

  test("bad sizes are refused with a one-line error", () => {
    const proc = shell();
    try {
      assert.throws(() => proc.resize(0, 10), /^Error: invalid terminal size 0x10/);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
