import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { makeS3Bucket, s3Options } from "../support/env";
import { MINIO_PASSWORD, MINIO_USER } from "../support/servers";
import { memoryStore, versionedStores, withProcessEnv } from "../support/cli-stores";

const NAME = "history.k8s.example.com";

const stores = { memfs: memoryStore, ...versionedStores };

for (const [kind, make] of Object.entries(stores)) {
  describe(`kstate history and rollback (${kind})`, function () {
    this.timeout(60_000);
    it("three edits give four revisions; rollback to the first restores its bytes; history then shows five", async function () {
      const { url, env: extra } = await make();
      await withProcessEnv(extra, async () => {
        const env = { KOPS_STATE_STORE: url };
        assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
        const config = openPath(url).join(NAME, "config");
        const first = (await config.read()).data;
        for (const v of ["v1.30.3", "v1.30.4", "v1.30.5"]) {
          assert.equal((await kstate(["create", "cluster", NAME, "--kubernetes-version", v], { env })).code, 0);
        }
        const listed = await kstate(["history", NAME], { env });
        assert.equal(listed.code, 0, listed.stderr);
        const rows = listed.stdout.trim().split("\n").slice(1);
        assert.equal(rows.length, 4, listed.stdout);
        const oldest = rows.at(-1)!.split(/\s+/)[0]!;
        const newest = rows[0]!.split(/\s+/)[0]!;
        assert.match(rows[0]!, /current$/);
        const diff = await kstate(["history", NAME, "--diff", oldest, newest], { env });
        assert.match(diff.stdout, /spec\.kubernetesVersion: "v1\.30\.2" -> "v1\.30\.5"/);
        const back = await kstate(["rollback", NAME, "--to", oldest, "--yes"], { env });
        assert.equal(back.code, 0, back.stderr);
        assert.ok((await config.read()).data.equals(first), "the first revision's bytes, exactly");
        const again = await kstate(["history", NAME], { env });
        assert.equal(again.stdout.trim().split("\n").length - 1, 5);
      });
    });
  });
}

describe("kstate history without versions", function () {
  it("a file:// store has no history, and says why", async function () {
    const url = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-hist-"))}`;
    await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", url]);
    const r = await kstate(["history", NAME, "--state", url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /keeps no old versions/);
  });

  it("a bucket with versioning off: rollback refuses, saying how to turn it on", async function () {
    const url = `s3://${await makeS3Bucket()}`;
    const saved = { ...process.env };
    Object.assign(process.env, { S3_ENDPOINT: s3Options().endpoint!, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: MINIO_USER, S3_SECRET_ACCESS_KEY: MINIO_PASSWORD });
    try {
      await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", url]);
      const r = await kstate(["rollback", NAME, "--to", "x", "--yes", "--state", url]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /versioning is off.*Turn it on/s);
    } finally {
      for (const k of ["S3_ENDPOINT", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
