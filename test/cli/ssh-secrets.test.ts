/**
 * `kstate create|get|delete sshpublickey` and the typed secrets from the command line: bad input is
 * refused naming the file and leaves the store byte-identical; `create secret sshpublickey` writes
 * nothing and an old secrets/sshpublickey is reported with how to move it; a listing goes past a
 * file it cannot open. The plan/apply split the provider calls is plain data and conditional.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configBaseOf } from "../../src/store/layout";
import { applyAdminSshKey, planAdminSshKey, planClusterSshKey, readAdminSshKeys } from "../../src/ops";
import { planSshPublicKey } from "../../src/ops/ssh-key";
import { ClusterStore } from "../../src/store/cluster-store";
import { isEnvelope, openPath, resetMemoryStore } from "../../src/vfs";
import { PreconditionFailedError, RefusedError } from "../../src/vfs/errors";
import { kstate } from "../support/cli";
import { snapshot } from "../support/snapshot";
import { seededKey } from "../support/ssh-keys";

const NAME = "keys.k8s.example.com";
const ED = seededKey(42, "ssh-ed25519", "me@host");
const RSA = seededKey(43, "ssh-rsa", "other@host");
const CILIUM_OK = "keys: 3+ rfc4106(gcm(aes)) 0123456789abcdef0123456789abcdef01234567 128\n";

async function freshStore(): Promise<{ url: string; env: Record<string, string>; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-sshsec-"));
  const url = `file://${dir}/store`;
  const env = { KOPS_STATE_STORE: url };
  const made = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2"], { env });
  assert.equal(made.code, 0, made.stderr);
  return { url, env, dir };
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("kstate sshpublickey and typed secrets: bad input", function () {
  this.timeout(60_000);

  interface Case { name: string; argv: (dir: string) => string[]; input?: string; code: number; stderr: RegExp }
  const cases: Case[] = [
    { name: "a private key given as the public key", argv: (d) => ["create", "sshpublickey", "--name", NAME, "-i", write(d, "id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n")], code: 1, stderr: /id_ed25519: not an OpenSSH public key: it is a private key; give the \.pub file/ },
    { name: "a file that is not a key", argv: (d) => ["create", "sshpublickey", "--name", NAME, "-i", write(d, "notes.txt", "hello world\n")], code: 1, stderr: /notes\.txt: not an OpenSSH public key: no line holds a key/ },
    { name: "an empty stdin", argv: () => ["create", "sshpublickey", "--name", NAME, "-i", "-"], input: "", code: 1, stderr: /stdin: not an OpenSSH public key/ },
    { name: "a key file that is not there", argv: (d) => ["create", "sshpublickey", "--name", NAME, "-i", path.join(d, "nope.pub")], code: 2, stderr: /-i .*nope\.pub: no such file/ },
    { name: "no key file", argv: () => ["create", "sshpublickey", "--name", NAME], code: 2, stderr: /needs the key file: -i FILE/ },
    { name: "a key for a cluster that is not there", argv: (d) => ["create", "sshpublickey", "--name", "missing.example.com", "-i", write(d, "id.pub", ED.text)], code: 1, stderr: /cluster "missing\.example\.com" not found/ },
    { name: "a key with no cluster named", argv: (d) => ["create", "sshpublickey", "-i", write(d, "id.pub", ED.text)], code: 2, stderr: /create sshpublickey needs a cluster name/ },
    { name: "invalid JSON for dockerconfig", argv: (d) => ["create", "secret", "dockerconfig", "--name", NAME, "-f", write(d, "config.json", '{"auths": {')], code: 1, stderr: /config\.json: not a Docker config \(JSON\): invalid JSON/ },
    { name: "a JSON list for dockerconfig", argv: () => ["create", "secret", "dockerconfig", "--name", NAME, "-f", "-"], input: "[1, 2]", code: 1, stderr: /stdin: not a Docker config \(JSON\): kops reads it as a JSON object/ },
    { name: "invalid JSON holding a password (never shown)", argv: () => ["create", "secret", "dockerconfig", "--name", NAME, "-f", "-"], input: '{"auths": {"r.example.com": {"password": "hunter2-never-shown" x}}}', code: 1, stderr: /^kstate create: stdin: not a Docker config \(JSON\): invalid JSON at line 1, column \d+\. Nothing was written\.\n$/ },
    { name: "a Cilium key in the algorithm's place (never shown)", argv: () => ["create", "secret", "ciliumpassword", "--name", NAME, "-f", "-"], input: "keys: 3 0123456789abcdef0123456789abcdef01234567 rfc4106(gcm(aes)) 128\n", code: 1, stderr: /^kstate create: stdin: not a Cilium IPsec key .*: unknown algorithm a 40-character word: Cilium takes/ },
    { name: "an empty dockerconfig", argv: (d) => ["create", "secret", "dockerconfig", "--name", NAME, "-f", write(d, "empty.json", "\n")], code: 1, stderr: /empty\.json: not a dockerconfig secret: the file is empty/ },
    { name: "YAML that does not parse for encryptionconfig", argv: (d) => ["create", "secret", "encryptionconfig", "--name", NAME, "-f", write(d, "enc.yaml", "kind: [EncryptionConfiguration\n")], code: 1, stderr: /enc\.yaml: not an EncryptionConfiguration: invalid YAML/ },
    { name: "another kind for encryptionconfig", argv: (d) => ["create", "secret", "encryptionconfig", "--name", NAME, "-f", write(d, "enc.yaml", "apiVersion: v1\nkind: Secret\n")], code: 1, stderr: /enc\.yaml: not an EncryptionConfiguration: kind is "Secret"/ },
    { name: "an encryptionconfig without resources", argv: (d) => ["create", "secret", "encryptionconfig", "--name", NAME, "-f", write(d, "enc.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n")], code: 1, stderr: /enc\.yaml: not an EncryptionConfiguration: resources must list/ },
    { name: "an encryptionconfig entry without providers", argv: (d) => ["create", "secret", "encryptionconfig", "--name", NAME, "-f", write(d, "enc.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n")], code: 1, stderr: /enc\.yaml: not an EncryptionConfiguration: resources\[0\]\.providers must list at least one provider/ },
    { name: "an encryptionconfig entry encrypting nothing", argv: (d) => ["create", "secret", "encryptionconfig", "--name", NAME, "-f", write(d, "enc.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- providers: [{identity: {}}]\n")], code: 1, stderr: /enc\.yaml: not an EncryptionConfiguration: resources\[0\]\.resources must list what to encrypt/ },
    { name: "an OpenSSH certificate given as the key", argv: () => ["create", "sshpublickey", "--name", NAME, "-i", "-"], input: "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAA me@host\n", code: 1, stderr: /stdin: not an OpenSSH public key: ssh-ed25519-cert-v01@openssh\.com is a certificate; give the public key itself/ },
    { name: "a Cilium key too short", argv: (d) => ["create", "secret", "ciliumpassword", "--name", NAME, "-f", write(d, "cilium.yaml", "keys: 3 rfc4106(gcm(aes)) 0123456789abcdef 128\n")], code: 1, stderr: /cilium\.yaml: not a Cilium IPsec key .*: the rfc4106\(gcm\(aes\)\) key is 16 hex digits; Cilium needs 40, 56 or 72/ },
    { name: "a Cilium key with a bad ICV", argv: () => ["create", "secret", "ciliumpassword", "--name", NAME, "-f", "-"], input: "keys: 3 rfc4106(gcm(aes)) 0123456789abcdef0123456789abcdef01234567 100\n", code: 1, stderr: /the ICV length is "100"/ },
    { name: "a Cilium SPI out of range", argv: () => ["create", "secret", "ciliumpassword", "--name", NAME, "-f", "-"], input: "keys: 16 rfc4106(gcm(aes)) 0123456789abcdef0123456789abcdef01234567 128\n", code: 1, stderr: /the SPI, a number from 1 to 15/ },
    { name: "a Cilium file of two lines", argv: () => ["create", "secret", "ciliumpassword", "--name", NAME, "-f", "-"], input: `${CILIUM_OK}other: x\n`, code: 1, stderr: /as one line/ },
    { name: "a Cilium file that is not YAML keys", argv: () => ["create", "secret", "ciliumpassword", "--name", NAME, "-f", "-"], input: "3 rfc4106(gcm(aes)) 0123456789abcdef0123456789abcdef01234567 128\n", code: 1, stderr: /kops reads it as a YAML mapping/ },
    { name: "a typed secret for a cluster that is not there", argv: () => ["create", "secret", "ciliumpassword", "--name", "missing.example.com", "-f", "-"], input: CILIUM_OK, code: 1, stderr: /cluster "missing\.example\.com" not found/ },
    { name: "create secret sshpublickey", argv: (d) => ["create", "secret", "sshpublickey", "--name", NAME, "--from-file", write(d, "id.pub", ED.text)], code: 1, stderr: /kops never reads secrets\/sshpublickey: it takes the admin SSH key from pki\/ssh\/public\/admin\/<fingerprint>\. Use kstate create sshpublickey --name keys\.k8s\.example\.com -i FILE/ },
    { name: "a delete without --yes and no terminal", argv: () => ["delete", "sshpublickey", "--name", NAME], code: 2, stderr: /pass --yes/ },
    { name: "a delete of a secret without --yes", argv: () => ["delete", "secret", "dockerconfig", "--name", NAME], code: 2, stderr: /pass --yes/ },
    { name: "a dry run of a replacement", argv: (d) => ["create", "sshpublickey", "--name", NAME, "-i", write(d, "rsa.pub", RSA.text), "--replace", "--dry-run"], code: 0, stderr: /^$/ },
    { name: "a dry run of a typed secret", argv: () => ["create", "secret", "ciliumpassword", "--name", NAME, "-f", "-", "--dry-run"], input: CILIUM_OK, code: 0, stderr: /^$/ },
  ];

  let store: { url: string; env: Record<string, string>; dir: string };
  before(async function () {
    store = await freshStore();
    // Something to protect: a key and a secret, so a bad write or delete would show.
    assert.equal((await kstate(["create", "sshpublickey", "--name", NAME, "-i", "-"], { env: store.env, input: ED.text })).code, 0);
    assert.equal((await kstate(["create", "secret", "dockerconfig", "--name", NAME, "-f", "-"], { env: store.env, input: '{"auths":{}}' })).code, 0);
  });

  for (const c of cases) {
    it(`${c.name}: exit ${c.code}, the store byte-identical`, async function () {
      const before = await snapshot(openPath(store.url));
      const r = await kstate(c.argv(store.dir), { env: store.env, ...(c.input !== undefined ? { input: c.input } : {}) });
      assert.equal(r.code, c.code, r.stderr);
      assert.match(r.stderr, c.stderr);
      assert.deepEqual(await snapshot(openPath(store.url)), before);
      assert.ok(!fs.existsSync(path.join(store.dir, "store", NAME, "secrets", "sshpublickey")));
    });
  }
});

describe("kstate sshpublickey and secrets: the old secrets/sshpublickey, listings, warnings", function () {
  this.timeout(60_000);

  it("an old secrets/sshpublickey is reported by get sshpublickeys and get secrets, and the move it prints works", async function () {
    const { url, env } = await freshStore();
    const legacy = openPath(url).join(NAME, "secrets", "sshpublickey");
    await legacy.create(JSON.stringify({ Data: Buffer.from(ED.text).toString("base64") }));
    for (const argv of [["get", "sshpublickeys", "--name", NAME, "-o", "yaml"], ["get", "secrets", "--name", NAME]]) {
      const r = await kstate(argv, { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /note: secrets\/sshpublickey of keys\.k8s\.example\.com: kops never reads this file; it takes the admin SSH key from pki\/ssh\/public\/admin\/<fingerprint>\. Move it with:\n {2}kstate get secrets sshpublickey --name keys\.k8s\.example\.com -o plaintext \| kstate create sshpublickey --name keys\.k8s\.example\.com -i -\n {2}kstate delete secret sshpublickey --name keys\.k8s\.example\.com --yes\n/, argv.join(" "));
    }
    // The move, as printed: the value goes through the pipe, the key lands where kops reads it.
    const value = await kstate(["get", "secrets", "sshpublickey", "--name", NAME, "-o", "plaintext"], { env });
    assert.equal(value.stdout, `${ED.text}\n`);
    const moved = await kstate(["create", "sshpublickey", "--name", NAME, "-i", "-"], { env, input: value.stdout });
    assert.equal(moved.code, 0, moved.stderr);
    const removed = await kstate(["delete", "secret", "sshpublickey", "--name", NAME, "--yes"], { env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Deleted secret sshpublickey of keys\.k8s\.example\.com\. The admin SSH key under pki\/ssh\/public\/admin is untouched\./);
    const again = await kstate(["delete", "secret", "sshpublickey", "--name", NAME, "--yes"], { env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not found .*\(the admin SSH key is deleted with kstate delete sshpublickey --name keys\.k8s\.example\.com\)/);
    assert.equal((await kstate(["get", "sshpublickeys", "--name", NAME], { env })).stdout, `ID\n${ED.md5}\n`);
    assert.deepEqual((await openPath(url).join(NAME, "secrets").list()).map((f) => f.path), []);
    const quiet = await kstate(["get", "sshpublickeys", "--name", NAME], { env });
    assert.equal(quiet.stderr, "", "reported only while the file is there");
  });

  it("a listing marks a secret it cannot open (sealed, not a kops secret), lists the rest, and exits 1", async function () {
    const { url, env } = await freshStore();
    const sealedEnv = { ...env, KSTATE_PASSPHRASE: "listing test passphrase" };
    assert.equal((await kstate(["create", "secret", "sealed", "--name", NAME, "-f", "-"], { env: sealedEnv, input: "the sealed value" })).code, 0);
    assert.equal((await kstate(["create", "secret", "plain", "--name", NAME, "-f", "-"], { env, input: "the plain value" })).code, 0);
    await openPath(url).join(NAME, "secrets", "garbage").create("not json");
    const r = await kstate(["get", "secrets", "--name", NAME], { env });
    assert.equal(r.code, 1);
    const rows = r.stdout.trim().split("\n").map((l) => l.split(/\t+/));
    assert.deepEqual(rows.map((row) => [row[0], row[1] === "-" ? "-" : "hash", row[2]]), [["NAME", "hash", "ENCRYPTED"], ["garbage", "-", "no"], ["plain", "hash", "no"], ["sealed", "-", "yes"]]);
    assert.match(r.stderr, /secrets\/garbage: not a kops secret/);
    assert.match(r.stderr, /secrets\/sealed: encrypted client side, and this store is opened without a key/);
    const json = JSON.parse((await kstate(["get", "secrets", "--name", NAME, "-o", "json", "--reveal"], { env })).stdout) as { name: string; value?: string; error?: string }[];
    assert.deepEqual(json.map((j) => [j.name, j.value ?? null, j.error !== undefined]), [["garbage", null, true], ["plain", "the plain value", false], ["sealed", null, true]]);
    assert.ok(!r.stdout.includes("the plain value") && !r.stderr.includes("the plain value"), "no value without --reveal");
    const withKey = await kstate(["get", "secrets", "--name", NAME, "sealed", "plain", "-o", "yaml", "--reveal"], { env: sealedEnv });
    assert.equal(withKey.code, 0, withKey.stderr);
    assert.match(withKey.stdout, /name: sealed\n {2}sha256: [0-9a-f]{16}\n {2}value: the sealed value/);
    // A file the listing cannot read is still deleted by name, as kops deletes it.
    for (const name of ["garbage", "badb64"]) {
      if (name === "badb64") await openPath(url).join(NAME, "secrets", name).create('{"Data":"%%%"}');
      const gone = await kstate(["delete", "secret", name, "--name", NAME, "--yes"], { env });
      assert.equal(gone.code, 0, gone.stderr);
      assert.match(gone.stdout, new RegExp(`secrets/${name}: delete`));
    }
    assert.deepEqual((await openPath(url).join(NAME, "secrets").list()).map((f) => f.path).sort(), ["plain", "sealed"]);
  });

  it("the key stored under another file name is this key, not another one: nothing to do", async function () {
    const { url, env, dir } = await freshStore();
    await openPath(url).join(NAME, "pki", "ssh", "public", "admin", "admin").create(ED.text);
    const before = await snapshot(openPath(url));
    const r = await kstate(["create", "sshpublickey", "--name", NAME, "-i", write(dir, "ed.pub", ED.text)], { env });
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual(await snapshot(openPath(url)), before);
    const other = await kstate(["create", "sshpublickey", "--name", NAME, "-i", write(dir, "rsa.pub", RSA.text)], { env });
    assert.equal(other.code, 1);
    assert.match(other.stderr, new RegExp(`another admin SSH key \\(${ED.md5}\\)`));
  });

  it("a keyset sealed by client-side encryption is written with a warning that kops cannot open it", async function () {
    const { url, env } = await freshStore();
    const sealedEnv = { ...env, KSTATE_PASSPHRASE: "keyset warning passphrase" };
    const r = await kstate(["create", "keypair", "kubernetes-ca", "--generate", "--primary", "--name", NAME], { env: sealedEnv });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: pki\/private\/kubernetes-ca\/keyset\.yaml is sealed by client-side encryption; kops cannot open it/);
    assert.ok(isEnvelope((await openPath(url).join(NAME, "pki", "private", "kubernetes-ca", "keyset.yaml").read()).data));
    const plain = await kstate(["create", "keypair", "etcd-clients-ca", "--generate", "--primary", "--name", NAME], { env });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stderr, "", "no warning for a keyset kops reads");
  });

  it("keypair and secret changes for a cluster that keeps its keys elsewhere (its configBase in another store) are refused, as kops would read them there", async function () {
    const { url, env } = await freshStore();
    assert.equal((await kstate(["create", "keypair", "kubernetes-ca", "--generate", "--primary", "--name", NAME], { env })).code, 0);
    assert.equal((await kstate(["edit", "cluster", NAME, "--set", "spec.configBase=s3://elsewhere/keys.k8s.example.com"], { env })).code, 0);
    const before = await snapshot(openPath(url));
    for (const argv of [["create", "keypair", "kubernetes-ca", "--generate", "--name", NAME], ["promote", "keypair", "kubernetes-ca", "--name", NAME]]) {
      const r = await kstate(argv, { env });
      assert.equal(r.code, 1, `${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /keeps its keys in s3:\/\/elsewhere\/keys\.k8s\.example\.com\/pki, not in .*kops reads its keypairs from there\. Nothing was written\./);
    }
    // And so is a secret, on every road that writes one: kops reads secrets from configBase/secrets too.
    const secret = await kstate(["create", "secret", "token", "--name", NAME, "-f", "-"], { env, input: "a value" });
    assert.equal(secret.code, 1, secret.stderr);
    assert.match(secret.stderr, /secrets\/token: cluster keys\.k8s\.example\.com keeps its secrets in s3:\/\/elsewhere\/keys\.k8s\.example\.com\/secrets, not in .*; kops reads its secrets from there/);
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-elsewhere-"));
    assert.equal((await kstate(["export", NAME, "--to", exported], { env })).code, 0);
    fs.mkdirSync(path.join(exported, "secrets"), { recursive: true });
    fs.writeFileSync(path.join(exported, "secrets", "token"), '{"Data":"dmFsdWU="}');
    const applied = await kstate(["apply", "-f", exported, "--yes"], { env });
    assert.equal(applied.code, 1, applied.stderr);
    assert.match(applied.stderr, /secrets\/token: cluster keys\.k8s\.example\.com keeps its secrets in s3:\/\/elsewhere/);
    assert.deepEqual(await snapshot(openPath(url)), before);
    // One apply that moves configBase away and adds a secret: judged by the config it leaves.
    await kstate(["edit", "cluster", NAME, "--set", `spec.configBase=${configBaseOf(`${url}/${NAME}`)}`], { env });
    fs.rmSync(path.join(exported, "secrets"), { recursive: true });
    assert.equal((await kstate(["export", NAME, "--to", exported], { env })).code, 0);
    fs.writeFileSync(path.join(exported, "config"), fs.readFileSync(path.join(exported, "config"), "utf8").replace(/configBase: .*/, "configBase: s3://elsewhere/keys.k8s.example.com"));
    fs.mkdirSync(path.join(exported, "secrets"), { recursive: true });
    fs.writeFileSync(path.join(exported, "secrets", "token"), '{"Data":"dmFsdWU="}');
    const beforeMove = await snapshot(openPath(url));
    const moved = await kstate(["apply", "-f", exported, "--yes"], { env });
    assert.equal(moved.code, 1, moved.stdout + moved.stderr);
    assert.match(moved.stderr, /secrets\/token: cluster keys\.k8s\.example\.com keeps its secrets in s3:\/\/elsewhere/);
    assert.deepEqual(await snapshot(openPath(url)), beforeMove);
    fs.rmSync(exported, { recursive: true, force: true });
  });

  it("--from-literal still works, with a warning that the value lands in ps and shell history", async function () {
    const { env } = await freshStore();
    const r = await kstate(["create", "secret", "token", "--name", NAME, "--from-literal", "literal-value-1"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --from-literal puts the secret on the command line, where ps and shell history see it/);
    assert.ok(!r.stderr.includes("literal-value-1"));
    const typed = await kstate(["create", "secret", "ciliumpassword", "--name", NAME, "--from-literal", "keys: 1 rfc4106(gcm(aes)) 00 128"], { env });
    assert.equal(typed.code, 1, "a typed secret is checked from any source");
    const sealed = await kstate(["create", "secret", "dockerconfig", "--name", NAME, "-f", "-"], { env: { ...env, KSTATE_PASSPHRASE: "sealing test passphrase" }, input: '{"auths":{}}' });
    assert.equal(sealed.code, 0, sealed.stderr);
    assert.match(sealed.stderr, /warning: secrets\/dockerconfig is sealed by client-side encryption; kops cannot open it \(kops update cluster and kops get secrets dockerconfig -o plaintext fail on it\)/);
    // A secret of the user's own is sealed with a warning too: kops opens it to print its value.
    const own = await kstate(["create", "secret", "own-token", "--name", NAME, "-f", "-"], { env: { ...env, KSTATE_PASSPHRASE: "sealing test passphrase" }, input: "own value" });
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stderr, /warning: secrets\/own-token is sealed by client-side encryption; kops cannot open it \(kops get secrets own-token -o plaintext fails on it\)/);
  });

  it("planClusterSshKey (the provider's entry): plain data that survives JSON; a cluster keeping its keys elsewhere is refused", async function () {
    const { url, env, dir } = await freshStore();
    const store = new ClusterStore(openPath(url));
    const plan = await planClusterSshKey(store, NAME, ED.text, "input");
    const { key: _key, ...data } = plan;
    const copy = JSON.parse(JSON.stringify(data)) as typeof data;
    assert.deepEqual(copy, data, "survives a trip through JSON (Pulumi state)");
    await applyAdminSshKey(store.cluster(NAME), copy);
    assert.equal((await kstate(["get", "sshpublickeys", "--name", NAME], { env })).stdout, `ID\n${ED.md5}\n`);
    const config = openPath(url).join(NAME, "config");
    await config.write((await config.read()).data.toString().replace(/^spec:\n/m, "spec:\n  keyStore: s3://elsewhere/pki\n"));
    const before = await snapshot(openPath(url));
    const r = await kstate(["create", "sshpublickey", "--name", NAME, "-i", write(dir, "rsa.pub", RSA.text), "--replace"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cluster keys\.k8s\.example\.com keeps its keys in s3:\/\/elsewhere\/pki, not in file:\/\/.*; kops reads the SSH key from there\. Nothing was written\./);
    assert.deepEqual(await snapshot(openPath(url)), before);
  });

  it("the provider's plan/apply split: plain data in and out, writes conditional on what was read", async function () {
    const n = `ssh-plan-${Date.now()}`;
    resetMemoryStore(n);
    const store = new ClusterStore(openPath(`memfs://${n}`));
    const key = planSshPublicKey(ED.text, "input");
    const first = planAdminSshKey(NAME, await readAdminSshKeys(store, NAME), key);
    assert.deepEqual(first.lines, [`pki/ssh/public/admin/${ED.md5.replace(/:/g, "")}: create (ssh-ed25519 ${ED.md5})`]);
    assert.deepEqual(JSON.parse(JSON.stringify(first)).remove, [], "serializable");
    await applyAdminSshKey(store.cluster(NAME), first);
    assert.deepEqual(planAdminSshKey(NAME, await readAdminSshKeys(store, NAME), key).lines, [], "the same key again: no change");
    const other = planSshPublicKey(RSA.text, "input");
    assert.throws(() => planAdminSshKey(NAME, [{ id: "x", file: "pki/ssh/public/admin/x", publicKey: "", revision: "r" }], other), RefusedError.isInstance, "another key, no --replace");
    const swap = planAdminSshKey(NAME, await readAdminSshKeys(store, NAME), other, { replace: true });
    assert.equal(swap.lines.length, 2);
    // Someone rewrites the old key's file after the plan: the removal is refused, the new key stays.
    await store.cluster(NAME).join(...first.create!.file.split("/")).write(ED.text.replace("me@host", "changed"));
    await assert.rejects(applyAdminSshKey(store.cluster(NAME), swap), PreconditionFailedError.isInstance);
    assert.deepEqual((await readAdminSshKeys(store, NAME)).map((k) => k.fingerprint).sort(), [ED.md5, RSA.md5].sort());
    // Removed by someone else meanwhile: the removal wanted is done; nothing to complain of.
    const third = planAdminSshKey(NAME, await readAdminSshKeys(store, NAME), planSshPublicKey(ED.text, "input"), { replace: true });
    await store.cluster(NAME).join(...third.remove[0]!.file.split("/")).remove();
    await applyAdminSshKey(store.cluster(NAME), third);
    assert.deepEqual((await readAdminSshKeys(store, NAME)).map((k) => k.fingerprint), [ED.md5]);
  });
});
