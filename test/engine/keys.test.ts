/**
 * A ClusterConfig's keys and an admin kubeconfig through the real Pulumi engine (file:// store):
 * the admin SSH key and a CA of the program's own are previewed, written where kops keeps them
 * and read by the real kops; a changed key replaces the program's own and never another
 * writer's; `getKubeconfigOutput` gives a secret kubeconfig whose client certificate the CA
 * signed; destroying the cluster takes the program's keys with it.
 */
import * as assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig, getKubeconfigOutput } from "../../src";
import { generateCa } from "../../src/ops/certificates";
import { uniqueName } from "../support/env";
import { kops, kopsEnv } from "../support/kops";
import { inlineStack } from "../support/pulumi";
import { seededKey } from "../support/ssh-keys";

const CLUSTER = "keys.k8s.example.com";
const CA = generateCa("kubernetes-ca");
const FIRST = seededKey(17, "ssh-ed25519", "first@example");
const SECOND = seededKey(18, "ssh-ed25519", "second@example");
const OTHER = seededKey(19, "ssh-rsa", "other@example");

describe("ClusterConfig keys and getKubeconfig through the Pulumi engine (file://)", function () {
  this.timeout(300_000);
  let dir: string;
  let stack: Stack;
  let key = FIRST;
  let ca = { cert: CA.certificate.pem, key: CA.key.pem };

  const files = (sub: string) => {
    const at = path.join(dir, CLUSTER, sub);
    return fs.existsSync(at) ? fs.readdirSync(at).sort() : [];
  };
  const hex = (k: { md5: string }) => k.md5.replace(/:/g, "");
  /** Another writer's key stored beside the program's while `fn` runs, and removed after, pass or fail. */
  const withOtherKey = async (fn: () => Promise<void>) => {
    const file = path.join(dir, CLUSTER, "pki/ssh/public/admin", hex(OTHER));
    fs.writeFileSync(file, OTHER.text);
    try {
      await fn();
    } finally {
      fs.rmSync(file, { force: true });
      key = FIRST;
    }
  };

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-keys-engine-"));
    stack = await inlineStack("kstate-keys-test", uniqueName("keys"), async () => {
      const c = new ClusterConfig("dev", {
        store: `file://${dir}`,
        name: CLUSTER,
        options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" },
        sshPublicKey: key.text,
        ca,
      });
      const kc = getKubeconfigOutput({ store: c.store, name: c.name, admin: "2h" });
      return { fingerprint: c.sshKeyFingerprint, caCertificate: c.caCertificate, kubeconfig: kc.kubeconfig, expires: kc.expires };
    });
  });

  after(async function () {
    await stack?.destroy().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("preview lists the key files up will write, and writes nothing", async function () {
    const preview = await stack.preview();
    assert.match(preview.stdout, new RegExp(`pki/ssh/public/admin/${hex(FIRST)}: create \\(ssh-ed25519 ${FIRST.md5}\\)`));
    assert.match(preview.stdout, /pki\/private\/kubernetes-ca\/keyset\.yaml: \+ key \d+ .*primary/);
    assert.deepEqual(files(""), []);
  });

  it("up stores both where kops keeps them; kops lists them; the kubeconfig is a secret signed by the CA", async function () {
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    assert.deepEqual(files("pki/ssh/public/admin"), [hex(FIRST)]);
    assert.equal(fs.readFileSync(path.join(dir, CLUSTER, "pki/ssh/public/admin", hex(FIRST)), "utf8"), FIRST.text);
    assert.equal(up.outputs.fingerprint?.value, FIRST.md5);
    assert.equal(new X509Certificate(up.outputs.caCertificate?.value as string).fingerprint256, CA.certificate.x509.fingerprint256);

    const state = `file://${dir}`;
    const ssh = await kops(["get", "sshpublickeys", "--name", CLUSTER, "--state", state], kopsEnv());
    assert.match(ssh.stdout, new RegExp(FIRST.md5));
    const pairs = await kops(["get", "keypairs", "kubernetes-ca", "--name", CLUSTER, "--state", state, "-o", "yaml"], kopsEnv());
    assert.match(pairs.stdout, /isPrimary: true/);
    assert.match(pairs.stdout, new RegExp(`id: "?${CA.serial.toString()}"?`));

    assert.equal(up.outputs.kubeconfig?.secret, true);
    const kubeconfig = up.outputs.kubeconfig?.value as string;
    const data = (field: string) => Buffer.from(kubeconfig.match(new RegExp(`${field}: (\\S+)`))![1]!, "base64").toString();
    const client = new X509Certificate(data("client-certificate-data"));
    assert.ok(client.checkIssued(CA.certificate.x509) && client.verify(CA.certificate.x509.publicKey), "the CA signed the client certificate");
    assert.match(client.subject, /O=system:masters/);
    const lifetime = (Date.parse(client.validTo) - Date.now()) / 1000;
    assert.ok(lifetime > 2 * 3600 - 120 && lifetime <= 2 * 3600 + 5, `about 2h left (${lifetime} s)`);
    assert.match(kubeconfig, new RegExp(`server: https://api\\.${CLUSTER.replace(/\./g, "\\.")}`));
  });

  it("a second up changes nothing", async function () {
    const again = await stack.up();
    assert.equal(again.summary.resourceChanges?.update ?? 0, 0);
    assert.deepEqual(files("pki/ssh/public/admin"), [hex(FIRST)]);
  });

  it("a new key in the program replaces the program's own key; another writer's key is a conflict, and nothing is written", async function () {
    key = SECOND;
    const preview = await stack.preview();
    assert.match(preview.stdout, new RegExp(`pki/ssh/public/admin/${hex(SECOND)}: create`));
    assert.match(preview.stdout, new RegExp(`pki/ssh/public/admin/${hex(FIRST)}: delete`));
    await stack.up();
    assert.deepEqual(files("pki/ssh/public/admin"), [hex(SECOND)]);

    // Someone adds a key by hand (as kops create sshpublickey does, beside the other).
    await withOtherKey(async () => {
      key = FIRST;
      await assert.rejects(stack.preview(), /another admin SSH key/);
      await assert.rejects(stack.up(), /another admin SSH key/);
      assert.deepEqual(files("pki/ssh/public/admin"), [hex(OTHER), hex(SECOND)].sort());
    });
    await stack.up();
    assert.deepEqual(files("pki/ssh/public/admin"), [hex(FIRST)]);
  });

  it("a key another writer stored first, and the program then set, stays theirs: moving on to another key is a conflict", async function () {
    // As kops create sshpublickey would: the key is there before the program asks for it.
    await withOtherKey(async () => {
      key = OTHER;
      const up = await stack.up();
      assert.deepEqual(files("pki/ssh/public/admin"), [hex(OTHER)], "the program's own old key went; the one found stays");
      assert.equal(up.outputs.fingerprint?.value, OTHER.md5);
      key = FIRST;
      await assert.rejects(stack.preview(), /another admin SSH key \([^)]*\) is stored, put there by another writer/);
      assert.deepEqual(files("pki/ssh/public/admin"), [hex(OTHER)]);
    });
    // Its owner removed it; the program's key goes in.
    await stack.up();
    assert.deepEqual(files("pki/ssh/public/admin"), [hex(FIRST)]);
  });

  it("a failing check never prints a private key: one given as sshPublicKey, or a CA whose key is not its certificate's", async function () {
    const ok = key;
    const privateBody = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ";
    key = { text: `-----BEGIN OPENSSH PRIVATE KEY-----\n${privateBody}\n-----END OPENSSH PRIVATE KEY-----\n`, md5: "" };
    const sshFailure = await stack.preview().then(() => undefined, (e: Error) => e.message);
    key = ok;
    assert.match(sshFailure ?? "", /sshPublicKey: not an OpenSSH public key: it is a private key/);
    assert.ok(!sshFailure!.includes(privateBody), "the private key is not printed");

    const other = generateCa("kubernetes-ca");
    ca = { cert: CA.certificate.pem, key: other.key.pem };
    const caFailure = await stack.preview().then(() => undefined, (e: Error) => e.message);
    ca = { cert: CA.certificate.pem, key: CA.key.pem };
    assert.match(caFailure ?? "", /ca: .*does not belong to the certificate/);
    for (const pem of [other.key.pem, CA.key.pem]) assert.ok(!caFailure!.includes(pem.split("\n")[1]!), "no line of a CA key is printed");
  });

  it("the exported stack holds the CA's private key only encrypted", async function () {
    const exported = (await (stack.workspace as unknown as { runPulumiCmd(args: string[]): Promise<{ stdout: string }> }).runPulumiCmd(["stack", "export", "--stack", stack.name])).stdout;
    const body = CA.key.pem.split("\n")[1]!;
    assert.ok(!exported.includes(body), "no line of the CA key in plaintext");
    assert.ok(!exported.includes(Buffer.from(CA.key.pem).toString("base64").slice(0, 40)));
  });

  it("destroy deletes the cluster it created and the keys it put there", async function () {
    await stack.destroy();
    assert.deepEqual(files(""), []);
  });
});
