/**
 * Something a describe block starts once, before its tests, and closes after them (a local AWS,
 * the kops stand-ins): `const aws = forSuite(startLocalAws)`, then `aws()` inside the tests.
 */
export function forSuite<T extends { close(): Promise<unknown> }>(start: () => Promise<T>): () => T {
  let started: T | undefined;
  before(async function () {
    started = await start();
  });
  after(async function () {
    await started?.close();
  });
  return () => {
    if (started === undefined) throw new Error("forSuite: used before its describe block's before hook ran");
    return started;
  };
}
