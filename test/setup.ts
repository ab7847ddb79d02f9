// Root hooks: the real servers run for the whole test run and stop at its end, pass or fail.
// Every temporary folder of the run (the tests', the servers', the CLI's) goes under one folder
// of its own, removed at the end (kept with KSTATE_KEEP_TMP=1, to look into a failure).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startAll, stopAll } from "./support/env";

const runTmp = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-run-"));
process.env.TMPDIR = runTmp;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    await startAll();
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopAll();
    if (process.env.KSTATE_KEEP_TMP === "1") process.stderr.write(`kept the run's temporary files in ${runTmp}\n`);
    else fs.rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
  },
};
