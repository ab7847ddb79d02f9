/**
 * Client-side encryption with AWS KMS keys (moto's KMS server) over MinIO and a folder: what lands
 * on the server holds no plaintext, another key or a damaged or renamed file fails naming the
 * file, an unreachable KMS is told apart from a wrong key, and keys rotate (passphrase -> KMS ->
 * another KMS key) with `kstate rekey`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ClusterEncryption, storeEncryption } from "../../src/store/secrets";
import { isEnvelope, openPath, type VfsPath } from "../../src/vfs";
import { keyringOf, probeKeys } from "../../src/vfs/encrypted";
import { kstate } from "../support/cli";
import { assertEveryFlipFails, envelopeLayout } from "../support/envelope";
import { kmsEnv, kmsOptions, makeKmsKey, makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { s3Env } from "../support/stores";

const SECRET = '{"Data":"a21zLXNlYWxlZC1zZWNyZXQtdmFsdWU="}';
const PASSPHRASE = "the passphrase before KMS";
const NAME = "kms.example.com";

function encrypted(url: string, settings: ClusterEncryption): VfsPath {
  return openPath(url, { ...openOptions(), clientSideEncryption: storeEncryption({ awsKms: kmsOptions(), ...settings }) });
}

/** The ARN recorded in an awskms file's header: the key its data key is wrapped under. */
function wrappedUnder(bytes: Buffer): string {
  const { providerId, wrappedKey } = envelopeLayout(bytes);
  assert.equal(providerId, "awskms");
  return wrappedKey.subarray(2, 2 + wrappedKey.readUInt16BE(0)).toString();
}

const stores: Record<string, () => Promise<string>> = {
  "file://": async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kms-"))}`,
  "s3 (MinIO)": async () => `s3://${await makeS3Bucket()}`,
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`client-side encryption with AWS KMS keys on ${kind}`, function () {
    this.timeout(60_000);
    let url: string;
    let k1: { alias: string; arn: string };
    let k2: { alias: string; arn: string };
    beforeEach(async function () {
      url = `${await make()}/${uniqueName("store")}`;
      [k1, k2] = await Promise.all([makeKmsKey(), makeKmsKey()]);
    });

    it("secrets are sealed under the KMS key (no plaintext stored); another key or a damaged or renamed file fails naming the file", async function () {
      const store = encrypted(url, { awsKmsKeyId: k1.alias }).join(NAME);
      const file = store.join("secrets", "system:dns");
      await file.write(SECRET);
      const raw = openPath(url, openOptions()).join(NAME, "secrets");
      const bytes = (await raw.join("system:dns").read()).data;
      assert.ok(isEnvelope(bytes));
      assert.equal(wrappedUnder(bytes), k1.arn, "the header names the key's ARN, whatever name it was given by");
      for (const piece of [SECRET, "a21zLXNlYWxlZC1zZWNyZXQtdmFsdWU", "kms-sealed-secret-value"]) assert.ok(!bytes.includes(Buffer.from(piece)));
      assert.equal((await file.read()).data.toString(), SECRET);
      assert.equal((await encrypted(url, { awsKmsKeyId: k1.arn }).join(NAME, "secrets", "system:dns").read()).data.toString(), SECRET, "the ARN opens it too");

      await assert.rejects(encrypted(url, { awsKmsKeyId: k2.alias }).join(NAME, "secrets", "system:dns").read(), /secrets\/system:dns: cannot decrypt: wrong passphrase or key/);
      await assert.rejects(encrypted(url, { passphrase: PASSPHRASE }).join(NAME, "secrets", "system:dns").read(), /secrets\/system:dns: encrypted with a "awskms" key, and no such key is configured/);

      // One position in each part: the envelope's, and the KMS provider's key ARN and KMS blob.
      const layout = envelopeLayout(bytes);
      await assertEveryFlipFails(raw.join("system:dns"), file, bytes, { ...layout.positions, keyArn: layout.wrappedAt + 10, kmsBlob: layout.bodyAt - 20 }, "secrets/system:dns");
      assert.equal((await file.read()).data.toString(), SECRET, "the original still reads");

      await raw.join("moved").write(bytes);
      await assert.rejects(store.join("secrets", "moved").read(), /secrets\/moved: cannot decrypt/, "KMS refuses the data key under another name (encryption context)");
    });

    it("rotation: passphrase -> KMS key 1 -> KMS key 2 with rekey; afterwards only key 2 opens anything", async function () {
      const files = ["secrets/admin", "secrets/system:dns", "pki/private/ca/keyset.yaml"];
      const underPassphrase = encrypted(url, { passphrase: PASSPHRASE }).join(NAME);
      for (const f of files) await underPassphrase.join(...f.split("/")).write(`${f} ${SECRET}`);
      await underPassphrase.join("config").write("apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: kms.example.com\n");

      const cloudEnv: Record<string, string> = url.startsWith("s3://")
        ? s3Env()
        : {};
      const raw = openPath(url, openOptions()).join(NAME);
      const rotate = async (env: Record<string, string>, under: string) => {
        const r = await kstate(["rekey", NAME], { env: { KSTATE_STATE_STORE: url, ...cloudEnv, ...kmsEnv(), ...env } });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Rekeyed 3 of 4 file\(s\)/);
        assert.equal((await kstate(["rekey", NAME], { env: { KSTATE_STATE_STORE: url, ...cloudEnv, ...kmsEnv(), ...env } })).code, 4, "nothing left to do");
        for (const f of files) assert.equal(wrappedUnder((await raw.join(...f.split("/")).read()).data), under, `${f} is under the new key`);
      };

      await rotate({ KSTATE_AWS_KMS_KEY_ID: k1.alias, KSTATE_FALLBACK_PASSPHRASE: PASSPHRASE }, k1.arn);
      for (const f of files) await assert.rejects(encrypted(url, { passphrase: PASSPHRASE }).join(NAME, ...f.split("/")).read(), /no such key is configured/);

      await rotate({ KSTATE_AWS_KMS_KEY_ID: k2.alias, KSTATE_FALLBACK_AWS_KMS_KEY_ID: k1.alias }, k2.arn);
      const only2 = encrypted(url, { awsKmsKeyId: k2.alias }).join(NAME);
      for (const f of files) {
        assert.equal((await only2.join(...f.split("/")).read()).data.toString(), `${f} ${SECRET}`);
        await assert.rejects(encrypted(url, { awsKmsKeyId: k1.alias }).join(NAME, ...f.split("/")).read(), /cannot decrypt: wrong passphrase or key/);
      }
    });
  });
}

describe("AWS KMS key provider errors", function () {
  this.timeout(60_000);

  it("an unreachable KMS is a backend error naming the key, not a wrong key; nothing is written", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kms-down-"));
    const key = await makeKmsKey();
    const good = encrypted(`file://${dir}`, { awsKmsKeyId: key.alias }).join(NAME, "secrets", "admin");
    await good.write(SECRET);
    const down = { ...kmsOptions(), endpoint: "http://127.0.0.1:9", timeoutMs: 2_000 };
    const offline = openPath(`file://${dir}`, { clientSideEncryption: storeEncryption({ awsKmsKeyId: key.alias, awsKms: down }) });
    await assert.rejects(offline.join(NAME, "secrets", "admin").read(), (e: Error) => {
      assert.match(e.message, new RegExp(`AWS KMS key ${key.alias}: cannot look up the key`));
      assert.doesNotMatch(e.message, /wrong passphrase or key/);
      return true;
    });
    await assert.rejects(offline.join(NAME, "secrets", "other").write(SECRET), new RegExp(`AWS KMS key ${key.alias}: cannot encrypt a data key`));
    assert.deepEqual(fs.readdirSync(path.join(dir, NAME, "secrets")), ["admin"], "the failed write left nothing");
  });

  it("probeKeys proves a working key and names one that does not exist; settings with two current keys are refused", async function () {
    const key = await makeKmsKey();
    await probeKeys(keyringOf({ awsKmsKeyId: key.alias, awsKms: kmsOptions(), fallback: { passphrase: PASSPHRASE }, patterns: ["**"] }));
    await assert.rejects(probeKeys(keyringOf({ awsKmsKeyId: "alias/no-such-key", awsKms: kmsOptions(), patterns: ["**"] })), /AWS KMS key alias\/no-such-key: cannot encrypt a data key \(NotFoundException/);
    assert.throws(() => keyringOf({ passphrase: PASSPHRASE, awsKmsKeyId: key.alias, patterns: ["**"] }), /gives both a passphrase and awsKmsKeyId/);
  });

  it("the CLI refuses a passphrase and a KMS key both set as the current key (usage error, exit 2)", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kms-both-"));
    const r = await kstate(["get", "clusters"], { env: { KSTATE_STATE_STORE: `file://${dir}`, KSTATE_PASSPHRASE: PASSPHRASE, KSTATE_AWS_KMS_KEY_ID: "alias/x" } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /KSTATE_PASSPHRASE and KSTATE_AWS_KMS_KEY_ID are both set/);
  });
});
