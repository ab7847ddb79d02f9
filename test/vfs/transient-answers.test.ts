// Which answers the cloud backends retry: a server's trouble and throttling, never an answer that
// is the same on every try (501 Not Implemented: a feature the server lacks).
import * as assert from "node:assert/strict";
import { isGcsTransient } from "../../src/vfs/gcs/answers";
import { isS3Transient } from "../../src/vfs/s3/answers";

const s3 = (status: number) => Object.assign(new Error(`status ${status}`), { $metadata: { httpStatusCode: status } });
const gcs = (status: number) => Object.assign(new Error(`status ${status}`), { code: status });

describe("transient answers", function () {
  for (const [name, transient, make] of [["S3", isS3Transient, s3], ["GCS", isGcsTransient, gcs]] as const) {
    it(`${name}: 500, 502, 503, 504, 429 and 408 are retried; 501, 400, 403, 404 and 412 are not`, function () {
      assert.deepEqual([500, 502, 503, 504, 429, 408].filter((s) => !transient(make(s))), []);
      assert.deepEqual([501, 400, 403, 404, 412].filter((s) => transient(make(s))), []);
    });
  }
});
