// Root hooks for `npm run test:reliability`: the shared servers (test/setup.ts) plus the report.
import { mochaHooks as serverHooks } from "../setup";
import { RESULTS, writeReport } from "./report";

const startedAt = new Date();
let failed = 0;

export const mochaHooks = {
  beforeAll: serverHooks.beforeAll,
  afterEach(this: Mocha.Context): void {
    if (this.currentTest?.state === "failed") failed++;
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    writeReport(startedAt, failed);
    process.stderr.write(`reliability figures written to ${RESULTS}\n`);
    await serverHooks.afterAll.call(this);
  },
};
