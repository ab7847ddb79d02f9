import * as assert from "node:assert/strict";
import { HeadObjectCommand, PutBucketEncryptionCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { BackendError, copyFile, hasVersions, openPath, resolveStoreSettings, VfsContext, type VfsPath } from "../../src/vfs";
import { md5Of } from "../../src/vfs/copy";
import { bucketRegionOverWire } from "../../src/vfs/s3/region";
import { S3Wire } from "../../src/vfs/s3/wire";
import { makeS3Bucket, openOptions, s3Options, uniqueName } from "../support/env";
import { MINIO_KMS_KEY, type RunningServer, startMinio } from "../support/servers";
import { type Capabilities, describeVfsContract } from "./contract";

const S3_CAN: Capabilities = { versions: true, serverSideCopy: true, bucketAdmin: true, storedHashes: true };

/** A file written on a MinIO of the test's own, to be stopped or killed, reached with these timeouts. */
async function fileOnOwnMinio(timeoutMs: number, attempts: number): Promise<{ own: RunningServer; p: VfsPath }> {
  const own = await startMinio();
  const b = await makeS3Bucket({ server: own });
  const p = openPath(`s3://${b}/own/config`, { s3: s3Options(own), timeoutMs, retry: { attempts, baseDelayMs: 50, maxDelayMs: 100 * (attempts - 1) } });
  await p.write("before");
  return { own, p };
}

/** One request through `recordingProxy`: what arrived, and when its answer went back. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** How many requests had arrived when this one's answer had gone back. */
  arrivedBeforeAnswer?: number;
}

/** A plain HTTP proxy in front of `endpoint` that notes every request in order of arrival. */
async function recordingProxy(endpoint: string): Promise<{ endpoint: string; seen: Seen[]; close: () => Promise<void> }> {
  const target = new URL(endpoint);
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const entry: Seen = { method: req.method!, url: req.url!, headers: req.headers };
    seen.push(entry);
    const upstream = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res).on("finish", () => (entry.arrivedBeforeAnswer = seen.length));
    });
    upstream.on("error", (e) => res.destroy(e));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe("s3:// on MinIO", function () {
  let bucket: string;
  before(async function () {
    bucket = await makeS3Bucket({ versioning: true });
  });

  describeVfsContract("s3 (MinIO)", { makeRoot: async () => openPath(`s3://${bucket}/${uniqueName("t")}`, openOptions()), capabilities: S3_CAN });

  function rawClient(): S3Client {
    const o = s3Options();
    return new S3Client({ endpoint: o.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! } });
  }

  it("takes kops's S3_* variables, resolved from the environment it is handed, when no options are given", async function () {
    const o = s3Options();
    const env = { S3_ENDPOINT: o.endpoint, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: o.accessKeyId, S3_SECRET_ACCESS_KEY: o.secretAccessKey };
    const p = openPath(`s3://${bucket}/env/config`, resolveStoreSettings({}, env));
    await p.write("via env");
    assert.equal((await p.read()).data.toString(), "via env");
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

  it("asks for the bucket's default encryption beside the first read, once per bucket and context, so a write is one PUT", async function () {
    const proxy = await recordingProxy(s3Options().endpoint!);
    try {
      const context = new VfsContext();
      const options = { ...openOptions(), s3: { ...s3Options(), endpoint: proxy.endpoint }, context };
      const folder = uniqueName("lookahead");
      await openPath(`s3://${bucket}/${folder}/seed`, openOptions()).write("seed");
      const seed = openPath(`s3://${bucket}/${folder}/seed`, options);
      assert.equal((await seed.read()).data.toString(), "seed");
      const lookups = () => proxy.seen.filter((r) => r.method === "GET" && /[?&]encryption(=|&|$)/.test(r.url));
      const read = proxy.seen.find((r) => r.method === "GET" && r.url.endsWith("/seed"))!;
      assert.equal(lookups().length, 1, "the first read started the lookup");
      assert.ok(proxy.seen.indexOf(lookups()[0]!) < read.arrivedBeforeAnswer!, "the lookup went out beside the read, not after it");

      const before = proxy.seen.length;
      await openPath(`s3://${bucket}/${folder}/config`, options).create("x");
      const during = proxy.seen.slice(before);
      assert.deepEqual(during.map((r) => r.method), ["PUT"], "the write is one request: the lookup was already answered");
      assert.equal(during[0]!.headers["x-amz-server-side-encryption"], "AES256", "no default on the bucket: AES256, as kops sends");
      assert.equal(during[0]!.headers["if-none-match"], "*");
      assert.ok(during[0]!.headers["x-amz-meta-kstate-write-id"]);
      assert.equal(lookups().length, 1, "asked once per bucket and context");

      // A bucket that encrypts by default: the write sends no encryption header, as kops does.
      const encrypted = await makeS3Bucket();
      const client = rawClient();
      await client.send(new PutBucketEncryptionCommand({
        Bucket: encrypted, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      }));
      client.destroy();
      const mark = proxy.seen.length;
      await openPath(`s3://${encrypted}/config`, options).write("y");
      const put = proxy.seen.slice(mark).find((r) => r.method === "PUT")!;
      assert.equal(put.headers["x-amz-server-side-encryption"], undefined);
      assert.equal(lookups().length, 2, "the second bucket is asked once too");
    } finally {
      await proxy.close();
    }
  });

  it("asks a bucket for its region over the wire path, as kops does (GetBucketLocation)", async function () {
    const o = s3Options();
    const wire = (b: string) => new S3Wire({
      endpoint: o.endpoint, region: "us-east-1", bucket: b, pathStyle: true, timeoutMs: 10_000, context: new VfsContext(),
      credentials: () => Promise.resolve({ accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! }),
    });
    assert.equal(await bucketRegionOverWire(wire(bucket)), "us-east-1");
    await assert.rejects(bucketRegionOverWire(wire(uniqueName("nobucket"))), /NoSuchBucket|does not exist/);
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
    const timeoutMs = 2000;
    const { own, p } = await fileOnOwnMinio(timeoutMs, 3);
    try {
      await own.kill();
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
    const timeoutMs = 1500;
    const { own, p } = await fileOnOwnMinio(timeoutMs, 2);
    try {
      await own.freeze(); // alive but silent: only timeouts can end the wait
      const started = Date.now();
      await assert.rejects(p.read(), (e: unknown) => BackendError.isInstance(e) && e.message.includes(p.url));
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 4 * timeoutMs, `took ${elapsed} ms`);
      own.thaw();
    } finally {
      await own.stop();
    }
  });
});
