/**
 * ClusterConfig secrets and client-side encryption through the real Pulumi engine: the store
 * holds kops-format secrets sealed on the client, and `pulumi stack export` holds none of the
 * secret values nor the passphrase in plaintext.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig, StateStore } from "../../src";
import { keyedSecretHash, secretHash, storeEncryption } from "../../src/store/secrets";
import { isEnvelope, openPath } from "../../src/vfs";
import { kmsOptions, makeKmsKey, openOptions, uniqueName } from "../support/env";
import { inlineStack } from "../support/pulumi";

const CLUSTER = "secret.k8s.example.com";
const PASSPHRASE = "stack-level client passphrase 7731";
const DNS = "dns-secret-value-0e5d41";
const ADMIN = "admin-secret-value-9b2c77";
const ROTATED = "rotated-admin-value-44aa10";

describe("ClusterConfig secrets through the Pulumi engine (file://, client-side encrypted)", function () {
  this.timeout(180_000);
  let dir: string;
  let stack: Stack;
  let admin = ADMIN;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-secrets-engine-"));
    stack = await inlineStack("kstate-secrets-test", uniqueName("sec"), async () => {
      const c = new ClusterConfig("dev", {
        store: `file://${dir}`,
        name: CLUSTER,
        options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" },
        secrets: { "system:dns": DNS, admin: pulumi.secret(admin) },
        clientSideEncryption: { passphrase: PASSPHRASE },
      });
      return { secretHashes: c.secretHashes, secretHashKey: c.secretHashKey, configBase: c.configBase };
    });
  });

  after(async function () {
    await stack?.destroy();
  });

  /** `pulumi stack export`, run as a user would (the Automation API's exportStack adds --show-secrets). */
  const exportStack = async () => (await (stack.workspace as unknown as { runPulumiCmd(args: string[]): Promise<{ stdout: string }> }).runPulumiCmd(["stack", "export", "--stack", stack.name])).stdout;

  const stored = async (name: string) => {
    const raw = fs.readFileSync(path.join(dir, CLUSTER, "secrets", name));
    const opened = await openPath(`file://${dir}`, { clientSideEncryption: storeEncryption({ passphrase: PASSPHRASE }) }).join(CLUSTER, "secrets", name).read();
    return { raw, value: Buffer.from((JSON.parse(opened.data.toString()) as { Data: string }).Data, "base64").toString() };
  };

  it("up writes each secret in kops's format, sealed; outputs and the exported stack hold only hashes", async function () {
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    for (const [name, value] of [["system:dns", DNS], ["admin", ADMIN]] as const) {
      const s = await stored(name);
      assert.ok(isEnvelope(s.raw), `${name} is encrypted at rest`);
      assert.ok(!s.raw.includes(Buffer.from(value)) && !s.raw.includes(Buffer.from(Buffer.from(value).toString("base64"))));
      assert.equal(s.value, value);
    }
    // A keyed hash: the key is a secret output, so state alone cannot confirm a guessed value.
    const key = up.outputs.secretHashKey?.value as string;
    assert.equal(up.outputs.secretHashKey?.secret, true);
    assert.deepEqual(up.outputs.secretHashes?.value, { admin: keyedSecretHash(key, "admin", ADMIN), "system:dns": keyedSecretHash(key, "system:dns", DNS) });
    assert.notEqual(up.outputs.secretHashes?.value.admin, secretHash(ADMIN));
    const exported = await exportStack();
    assert.match(exported, /"ciphertext"/, "the secrets are there, encrypted by the stack's secrets provider");
    for (const plain of [DNS, ADMIN, PASSPHRASE, Buffer.from(DNS).toString("base64"), Buffer.from(ADMIN).toString("base64")]) {
      assert.ok(!exported.includes(plain), `the exported stack must not contain ${plain}`);
    }
    assert.ok(!fs.readFileSync(path.join(dir, CLUSTER, "config")).includes(Buffer.from("KSTATE-ENC")), "config stays plaintext for kops");
  });

  it("a second up changes nothing; a new value is written and the old one is gone", async function () {
    const again = await stack.up();
    assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"]);
    admin = ROTATED;
    const rotated = await stack.up();
    assert.equal(rotated.summary.resourceChanges?.update, 1);
    assert.equal((await stored("admin")).value, ROTATED);
    const exported = await exportStack();
    for (const plain of [ROTATED, ADMIN, PASSPHRASE]) assert.ok(!exported.includes(plain));
  });
});

describe("StateStore and ClusterConfig client-side encryption with a passphrase and AWS KMS, through the Pulumi engine", function () {
  this.timeout(180_000);
  const STORE_PASSPHRASE = "state-store passphrase 5521-zz";
  const KMS_SECRET = "kms-secret-access-key-8841-qq"; // the KMS test server takes any
  const KMS_VALUE = "kms-sealed-admin-value-61ce";
  const STORE_VALUE = "store-key-sealed-dns-value-93ab";
  let stack: Stack | undefined;
  after(async function () {
    await stack?.destroy();
  });

  it("secrets sealed under each key land in the store; `pulumi stack export` holds no value, passphrase or KMS secret", async function () {
    const key = await makeKmsKey();
    const bucket = uniqueName("kmsstore");
    stack = await inlineStack("kstate-kms-test", uniqueName("kms"), async () => {
      const store = new StateStore("store", { url: `s3://${bucket}`, forceDestroy: true, clientSideEncryption: { passphrase: STORE_PASSPHRASE } });
      const options = { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" };
      new ClusterConfig("kms", {
        store: store.url, name: "kms.k8s.example.com", options, secrets: { admin: KMS_VALUE },
        clientSideEncryption: { awsKmsKeyId: key.alias, awsKms: { ...kmsOptions(), secretAccessKey: KMS_SECRET } },
      });
      new ClusterConfig("pass", { store: store.url, name: "pass.k8s.example.com", options, secrets: { "system:dns": STORE_VALUE }, clientSideEncryption: store.clientSideEncryption });
      return { url: store.url };
    });
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    const raw = openPath(`s3://${bucket}`, openOptions());
    const sealed = (await raw.join("kms.k8s.example.com", "secrets", "admin").read()).data;
    assert.ok(isEnvelope(sealed) && sealed.includes(Buffer.from("awskms")) && sealed.includes(Buffer.from(key.arn)), "sealed under the KMS key");
    const byStoreKey = (await raw.join("pass.k8s.example.com", "secrets", "system:dns").read()).data;
    assert.ok(isEnvelope(byStoreKey) && byStoreKey.includes(Buffer.from("passphrase")), "sealed under the StateStore's passphrase");
    const opened = await openPath(`s3://${bucket}`, { ...openOptions(), clientSideEncryption: storeEncryption({ passphrase: STORE_PASSPHRASE }) }).join("pass.k8s.example.com", "secrets", "system:dns").read();
    assert.equal(Buffer.from((JSON.parse(opened.data.toString()) as { Data: string }).Data, "base64").toString(), STORE_VALUE);
    for (const bytes of [sealed, byStoreKey]) for (const v of [KMS_VALUE, STORE_VALUE]) assert.ok(!bytes.includes(Buffer.from(Buffer.from(v).toString("base64"))));

    const exported = (await (stack.workspace as unknown as { runPulumiCmd(args: string[]): Promise<{ stdout: string }> }).runPulumiCmd(["stack", "export", "--stack", stack.name])).stdout;
    assert.match(exported, /"ciphertext"/);
    assert.match(exported, /kmsstore/, "the export is the stack's");
    for (const plain of [STORE_PASSPHRASE, KMS_SECRET, KMS_VALUE, STORE_VALUE, Buffer.from(KMS_VALUE).toString("base64"), Buffer.from(STORE_VALUE).toString("base64")]) {
      assert.ok(!exported.includes(plain), `the exported stack must not contain ${plain}`);
    }
  });

  it("a StateStore whose KMS key does not work fails naming the key, and no bucket is made", async function () {
    const bucket = uniqueName("kmsbad");
    const bad = await inlineStack("kstate-kms-bad", uniqueName("kmsbad"), async () => {
      new StateStore("store", { url: `s3://${bucket}`, clientSideEncryption: { awsKmsKeyId: "alias/no-such-kstate-key", awsKms: kmsOptions() } });
    });
    await assert.rejects(bad.up(), /clientSideEncryption: AWS KMS key alias\/no-such-kstate-key: cannot encrypt a data key \(NotFoundException/);
    await assert.rejects(openPath(`s3://${bucket}`, openOptions()).list(), /NoSuchBucket|not found|does not exist/i);
  });
});
