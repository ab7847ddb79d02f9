// Root hooks: the real servers run for the whole test run and stop at its end, pass or fail.
import { startAll, stopAll } from "./support/env";

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    await startAll();
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopAll();
  },
};
