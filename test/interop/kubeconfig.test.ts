/**
 * `kstate export kubeconfig --admin` beside `kops export kubeconfig --admin` on the same store: the
 * same server and CA data; a client certificate signed by the store's CA with O=system:masters and
 * kops's lifetime; a TLS server of the test's own with a serving certificate from the same CA
 * accepts the kubeconfig's credentials and rejects a request without them.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { generatePrivateKey, issueCertificate, parseCertificatePem, parsePrivateKeyPem, randomSerial } from "../../src/ops/certificates";
import { adminKubeconfig } from "../../src/ops/kubeconfig";
import { ClusterStore } from "../../src/store/cluster-store";
import { findPrimary, keysetFile, parseKeyset } from "../../src/store/keyset";
import { parseYamlValues } from "../../src/store/yaml";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { kops, kopsEnv, startEc2Catalogue } from "../support/kops";
import { keypairStores, opensslCa } from "../support/keypairs";
import { snapshot } from "../support/snapshot";

const NAME = "kubecfg.k8s.example.com";
const HOUR = 3600_000;
type Doc = Record<string, any>;

function entries(text: string): { cluster: Doc; user: Doc; context: Doc; current: string; all: Doc } {
  const all = parseYamlValues(text, "kubeconfig") as Doc;
  const named = (list: string) => (all[list] as Doc[]).find((e) => e.name === NAME)!;
  return { cluster: named("clusters").cluster, user: named("users").user, context: named("contexts").context, current: all["current-context"], all };
}

const pem = (b64: string) => Buffer.from(b64, "base64").toString();

/** A request to `port` with the given TLS credentials: the status, or the error that stopped it. */
function request(port: number, tls: { ca: string; cert?: string; key?: string; servername: string }): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = https.request({ host: "127.0.0.1", port, path: "/version", ...tls, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", (e) => resolve(e));
    req.end();
  });
}

for (const [kind, make] of Object.entries(keypairStores)) {
  describe(`kstate export kubeconfig --admin beside kops (${kind})`, function () {
    this.timeout(180_000);
    let url: string;
    let dir: string;
    let catalogue: { endpoint: string; close(): Promise<void> };
    let cloud: Record<string, string>;
    const ks = (argv: string[]) => kstate([...argv, "--state", url], { env: cloud });
    const kopsAws = () => kopsEnv({ AWS_ENDPOINT_URL_EC2: catalogue.endpoint, AWS_ACCESS_KEY_ID: "offline", AWS_SECRET_ACCESS_KEY: "offline", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" });

    before(async function () {
      const made = await make();
      ({ url, env: cloud } = made);
      catalogue = await startEc2Catalogue();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kubecfg-"));
      assert.equal((await ks(["create", "cluster", NAME, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2"])).code, 0);
      // The API by DNS name: with a load balancer kops asks the cloud for its address.
      const config = openWith(url, cloud).join(NAME, "config");
      const text = (await config.read()).data.toString();
      assert.match(text, /  api:\n    loadBalancer:\n      class: Network\n      type: Public\n/);
      await config.write(text.replace("  api:\n    loadBalancer:\n      class: Network\n      type: Public\n", "  api:\n    dns: {}\n"));
    });
    after(async function () {
      await catalogue?.close();
    });

    it("refuses without a kubernetes-ca keyset, saying how to make one, and writes nothing", async function () {
      const file = path.join(dir, "none");
      const before = await snapshot(openWith(url, cloud));
      const r = await ks(["export", "kubeconfig", NAME, "--admin", "--kubeconfig", file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no kubernetes-ca keyset in the store .*run `kops update cluster kubecfg\.k8s\.example\.com` or `kstate create keypair kubernetes-ca --generate --primary --name kubecfg\.k8s\.example\.com`/);
      assert.ok(!fs.existsSync(file));
      assert.deepEqual(await snapshot(openWith(url, cloud)), before);
      assert.equal((await ks(["export", "kubeconfig", NAME, "--admin=soon", "--kubeconfig", file])).code, 2, "a bad duration is a usage error");
    });

    it("has kops's server and CA, and a client certificate from the store's CA that a TLS server accepts", async function () {
      assert.equal((await ks(["create", "keypair", "kubernetes-ca", "--generate", "--primary", "--name", NAME])).code, 0);
      const old = await opensslCa(dir, "old-ca", "old-ca");
      assert.equal((await ks(["create", "keypair", "kubernetes-ca", "--cert", old.cert, "--key", old.key, "--name", NAME])).code, 0);

      const theirsFile = path.join(dir, "kops-kubeconfig");
      await kops(["export", "kubeconfig", NAME, "--admin=2h", "--kubeconfig", theirsFile, "--state", url], kopsAws());
      const oursFile = path.join(dir, "kstate-kubeconfig");
      fs.writeFileSync(oursFile, "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster:\n    server: https://other.example.com\ncontexts:\n- name: other\n  context:\n    cluster: other\n    user: other\nusers:\n- name: other\n  user:\n    token: abc\n- name: kubecfg.k8s.example.com\n  user:\n    token: stale\ncurrent-context: other\n", { mode: 0o644 });
      const r = await ks(["export", "kubeconfig", NAME, "--admin=2h", "--kubeconfig", oursFile]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fs.statSync(oursFile).mode & 0o777, 0o600);

      const theirs = entries(fs.readFileSync(theirsFile, "utf8"));
      const ours = entries(fs.readFileSync(oursFile, "utf8"));
      assert.equal(ours.cluster.server, "https://api.kubecfg.k8s.example.com");
      assert.equal(ours.cluster.server, theirs.cluster.server);
      assert.equal(ours.cluster["tls-server-name"], theirs.cluster["tls-server-name"]);
      assert.equal(ours.cluster["certificate-authority-data"], theirs.cluster["certificate-authority-data"], "the same CA bundle, byte for byte");
      assert.equal(pem(ours.cluster["certificate-authority-data"]).match(/BEGIN CERTIFICATE/g)?.length, 2, "both trusted CAs");
      assert.deepEqual(ours.context, theirs.context);
      assert.equal(ours.current, NAME);
      assert.deepEqual(Object.keys(ours.user).sort(), Object.keys(theirs.user).sort());
      assert.deepEqual((ours.all.clusters as Doc[]).map((c) => c.name), ["kubecfg.k8s.example.com", "other"], "other entries kept");
      assert.equal((ours.all.users as Doc[]).find((u) => u.name === "other")?.user.token, "abc");
      assert.equal((ours.all.users as Doc[]).filter((u) => u.name === NAME).length, 1, "the stale user replaced");

      const keyset = parseKeyset((await openWith(url, cloud).join(NAME, keysetFile("kubernetes-ca")).read()).data.toString(), "ca");
      const ca = new X509Certificate(findPrimary(keyset)!.publicMaterial!);
      const client = new X509Certificate(pem(ours.user["client-certificate-data"]));
      const kopsClient = new X509Certificate(pem(theirs.user["client-certificate-data"]));
      assert.ok(client.verify(ca.publicKey), "signed by the primary kubernetes-ca key");
      assert.ok(client.checkIssued(ca));
      assert.ok(kopsClient.checkIssued(ca), "kops signs with the same key");
      assert.ok(client.checkPrivateKey(parsePrivateKeyPem(pem(ours.user["client-key-data"]), "client key").key));
      assert.match(pem(ours.user["client-key-data"]), /^-----BEGIN RSA PRIVATE KEY-----\n/);
      assert.equal(client.subject, kopsClient.subject, "kops's CN (kubecfg-USER) and O=system:masters");
      assert.match(client.subject, /^O=system:masters\nCN=kubecfg/);
      const span = (c: X509Certificate) => Date.parse(c.validTo) - Date.parse(c.validFrom);
      assert.ok(Math.abs(span(client) - 50 * HOUR) <= 1000, `2h plus kops's 48h backdating (got ${span(client) / HOUR}h)`);
      assert.ok(Math.abs(span(client) - span(kopsClient)) <= 1000, "kops's lifetime");

      // A server of our own, its certificate from the same CA, asking for client certificates.
      const caKey = parsePrivateKeyPem(findPrimary(keyset)!.privateMaterial!, "ca key");
      const serverKey = generatePrivateKey();
      const now = Date.now();
      const serving = issueCertificate({ type: "server", commonName: "kube-apiserver", alternateNames: [`api.internal.${NAME}`, "127.0.0.1"], serial: randomSerial(), key: serverKey, notBefore: new Date(now - HOUR), notAfter: new Date(now + HOUR), issuer: { certificate: parseCertificatePem(ca.toString(), "ca"), key: caKey } });
      const caBundle = pem(ours.cluster["certificate-authority-data"]);
      const server = https.createServer({ key: serverKey.pem, cert: serving.pem, ca: caBundle, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate();
        res.writeHead(200).end(JSON.stringify({ user: peer.subject?.CN, groups: peer.subject?.O }));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const port = (server.address() as AddressInfo).port;
        const servername = ours.cluster["tls-server-name"] as string;
        assert.equal(await request(port, { ca: caBundle, cert: pem(ours.user["client-certificate-data"]), key: pem(ours.user["client-key-data"]), servername }), 200);
        const refused = await request(port, { ca: caBundle, servername });
        assert.ok(refused instanceof Error, `no client certificate: refused (got ${String(refused)})`);
        const stranger = generatePrivateKey();
        const selfSigned = issueCertificate({ type: "client", commonName: "stranger", organization: ["system:masters"], serial: randomSerial(), key: stranger, notBefore: new Date(now - HOUR), notAfter: new Date(now + HOUR) });
        assert.ok(await request(port, { ca: caBundle, cert: selfSigned.pem, key: stranger.pem, servername }) instanceof Error, "a certificate from another CA: refused");
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });

    it("--internal uses api.internal.NAME as kops does; adminKubeconfig gives the same for the Pulumi side", async function () {
      const theirsFile = path.join(dir, "kops-internal");
      await kops(["export", "kubeconfig", NAME, "--admin=1h", "--internal", "--kubeconfig", theirsFile, "--state", url], kopsAws());
      const oursFile = path.join(dir, "kstate-internal");
      assert.equal((await ks(["export", "kubeconfig", "--name", NAME, "--admin=1h", "--internal", "--kubeconfig", oursFile])).code, 0);
      const theirs = entries(fs.readFileSync(theirsFile, "utf8"));
      const ours = entries(fs.readFileSync(oursFile, "utf8"));
      assert.equal(ours.cluster.server, "https://api.internal.kubecfg.k8s.example.com");
      assert.equal(ours.cluster.server, theirs.cluster.server);

      const now = new Date();
      const text = await adminKubeconfig(new ClusterStore(openWith(url, cloud)), NAME, { lifetimeSeconds: 3600, now });
      const pure = entries(text);
      assert.equal(pure.cluster.server, "https://api.kubecfg.k8s.example.com");
      assert.equal(pure.cluster["certificate-authority-data"], ours.cluster["certificate-authority-data"]);
      const client = new X509Certificate(pem(pure.user["client-certificate-data"]));
      assert.equal(Date.parse(client.validTo), Math.floor((now.getTime() + HOUR) / 1000) * 1000);
      assert.equal(Date.parse(client.validFrom), Math.floor((now.getTime() - 48 * HOUR) / 1000) * 1000);
      assert.equal(client.subject, "O=system:masters\nCN=kubecfg");
    });

    it("spec.masterPublicName is the server, as kops takes it; a file that is not a kubeconfig is left alone; a linked one is written where it points", async function () {
      assert.equal((await ks(["edit", "cluster", NAME, "--set", "spec.masterPublicName=api.public.example.org"])).code, 0);
      const theirsFile = path.join(dir, "kops-public");
      await kops(["export", "kubeconfig", NAME, "--admin", "--kubeconfig", theirsFile, "--state", url], kopsAws());
      const target = path.join(dir, "linked-target");
      fs.writeFileSync(target, "apiVersion: v1\nkind: Config\nclusters: []\n", { mode: 0o600 });
      const link = path.join(dir, "linked");
      fs.symlinkSync(target, link);
      const r = await ks(["export", "kubeconfig", NAME, "--admin", "--kubeconfig", link]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fs.lstatSync(link).isSymbolicLink(), "the link stays a link");
      const ours = entries(fs.readFileSync(target, "utf8"));
      assert.equal(ours.cluster.server, "https://api.public.example.org");
      assert.equal(ours.cluster.server, entries(fs.readFileSync(theirsFile, "utf8")).cluster.server);

      for (const [name, text] of [["pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"], ["numbers", "clusters: 5\n"], ["other-version", "apiVersion: v2\nkind: Config\n"]] as const) {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        const refused = await ks(["export", "kubeconfig", NAME, "--admin", "--kubeconfig", file]);
        assert.equal(refused.code, 1, `${name}: ${refused.stderr}`);
        assert.match(refused.stderr, new RegExp(`${name}: not a kubeconfig .*nothing was written`));
        assert.equal(fs.readFileSync(file, "utf8"), text, `${name} is left as it was`);
      }
    });

    it("a key encrypted with a passphrase is refused saying so; an EC primary CA key is refused for signing, naming the key, and nothing is written", async function () {
      const rsa = await opensslCa(dir, "enc-ca", "enc-ca");
      const encrypted = path.join(dir, "enc-ca.pkcs8");
      await promisify(execFile)("openssl", ["pkcs8", "-topk8", "-v2", "aes256", "-in", rsa.key, "-out", encrypted, "-passout", "pass:secret"]);
      const before = await snapshot(openWith(url, cloud));
      const refused = await ks(["create", "keypair", "kubernetes-ca", "--cert", rsa.cert, "--key", encrypted, "--name", NAME]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /enc-ca\.pkcs8: the private key is encrypted with a passphrase/);
      assert.deepEqual(await snapshot(openWith(url, cloud)), before);

      const ec = await opensslCa(dir, "ec-ca", "ec-ca", undefined, "ec");
      assert.equal((await ks(["create", "keypair", "kubernetes-ca", "--cert", ec.cert, "--key", ec.key, "--primary", "--name", NAME])).code, 0);
      const file = path.join(dir, "ec-kubeconfig");
      const r = await ks(["export", "kubeconfig", NAME, "--admin", "--kubeconfig", file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /keyset kubernetes-ca of kubecfg\.k8s\.example\.com: the primary key \d+ is an EC key, and kstate signs admin certificates with RSA CA keys only/);
      assert.ok(!fs.existsSync(file));
    });
  });
}
