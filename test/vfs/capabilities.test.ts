import * as assert from "node:assert/strict";
import { guardStore } from "../../src/store/policy-guard";
import { bucketAdmin, canServerCopy, copyFile, hasBucketAdmin, hasVersions, isEnvelope, openPath, type OpenOptions } from "../../src/vfs";
import { makeS3Bucket, openOptions, uniqueName } from "../support/env";

const PASSPHRASE = "capabilities test passphrase";
const HINT = { passphrase: "give the passphrase", awsKms: "give the AWS KMS key" };

describe("capabilities through encrypted and guarded paths (s3:// on MinIO)", function () {
  let bucket: string;
  before(async function () {
    bucket = await makeS3Bucket({ versioning: true });
  });

  const encrypted = (): OpenOptions => ({ ...openOptions(), clientSideEncryption: { passphrase: PASSPHRASE, patterns: ["secrets/**"] } });

  it("an encrypted path keeps versions, bucket admin and server-side copy", async function () {
    const root = openPath(`s3://${bucket}/${uniqueName("enc")}`, encrypted());
    assert.equal(hasVersions(root.join("config")), true);
    assert.equal(hasBucketAdmin(root.join("config")), true);
    assert.equal(canServerCopy(root.join("config")), true);
    const settings = await bucketAdmin(root).settings();
    assert.equal(settings.exists, true);
    assert.equal(settings.versioning, true);
  });

  it("copies a plaintext file on the server, and a sealed one through this process, decrypted and sealed again", async function () {
    const source = openPath(`s3://${bucket}/${uniqueName("src")}`, encrypted());
    const target = openPath(`s3://${bucket}/${uniqueName("dst")}`, encrypted());
    await source.join("config").write("plain config");
    await source.join("secrets", "kube").write("secret token");
    assert.equal(isEnvelope((await openPath(source.url, openOptions()).join("secrets", "kube").read()).data), true);

    const plain = await copyFile(source.join("config"), target.join("config"));
    assert.equal(plain.serverSide, true);
    assert.equal((await target.join("config").read()).data.toString(), "plain config");

    const sealed = await copyFile(source.join("secrets", "kube"), target.join("secrets", "kube"));
    assert.equal(sealed.serverSide, false);
    assert.equal((await target.join("secrets", "kube").read()).data.toString(), "secret token");
    assert.equal(isEnvelope((await openPath(target.url, openOptions()).join("secrets", "kube").read()).data), true, "stored sealed at the destination");
  });

  it("does not copy on the server a plaintext file the destination seals, nor an envelope read through a key", async function () {
    const raw = openPath(`s3://${bucket}/${uniqueName("raw")}`, openOptions());
    const target = openPath(`s3://${bucket}/${uniqueName("dst")}`, encrypted());
    await raw.join("secrets", "kube").write("from a plain store");
    const done = await copyFile(raw.join("secrets", "kube"), target.join("secrets", "kube"));
    assert.equal(done.serverSide, false);
    assert.equal(isEnvelope((await openPath(target.url, openOptions()).join("secrets", "kube").read()).data), true);

    // An envelope stored under a name the patterns do not take in: read through the key, it is opened on the way.
    const source = openPath(`s3://${bucket}/${uniqueName("src")}`, encrypted());
    await source.join("secrets", "kube").write("sealed");
    const envelope = (await openPath(source.url, openOptions()).join("secrets", "kube").read()).data;
    await openPath(source.url, openOptions()).join("moved").write(envelope);
    await assert.rejects(copyFile(source.join("moved"), target.join("moved")), /kube|moved|decrypt|authenticat/i, "the envelope is bound to its first name, so opening it elsewhere fails as a streamed copy would");
  });

  it("a guarded store forwards bucket admin and copies plaintext files on the server", async function () {
    const url = `s3://${bucket}/${uniqueName("guarded")}`;
    const store = guardStore(openPath(url, openOptions()), { passphrase: PASSPHRASE }, HINT);
    assert.equal((await bucketAdmin(store).settings()).exists, true);
    assert.equal(hasVersions(store.join("c.example.com", "config")), true);
    await store.join("c.example.com", "config").write("kind: Cluster\n");
    await store.join("c.example.com", "secrets", "kube").write("token");
    const plain = await copyFile(store.join("c.example.com", "config"), store.join("d.example.com", "config"));
    assert.equal(plain.serverSide, true);
    assert.equal((await store.join("d.example.com", "config").read()).data.toString(), "kind: Cluster\n");
    const sealed = await copyFile(store.join("c.example.com", "secrets", "kube"), store.join("d.example.com", "secrets", "kube"));
    assert.equal(sealed.serverSide, false);
    assert.equal((await store.join("d.example.com", "secrets", "kube").read()).data.toString(), "token");
  });

  it("a memfs:// path, encrypted or not, has no bucket admin and no server-side copy", function () {
    const p = openPath(`memfs://${uniqueName("m")}`, { clientSideEncryption: { passphrase: PASSPHRASE, patterns: ["**"] } });
    assert.equal(hasBucketAdmin(p), false);
    assert.equal(canServerCopy(p), false);
    assert.equal(hasVersions(p), true);
  });
});
