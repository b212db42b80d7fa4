#!/usr/bin/env node
// npm links this committed file at install time, when dist/ does not exist yet (a link to a
// missing dist file would not be made); it runs the built daemon.
import { existsSync } from "node:fs";

const entry = new URL("../dist/daemon/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("corral-rtd is not built yet: run `npm run build` at the repository's root");
  process.exit(125);
}
await import(entry.href);
