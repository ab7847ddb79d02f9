/**
 * A StateStore's client-side encryption is a property of the store, through the real Pulumi
 * engine: the StateStore records its policy in the store, and a ClusterConfig of the same program
 * that is not handed the key fails naming it, with no plaintext secret (no file at all) written;
 * handed `store.clientSideEncryption`, it seals. On file:// and on MinIO. And the StateStore's
 * readPolicy/writePolicy carry the KMS statements its keys need.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig, StateStore } from "../../src";
import { POLICY_FILE } from "../../src/store/encryption-policy";
import { isEnvelope, openPath } from "../../src/vfs";
import { kmsOptions, makeKmsKey, openOptions, uniqueName } from "../support/env";
import { inlineStack } from "../support/pulumi";
import { MINIO_KMS_KEY } from "../support/servers";
import { recordFailedUpdate } from "../../src/ops/failed-update";

const CLUSTER = "sealed.k8s.example.com";
const PASSPHRASE = "store-wide passphrase 8812-policy";
const VALUE = "dns-secret-value-policy-7c1e";
const B64 = Buffer.from(VALUE).toString("base64");

const stores: { name: string; url: () => string }[] = [
  { name: "file://", url: () => `file://${path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kstate-policy-engine-")), "store")}` },
  { name: "s3 (MinIO)", url: () => `s3://${uniqueName("encpolicy")}` },
];

for (const s of stores) {
  describe(`a StateStore's client-side encryption binds its ClusterConfigs, through the Pulumi engine (${s.name})`, function () {
    this.timeout(240_000);
    let stack: Stack | undefined;
    after(async function () {
      await stack?.destroy();
    });

    it("a ClusterConfig not handed the key fails naming it and writes nothing; handed store.clientSideEncryption, it seals; removing it clears the policy", async function () {
      const url = s.url();
      let handKey = false;
      let encrypt = true;
      stack = await inlineStack("kstate-encryption-policy", uniqueName("encpol"), async () => {
        const store = new StateStore("store", { url, forceDestroy: true, ...(encrypt ? { clientSideEncryption: { passphrase: PASSPHRASE } } : {}) });
        new ClusterConfig("dev", {
          store: store.url, name: CLUSTER, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" },
          secrets: { "system:dns": VALUE },
          // Once the store records no policy, the key given to the ClusterConfig itself still reads what it sealed.
          ...(handKey ? { clientSideEncryption: encrypt ? store.clientSideEncryption : { passphrase: PASSPHRASE } } : {}),
        });
        return { url: store.url };
      });

      await assert.rejects(stack.up(), (e: Error) => {
        assert.match(e.message, /store \S+ keeps secrets\/\*\*, pki\/private\/\*\* encrypted with a passphrase \(recorded in \.kstate\/encryption\.json\); give the ClusterConfig clientSideEncryption: \{ passphrase \} \(e\.g\. clientSideEncryption: store\.clientSideEncryption\); nothing was written/);
        assert.ok(!e.message.includes(PASSPHRASE));
        return true;
      });
      // With the policy recorded, the preview itself fails where up would, writing nothing.
      await assert.rejects(stack.preview(), /keeps secrets\/\*\*, pki\/private\/\*\* encrypted with a passphrase .*nothing was written/);
      const root = openPath(url, openOptions());
      const files = await root.listTree();
      assert.deepEqual(files.map((f) => f.path), [POLICY_FILE], "the policy is recorded, and nothing of the cluster was written");
      const policy = (await root.join(...POLICY_FILE.split("/")).read()).data.toString();
      assert.deepEqual(JSON.parse(policy), { version: 1, keyProvider: "passphrase", patterns: ["secrets/**", "pki/private/**"], allowEncryptingKopsReads: false });
      assert.ok(!policy.includes(PASSPHRASE));

      handKey = true;
      const up = await stack.up();
      assert.equal(up.summary.result, "succeeded");
      const raw = (await root.join(CLUSTER, "secrets", "system:dns").read()).data;
      assert.ok(isEnvelope(raw) && !raw.includes(Buffer.from(VALUE)) && !raw.includes(Buffer.from(B64)), "sealed under the store's passphrase");
      for (const f of await root.listTree()) {
        const bytes = (await root.join(f.path).read()).data;
        assert.ok(!bytes.includes(Buffer.from(B64)) && !bytes.includes(Buffer.from(VALUE)), `${f.path} holds no plaintext secret`);
      }
      assert.ok(!isEnvelope((await root.join(CLUSTER, "config").read()).data), "config stays plaintext for kops");

      // The policy cleared behind the StateStore's back is drift: refresh sees it, up records it again.
      await root.join(...POLICY_FILE.split("/")).remove();
      const refreshed = await stack.refresh();
      assert.equal(refreshed.summary.resourceChanges?.update, 1, "refresh shows the StateStore drifted");
      await stack.up();
      assert.deepEqual(JSON.parse((await root.join(...POLICY_FILE.split("/")).read()).data.toString()), JSON.parse(policy), "recorded again");

      // Taking clientSideEncryption off the StateStore turns the policy off, explicitly (the
      // ClusterConfig keeps the key as its own setting, to read the secret it sealed).
      encrypt = false;
      const off = await stack.up();
      assert.equal(off.summary.result, "succeeded");
      assert.ok(!(await root.listTree()).some((f) => f.path === POLICY_FILE), "the policy is cleared");
    });
  });
}

describe("a StateStore holding nothing but its encryption policy, through the Pulumi engine", function () {
  this.timeout(240_000);

  it("is destroyed without forceDestroy (MinIO, versioned): the policy, and a failed update's record of a cluster deleted since, are no cluster state", async function () {
    const bucket = uniqueName("policyonly");
    const stack = await inlineStack("kstate-policy-only", uniqueName("polonly"), async () => {
      new StateStore("store", { url: `s3://${bucket}`, clientSideEncryption: { passphrase: PASSPHRASE } });
    });
    assert.equal((await stack.up()).summary.result, "succeeded");
    const root = openPath(`s3://${bucket}`, openOptions());
    assert.deepEqual((await root.listTree()).map((f) => f.path), [POLICY_FILE]);
    // kops delete cluster leaves kstate's record of a failed update of that cluster behind.
    await recordFailedUpdate(root, "gone.k8s.example.com", { failedAt: "2026-11-30T00:00:00Z", kopsVersion: "1.36.2", outcome: "exit 1" });
    await stack.destroy();
    await assert.rejects(root.list(), /NoSuchBucket|not found|does not exist/i);
  });
});

describe("StateStore readPolicy/writePolicy carry the KMS statements (SSE-KMS and client-side AWS KMS), through the Pulumi engine", function () {
  this.timeout(240_000);
  let stack: Stack | undefined;
  after(async function () {
    await stack?.destroy();
  });

  it("aws:kms on MinIO with a client-side KMS key: kms:Decrypt to read, kms:GenerateDataKey and kms:Encrypt to write, each on its key", async function () {
    const key = await makeKmsKey();
    const bucket = uniqueName("kmspolicy");
    stack = await inlineStack("kstate-kms-policy", uniqueName("kmspol"), async () => {
      const store = new StateStore("store", {
        url: `s3://${bucket}`, forceDestroy: true, encryption: "aws:kms", kmsKeyId: MINIO_KMS_KEY,
        clientSideEncryption: { awsKmsKeyId: key.arn, awsKms: kmsOptions() },
      });
      return { readPolicy: store.readPolicy, writePolicy: store.writePolicy, kmsKeyId: store.kmsKeyId };
    });
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    const sse = up.outputs.kmsKeyId!.value as string;
    assert.ok(sse.endsWith(MINIO_KMS_KEY), sse);
    const sseResource = sse.startsWith("arn:") ? sse : `arn:aws:kms:*:*:key/${sse}`;
    const read = up.outputs.readPolicy!.value as { Statement: unknown[] };
    const write = up.outputs.writePolicy!.value as { Statement: unknown[] };
    const bucketStatements = {
      list: { Sid: "ListStateStore", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"], Resource: `arn:aws:s3:::${bucket}` },
      read: { Sid: "ReadStateStore", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: `arn:aws:s3:::${bucket}/*` },
    };
    const decrypt = [
      { Sid: "DecryptStateStoreSse", Effect: "Allow", Action: ["kms:Decrypt"], Resource: sseResource },
      { Sid: "DecryptStateStoreClientSide", Effect: "Allow", Action: ["kms:Decrypt"], Resource: key.arn },
    ];
    assert.deepEqual(read.Statement, [bucketStatements.list, bucketStatements.read, ...decrypt]);
    assert.deepEqual(write.Statement, [
      bucketStatements.list, bucketStatements.read, ...decrypt,
      { Sid: "CheckBucketEncryption", Effect: "Allow", Action: ["s3:GetEncryptionConfiguration"], Resource: `arn:aws:s3:::${bucket}` },
      { Sid: "WriteStateStore", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: `arn:aws:s3:::${bucket}/*` },
      { Sid: "EncryptStateStoreSse", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: sseResource },
      { Sid: "EncryptStateStoreClientSide", Effect: "Allow", Action: ["kms:Encrypt"], Resource: key.arn },
    ]);
    // The client-side KMS policy is recorded in the store with the key's ARN, and nothing else of it.
    const recorded = JSON.parse((await openPath(`s3://${bucket}`, openOptions()).join(...POLICY_FILE.split("/")).read()).data.toString());
    assert.deepEqual(recorded, { version: 1, keyProvider: "aws-kms", awsKmsKeyId: key.arn, patterns: ["secrets/**", "pki/private/**"], allowEncryptingKopsReads: false });
  });
});
