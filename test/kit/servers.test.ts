// The test servers are the ones the tests started: a port another process took between choosing
// and binding it is refused, not used (test/vfs/s3.test.ts's "stops answering" test once read
// through another run's MinIO that had taken its port, while it stopped its own).
import * as assert from "node:assert/strict";
import { servers } from "../support/env";
import { startMinio } from "../support/servers";

describe("test servers", function () {
  it("a MinIO whose port another MinIO answers on is refused, not taken for ours", async function () {
    this.timeout(60_000);
    const taken = servers.minio!.port;
    await assert.rejects(startMinio({ port: taken }), new RegExp(`another process listens on port ${taken}`));
  });

  it("a started MinIO is the process listening on its port: stopped, it answers nothing", async function () {
    this.timeout(60_000);
    const own = await startMinio();
    try {
      await own.freeze();
      await assert.rejects(fetch(`${own.endpoint}/minio/health/live`, { signal: AbortSignal.timeout(1000) }), /aborted|timeout/i);
      own.thaw();
    } finally {
      await own.stop();
    }
  });
});
