// npm links the bin files at install time, when dist/ does not exist yet (a link to a missing
// dist file would not be made), so each bin is a committed file that runs the built entry.
import { existsSync } from "node:fs";

/** Runs dist/<dir>/main.js, or says in one line to build first. */
export async function launch(command, dir) {
  const entry = new URL(`../dist/${dir}/main.js`, import.meta.url);
  if (!existsSync(entry)) {
    console.error(`${command} is not built yet: run \`npm run build\` at the repository's root`);
    process.exit(125);
  }
  await import(entry.href);
}
