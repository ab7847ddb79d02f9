import * as assert from "node:assert/strict";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { BackendError, copyFile, hasVersions, openPath } from "../../src/vfs";
import { md5Of } from "../../src/vfs/copy";
import { makeS3Bucket, openOptions, s3Options, uniqueName } from "../support/env";
import { MINIO_KMS_KEY, startMinio } from "../support/servers";
import { describeVfsContract } from "./contract";

describe("s3:// on MinIO", function () {
  let bucket: string;
  before(async function () {
    bucket = await makeS3Bucket({ versioning: true });
  });

  describeVfsContract("s3 (MinIO)", async () => openPath(`s3://${bucket}/${uniqueName("t")}`, openOptions()));

  function rawClient(): S3Client {
    const o = s3Options();
    return new S3Client({ endpoint: o.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! } });
  }

  it("takes kops's S3_* variables when no options are given", async function () {
    const o = s3Options();
    const saved = { ...process.env };
    Object.assign(process.env, { S3_ENDPOINT: o.endpoint, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: o.accessKeyId, S3_SECRET_ACCESS_KEY: o.secretAccessKey });
    try {
      const p = openPath(`s3://${bucket}/env/config`);
      await p.write("via env");
      assert.equal((await p.read()).data.toString(), "via env");
    } finally {
      for (const k of ["S3_ENDPOINT", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it("encrypts objects as kops does (AES256 when the bucket has no default), or with a KMS key when asked", async function () {
    const plain = openPath(`s3://${bucket}/enc/aes`, openOptions());
    await plain.write("x");
    const kms = openPath(`s3://${bucket}/enc/kms`, { ...openOptions(), s3: { ...s3Options(), encryption: { mode: "aws:kms", kmsKeyId: MINIO_KMS_KEY } } });
    await kms.write("y");
    assert.equal((await kms.read()).data.toString(), "y");
    const client = rawClient();
    const a = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "enc/aes" }));
    const k = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "enc/kms" }));
    client.destroy();
    assert.equal(a.ServerSideEncryption, "AES256");
    assert.equal(k.ServerSideEncryption, "aws:kms");
  });

  it("keys with spaces, plus signs, XML and URL specials and non-ASCII survive write, list, read and copy", async function () {
    const root = openPath(`s3://${bucket}/${uniqueName("odd")}`, openOptions());
    const names = ["secrets/system:dns", "a b/c+d", "x&y<z>'q\"", "(paren)!*~", "ünï/cödé €", "pki/private/ca/keyset.yaml", "100%/done?x=1#frag"];
    for (const n of names) await root.join(n).write(`body of ${n}`);
    assert.deepEqual((await root.listTree()).map((f) => f.path).sort(), [...names].sort());
    const copy = openPath(`s3://${bucket}/${uniqueName("odd-copy")}`, openOptions());
    for (const n of names) {
      const done = await copyFile(root.join(n), copy.join(n));
      assert.equal(done.serverSide, true);
      assert.equal((await copy.join(n).read()).data.toString(), `body of ${n}`);
      assert.equal((await copy.join(n).stat()).size, Buffer.byteLength(`body of ${n}`));
    }
    assert.deepEqual((await root.join("a b").list()).map((f) => f.path), ["c+d"]);
  });

  it("copies a multipart object part by part, so the copy has the source's ETag and bytes", async function () {
    const data = randomBytes(13 * 1024 * 1024 + 5);
    const source = openPath(`s3://${bucket}/${uniqueName("mp")}/etcd.db`, openOptions());
    const written = await source.writeStream((async function* () {
      for (let i = 0; i < data.length; i += 1 << 20) yield data.subarray(i, i + (1 << 20));
    })());
    assert.match(written.revision, /-3"?$/, "a 13 MiB stream is written in three parts");
    const target = openPath(`s3://${bucket}/${uniqueName("mp-copy")}/etcd.db`, openOptions());
    const done = await copyFile(source, target, data.length, written.revision);
    assert.equal(done.serverSide, true);
    assert.equal(done.revision, written.revision);
    assert.equal((await target.stat()).revision, written.revision);
    assert.equal(await md5Of(target), await md5Of(source));
  });

  it("a server-side copy of a revision that has since changed fails and writes nothing", async function () {
    const source = openPath(`s3://${bucket}/${uniqueName("cas")}/config`, openOptions());
    const first = await source.write("one");
    await source.write("two");
    const target = openPath(`s3://${bucket}/${uniqueName("cas-copy")}/config`, openOptions());
    await assert.rejects(copyFile(source, target, 3, first.revision), /412|PreconditionFailed/);
    await assert.rejects(target.stat(), /not found|NotFound/i);
  });

  it("lists and reads old versions of a file", async function () {
    const p = openPath(`s3://${bucket}/${uniqueName("v")}/config`, openOptions());
    assert.ok(hasVersions(p));
    const one = await p.write("one");
    await p.write("two");
    const versions = await p.listVersions();
    assert.equal(versions.length, 2);
    assert.equal(versions.filter((v) => v.isLatest).length, 1);
    const oldest = versions.at(-1)!;
    assert.equal((await p.readVersion(oldest.versionId)).data.toString(), "one");
    assert.notEqual(oldest.versionId, one.revision, "version ids are not ETags");
  });

  it("lists the versions of every file below a folder, delete markers included, newest first per file", async function () {
    const folder = openPath(`s3://${bucket}/${uniqueName("tree")}`, openOptions());
    await folder.join("a").write("a1");
    await folder.join("a").write("a2");
    await folder.join("sub", "b").write("b1");
    await folder.join("sub", "b").remove();
    await openPath(`${folder.url}-beside`, openOptions()).write("x");
    assert.ok(hasVersions(folder));
    const versions = await folder.listTreeVersions();
    assert.deepEqual(versions.map((v) => [v.path, v.isLatest, v.deleted, v.size]), [["a", true, false, 2], ["a", false, false, 2], ["sub/b", true, true, 0], ["sub/b", false, false, 2]]);
  });

  it("a bucket that does not exist is a clear error", async function () {
    const p = openPath(`s3://${uniqueName("nobucket")}/config`, openOptions());
    await assert.rejects(p.write("x"), (e: unknown) => BackendError.isInstance(e) && /NoSuchBucket/.test(e.message) && e.message.includes(p.url));
  });

  it("a server stopped in the middle of a test gives a BackendError naming the URL, not a hang", async function () {
    this.timeout(60_000);
    const own = await startMinio();
    try {
      const b = await makeS3Bucket({ server: own });
      const timeoutMs = 2000;
      const p = openPath(`s3://${b}/dying/config`, { s3: s3Options(own), timeoutMs, retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 } });
      await p.write("before");
      own.process.kill("SIGKILL");
      await new Promise((r) => own.process.once("exit", r));
      const started = Date.now();
      await assert.rejects(p.read(), (e: unknown) => {
        assert.ok(BackendError.isInstance(e), `expected BackendError, got ${String(e)}`);
        assert.ok(e.message.includes(p.url), e.message);
        return true;
      });
      await assert.rejects(p.write("after"), (e: unknown) => BackendError.isInstance(e) && e.message.includes(p.url));
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 2 * (timeoutMs * 3 + 400), `took ${elapsed} ms`);
    } finally {
      await own.stop();
    }
  });

  it("a server that stops answering mid-request times out with a BackendError", async function () {
    this.timeout(60_000);
    const own = await startMinio();
    try {
      const b = await makeS3Bucket({ server: own });
      const timeoutMs = 1500;
      const p = openPath(`s3://${b}/frozen/config`, { s3: s3Options(own), timeoutMs, retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 } });
      await p.write("before");
      own.process.kill("SIGSTOP"); // alive but silent: only timeouts can end the wait
      const started = Date.now();
      await assert.rejects(p.read(), (e: unknown) => BackendError.isInstance(e) && e.message.includes(p.url));
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 4 * timeoutMs, `took ${elapsed} ms`);
      own.process.kill("SIGCONT");
    } finally {
      await own.stop();
    }
  });
});
