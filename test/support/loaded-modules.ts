/**
 * Preloaded into a kstate process (`node -r …/loaded-modules.js bin/kstate.js …`): when the
 * process exits, writes every module file it loaded, one a line, to $KSTATE_LOADED_MODULES_OUT.
 * Lets a test see what a command loaded (behaviour), not how long it took.
 */
import * as fs from "node:fs";

const out = process.env.KSTATE_LOADED_MODULES_OUT;
if (out) {
  process.on("exit", () => fs.writeFileSync(out, Object.keys(require.cache).join("\n") + "\n"));
}
