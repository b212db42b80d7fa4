#!/usr/bin/env node
// npm links this committed file at install time, when dist/ does not exist yet (a link to a
// missing dist file would not be made); it runs the built cli.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("corral-rt is not built yet: run `npm run build` at the repository's root");
  process.exit(125);
}
await import(entry.href);
