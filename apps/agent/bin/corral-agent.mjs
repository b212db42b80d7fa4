#!/usr/bin/env node
// npm links bins at install time, before dist/ exists: a committed launcher of the built entry.
import { existsSync } from "node:fs";

const entry = new URL("../dist/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("corral-agent is not built yet: run `npm run build` at the repository's root");
  process.exit(1);
}
await import(entry.href);
