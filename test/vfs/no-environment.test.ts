// The VFS reads no environment: the clouds' SDKs read their own variables (STORAGE_EMULATOR_HOST,
// AWS_ENDPOINT_URL_S3) when left to, and kstate does not leave them to. A path goes where its
// settings say, whatever the process's variables say.
import * as assert from "node:assert/strict";
import { openPath, VfsContext } from "../../src/vfs";
import { gcsOptions, makeGcsBucket, makeS3Bucket, s3Options } from "../support/env";

const DEAD = "http://127.0.0.1:1";

async function withVariable<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

describe("the VFS and the process's variables", function () {
  this.timeout(60_000);

  it("gs://: STORAGE_EMULATOR_HOST in the process neither redirects a path with an endpoint nor one without", async function () {
    const bucket = await makeGcsBucket();
    await withVariable("STORAGE_EMULATOR_HOST", DEAD, async () => {
      const p = openPath(`gs://${bucket}/env/config`, { gcs: gcsOptions(), context: new VfsContext() });
      await p.write("through the settings' endpoint");
      assert.equal((await p.read()).data.toString(), "through the settings' endpoint");
      const bare = openPath(`gs://${bucket}/env/config`, { context: new VfsContext(), retry: { attempts: 1 }, timeoutMs: 3000 });
      await assert.rejects(bare.read(), (e: Error) => !/127\.0\.0\.1:1\b|ECONNREFUSED/.test(e.message) || assert.fail(`went to the variable's endpoint: ${e.message}`));
    });
  });

  it("s3://: AWS_ENDPOINT_URL_S3 in the process redirects neither a path with an endpoint nor one without", async function () {
    const bucket = await makeS3Bucket();
    await withVariable("AWS_ENDPOINT_URL_S3", DEAD, async () => {
      const p = openPath(`s3://${bucket}/env/config`, { s3: s3Options(), context: new VfsContext() });
      await p.write("through the settings' endpoint");
      assert.equal((await p.read()).data.toString(), "through the settings' endpoint");
      const bare = openPath(`s3://${bucket}/env/config`, { s3: { accessKeyId: "x", secretAccessKey: "y" }, context: new VfsContext(), retry: { attempts: 1 }, timeoutMs: 3000 });
      await assert.rejects(bare.write("x"), (e: Error) => !/127\.0\.0\.1:1\b|ECONNREFUSED/.test(e.message) || assert.fail(`went to the variable's endpoint: ${e.message}`));
    });
  });
});
