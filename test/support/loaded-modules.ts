/**
 * Preloaded into a kstate process (`node -r …/loaded-modules.js bin/kstate.js …`): when the
 * process exits, writes every module it loaded, one a line, to $KSTATE_LOADED_MODULES_OUT: Node.js's
 * own as `node:NAME`, then each file.
 * Lets a test see what a command loaded (behaviour), not how long it took.
 */
import * as fs from "node:fs";

const out = process.env.KSTATE_LOADED_MODULES_OUT;
if (out) {
  // Node.js's own modules as `node:NAME` (from process.moduleLoadList), then every file loaded.
  const builtins = () => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => `node:${m.slice("NativeModule ".length)}`);
  process.on("exit", () => fs.writeFileSync(out, [...builtins(), ...Object.keys(require.cache)].join("\n") + "\n"));
}
