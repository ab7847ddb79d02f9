/**
 * Client-side envelope encryption over real stores: what lands on the server is never the
 * plaintext, wrong keys and damaged or renamed files fail loudly, and keys rotate with `rekey`.
 * Raw objects are read past kstate's encryption (a plain openPath on the same URL, or the folder).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ClusterEncryption, storeEncryption } from "../../src/store/secrets";
import { hasVersions, isEnvelope, openPath, type VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { assertEveryFlipFails, envelopeLayout } from "../support/envelope";
import { gcsOptions, makeGcsBucket, makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { kops } from "../support/kops";
import { s3Env } from "../support/stores";

const A = "correct horse battery staple";
const B = "a second, newer passphrase";
const SECRET = '{"Data":"dG9wLXNlY3JldC12YWx1ZS0xMjM0NQ=="}';
const KEY = "apiVersion: kops.k8s.io/v1alpha2\nkind: Keyset\nspec:\n  keys:\n  - privateMaterial: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==\n";
const CONFIG = "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: enc.example.com\n";

const stores: Record<string, () => Promise<string>> = {
  "file://": async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-"))}`,
  "s3 (MinIO)": async () => `s3://${await makeS3Bucket()}`,
  "gcs (fake-gcs-server)": async () => `gs://${await makeGcsBucket()}`,
};

/** The store at `url` with client-side encryption, patterns relative to each cluster folder. */
function encrypted(url: string, settings: ClusterEncryption): VfsPath {
  return openPath(url, { ...openOptions(), clientSideEncryption: storeEncryption(settings) });
}

async function streamed(p: VfsPath): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of (await p.readStream()).stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

for (const [kind, make] of Object.entries(stores)) {
  describe(`client-side encryption on ${kind}`, function () {
    this.timeout(60_000);
    let url: string;
    beforeEach(async function () {
      url = `${await make()}/${uniqueName("store")}`;
    });

    it("secrets and private keys are stored encrypted (no plaintext on the server); config stays readable", async function () {
      const store = encrypted(url, { passphrase: A }).join("enc.example.com");
      await store.join("secrets", "system:dns").write(SECRET);
      await store.join("pki", "private", "ca", "keyset.yaml").write(KEY);
      await store.join("config").write(CONFIG);
      const raw = openPath(url, openOptions()).join("enc.example.com");
      for (const [file, plain] of [["secrets/system:dns", SECRET], ["pki/private/ca/keyset.yaml", KEY]] as const) {
        const bytes = (await raw.join(...file.split("/")).read()).data;
        assert.ok(isEnvelope(bytes), `${file} carries the envelope header`);
        for (const piece of [plain, "dG9wLXNlY3JldC12YWx1ZS0xMjM0NQ", "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ", "privateMaterial"]) {
          assert.ok(!bytes.includes(Buffer.from(piece)), `${file} must not contain ${piece}`);
        }
        assert.equal((await store.join(...file.split("/")).read()).data.toString(), plain);
        assert.equal(await streamed(store.join(...file.split("/"))), plain);
      }
      assert.equal((await raw.join("config").read()).data.toString(), CONFIG, "config is plaintext, for kops");
      assert.equal(await streamed(store.join("config")), CONFIG, "a plaintext file streams through as it is");
    });

    it("a wrong passphrase, any flipped byte, and a file renamed on the server all fail, naming the file", async function () {
      const store = encrypted(url, { passphrase: A }).join("enc.example.com");
      const file = store.join("secrets", "kube");
      await file.write(SECRET);
      await assert.rejects(encrypted(url, { passphrase: "not the right passphrase" }).join("enc.example.com", "secrets", "kube").read(), (e: Error) => {
        assert.match(e.message, /secrets\/kube: cannot decrypt: wrong passphrase or key/);
        return true;
      });

      const raw = openPath(url, openOptions()).join("enc.example.com", "secrets");
      const bytes = (await raw.join("kube").read()).data;
      // One position in each part: the envelope's, and the passphrase provider's salt and wrapped key.
      const layout = envelopeLayout(bytes);
      await assertEveryFlipFails(raw.join("kube"), file, bytes, { ...layout.positions, salt: layout.wrappedAt + 2, wrappedKey: layout.wrappedAt + 40 }, "secrets/kube");
      assert.equal((await file.read()).data.toString(), SECRET, "the original still reads");

      await raw.join("renamed").write(bytes);
      await assert.rejects(store.join("secrets", "renamed").read(), /secrets\/renamed: cannot decrypt/);
    });

    it("rotation: write under A; B with A as fallback reads; rekey; B alone reads and no file is under A", async function () {
      const name = "enc.example.com";
      const underA = encrypted(url, { passphrase: A }).join(name);
      const files = ["secrets/admin", "secrets/system:dns", "pki/private/ca/keyset.yaml", "pki/private/kube-proxy/keyset.yaml"];
      for (const f of files) await underA.join(...f.split("/")).write(`${f} ${SECRET}`);
      await underA.join("config").write(CONFIG);

      const rotating = encrypted(url, { passphrase: B, fallback: { passphrase: A } }).join(name);
      for (const f of files) assert.equal((await rotating.join(...f.split("/")).read()).data.toString(), `${f} ${SECRET}`);
      await assert.rejects(encrypted(url, { passphrase: B }).join(name, "secrets", "admin").read(), /cannot decrypt/);

      const cloudEnv: Record<string, string> = url.startsWith("s3://")
        ? s3Env()
        : url.startsWith("gs://") ? { STORAGE_EMULATOR_HOST: gcsOptions().endpoint! } : {};
      const env = { ...cloudEnv, KSTATE_STATE_STORE: url, KSTATE_PASSPHRASE: B, KSTATE_FALLBACK_PASSPHRASE: A };
      const r = await kstate(["rekey", name], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Rekeyed 4 of 5 file\(s\)/);
      const again = await kstate(["rekey", name], { env });
      assert.equal(again.code, 4, "a second rekey has nothing to do");

      const onlyB = encrypted(url, { passphrase: B }).join(name);
      for (const f of files) {
        assert.equal((await onlyB.join(...f.split("/")).read()).data.toString(), `${f} ${SECRET}`);
        await assert.rejects(encrypted(url, { passphrase: A }).join(name, ...f.split("/")).read(), /cannot decrypt/, `${f} is no longer under A`);
      }
    });
  });
}

describe("client-side encryption and kops", function () {
  this.timeout(120_000);
  it("with the default patterns, the real kops binary still reads config and instance groups of an encrypted store", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-kops-"));
    const state = `file://${dir}`;
    const env = { KSTATE_STATE_STORE: state, KSTATE_PASSPHRASE: A };
    const created = await kstate(["create", "cluster", "enc.k8s.example.com", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env });
    assert.equal(created.code, 0, created.stderr);
    await encrypted(state, { passphrase: A }).join("enc.k8s.example.com", "secrets", "admin").write(SECRET);
    assert.ok(isEnvelope(fs.readFileSync(path.join(dir, "enc.k8s.example.com", "secrets", "admin"))));
    const cluster = await kops(["get", "cluster", "enc.k8s.example.com", "--state", state, "-o", "yaml"]);
    assert.match(cluster.stdout, /kubernetesVersion: v1\.30\.2/);
    const igs = await kops(["get", "ig", "--name", "enc.k8s.example.com", "--state", state, "-o", "yaml"]);
    assert.match(igs.stdout, /name: nodes-us-east-1a/);
  });

  it("export --include-secrets carries encrypted files as they are; the folder holds no plaintext", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-export-"));
    const state = `file://${dir}/store`;
    const env = { KSTATE_STATE_STORE: state, KSTATE_PASSPHRASE: A };
    assert.equal((await kstate(["create", "cluster", "enc.k8s.example.com", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
    await encrypted(state, { passphrase: A }).join("enc.k8s.example.com", "secrets", "admin").write(SECRET);
    const r = await kstate(["export", "enc.k8s.example.com", "--to", path.join(dir, "git"), "--include-secrets"], { env });
    assert.equal(r.code, 0, r.stderr);
    const exported = fs.readFileSync(path.join(dir, "git", "secrets", "admin"));
    assert.ok(isEnvelope(exported));
    assert.ok(!exported.includes(Buffer.from("dG9wLXNlY3JldC12YWx1ZS0xMjM0NQ")));
    assert.ok(exported.equals(fs.readFileSync(path.join(dir, "store", "enc.k8s.example.com", "secrets", "admin"))), "byte for byte as stored");
  });

  it("migrate carries encrypted files as they are (no key needed); the destination opens them with the same key", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-migrate-"));
    const from = `file://${dir}`;
    const to = `s3://${await makeS3Bucket()}`;
    const env = { KSTATE_STATE_STORE: from, KSTATE_PASSPHRASE: A };
    assert.equal((await kstate(["create", "cluster", "enc.k8s.example.com", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
    await encrypted(from, { passphrase: A }).join("enc.k8s.example.com", "secrets", "admin").write(SECRET);
    const cloudEnv = s3Env();
    const r = await kstate(["migrate", "enc.k8s.example.com", "--from", from, "--to", to, "--yes"], { env: cloudEnv });
    assert.equal(r.code, 0, r.stderr);
    const moved = (await openPath(to, openOptions()).join("enc.k8s.example.com", "secrets", "admin").read()).data;
    assert.ok(moved.equals(fs.readFileSync(path.join(dir, "enc.k8s.example.com", "secrets", "admin"))), "byte for byte, still sealed");
    assert.equal((await encrypted(to, { passphrase: A }).join("enc.k8s.example.com", "secrets", "admin").read()).data.toString(), SECRET);
  });

  it("patterns that take in config or instance groups draw a warning that kops cannot read them", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-warn-"));
    const env = { KSTATE_STATE_STORE: `file://${dir}`, KSTATE_PASSPHRASE: A };
    const plain = await kstate(["get", "clusters"], { env });
    assert.doesNotMatch(plain.stderr, /warning/);
    const all = await kstate(["get", "clusters"], { env: { ...env, KSTATE_ENCRYPT_PATTERNS: "**" } });
    assert.match(all.stderr, /warning: KSTATE_ENCRYPT_PATTERNS encrypts config and instance groups; kops cannot read encrypted files/);
  });

  it("rekey of a cluster that is not there fails naming it (exit 1); without a key it is a usage error", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-rekey-"));
    const missing = await kstate(["rekey", "nope.example.com"], { env: { KSTATE_STATE_STORE: `file://${dir}`, KSTATE_PASSPHRASE: A } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cluster "nope\.example\.com" not found/);
    assert.equal((await kstate(["rekey", "nope.example.com"], { env: { KSTATE_STATE_STORE: `file://${dir}` } })).code, 2);
  });

  it("a passphrase shorter than 12 characters is refused, and nothing is written", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-short-"));
    assert.throws(() => encrypted(`file://${dir}`, { passphrase: "short" }), /at least 12 characters/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe("client-side encryption and bucket versioning", function () {
  this.timeout(60_000);
  const versioned: Record<string, () => Promise<string>> = {
    "s3 (MinIO)": async () => `s3://${await makeS3Bucket({ versioning: true })}`,
    "gcs (fake-gcs-server)": async () => `gs://${await makeGcsBucket({ versioning: true })}`,
  };
  for (const [kind, make] of Object.entries(versioned)) {
    it(`old versions of an encrypted file are listed and read back decrypted (${kind})`, async function () {
      const url = `${await make()}/${uniqueName("store")}`;
      const file = encrypted(url, { passphrase: A }).join("enc.example.com", "secrets", "admin");
      for (const v of ["one", "two", "three"]) await file.write(`${SECRET} ${v}`);
      assert.ok(hasVersions(file), "the encrypting wrapper keeps the backend's versions");
      const versions = await file.listVersions();
      assert.equal(versions.length, 3);
      const texts = await Promise.all(versions.map(async (v) => (await file.readVersion(v.versionId)).data.toString()));
      assert.deepEqual([...texts].sort(), [`${SECRET} one`, `${SECRET} three`, `${SECRET} two`]);
      const raw = openPath(url, openOptions()).join("enc.example.com", "secrets", "admin");
      assert.ok(hasVersions(raw));
      for (const v of await raw.listVersions()) assert.ok(isEnvelope((await raw.readVersion(v.versionId)).data), "every stored version is sealed");
      const other = encrypted(url, { passphrase: B }).join("enc.example.com", "secrets", "admin");
      assert.ok(hasVersions(other));
      await assert.rejects(other.readVersion(versions[0]!.versionId), /secrets\/admin: cannot decrypt/, "an old version needs the key too");
    });
  }
  it("a file:// store stays without versions under encryption", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-nover-"));
    assert.ok(!hasVersions(encrypted(`file://${dir}`, { passphrase: A }).join("x")));
  });
});
