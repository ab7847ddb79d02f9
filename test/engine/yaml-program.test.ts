/**
 * kstate from a program in another Pulumi language: examples/yaml run with the plain `pulumi`
 * CLI in its folder (the YAML language host, the provider plugin bin/pulumi-resource-kstate), as
 * a user runs it. The real kops reads what it writes; a preview lists exactly the files `up` then
 * changes; secrets reach Pulumi state only encrypted; bad input is refused naming the field,
 * with nothing written; getKubeconfig answers through the plugin; destroy takes the store.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { generateCa } from "../../src/ops/certificates";
import { uniqueName } from "../support/env";
import { kops, kopsEnv } from "../support/kops";
import { assertSameAsTypescript, changedFiles, storeSnapshot } from "../support/other-languages";
import { engineEnv, newStateDir } from "../support/pulumi";
import { toolPath } from "../support/servers";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..", "..");
const CLUSTER = "dev.k8s.example.com";

interface Result { code: number; out: string }

/** A project folder holding examples/yaml/Pulumi.yaml (its plugin path made absolute), and the pulumi CLI run in it. */
function project(extra = ""): { dir: string; store: string; pulumi(...args: string[]): Promise<Result> } {
  const dir = path.join(REPO, ".kstate", "test-work", uniqueName("yaml"));
  fs.mkdirSync(dir, { recursive: true });
  const text = fs.readFileSync(path.join(REPO, "examples", "yaml", "Pulumi.yaml"), "utf8").replace("path: ../../bin", `path: ${path.join(REPO, "bin")}`);
  assert.notEqual(text.indexOf(path.join(REPO, "bin")), -1, "the example names its plugin folder as ../../bin");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), text.replace(/^outputs:/m, `${extra}outputs:`));
  const env = {
    ...process.env,
    ...engineEnv(newStateDir()),
    PATH: [path.join(toolPath("pulumi"), "bin"), path.dirname(toolPath("pulumi-yaml")), process.env.PATH].join(path.delimiter),
  };
  const pulumi = async (...args: string[]): Promise<Result> => {
    try {
      const { stdout, stderr } = await run("pulumi", ["--non-interactive", ...args], { cwd: dir, env, maxBuffer: 32 << 20, timeout: 240_000 });
      return { code: 0, out: stdout + stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === "number" ? err.code : 1, out: (err.stdout ?? "") + (err.stderr ?? "") };
    }
  };
  return { dir, store: path.join(dir, ".kstate", "store"), pulumi };
}

async function ok(p: Promise<Result>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, r.out);
  return r.out;
}

describe("a Pulumi YAML program through the provider plugin (pulumi up in a folder)", function () {
  this.timeout(600_000);

  it("serves its schema to the engine: every resource and the function", async function () {
    const p = project();
    const schema = JSON.parse(await ok(p.pulumi("package", "get-schema", path.join(REPO, "bin", "pulumi-resource-kstate")))) as { name: string; resources: Record<string, unknown>; functions: Record<string, unknown> };
    assert.equal(schema.name, "kstate");
    assert.deepEqual(Object.keys(schema.resources).sort(), ["kstate:index:ClusterConfig", "kstate:index:ClusterUpdate", "kstate:index:StateStore", "kstate:index:StateStoreMigration"]);
    assert.deepEqual(Object.keys(schema.functions), ["kstate:index:getKubeconfig"]);
  });

  it("the example: up writes a cluster kops reads; a changed option is previewed file by file and up changes exactly those; destroy takes the store", async function () {
    const p = project();
    await ok(p.pulumi("stack", "init", "dev"));
    const up = await ok(p.pulumi("up", "--yes"));
    assert.match(up, /kstate:index:ClusterConfig dev created/);
    assert.match(up, new RegExp(`${CLUSTER} in file://\\S+: creating the cluster`), "the plan is printed under the resource");
    const state = `file://${p.store}`;
    const got = await kops(["get", "cluster", CLUSTER, "--state", state, "-o", "yaml"], kopsEnv());
    assert.match(got.stdout, /maxPods: 110/);
    assert.equal((await p.pulumi("preview", "--expect-no-changes")).code, 0, "a second preview has nothing to do");

    await ok(p.pulumi("config", "set", "nodeSize", "t3.xlarge"));
    const before = await storeSnapshot(p.store);
    const preview = await ok(p.pulumi("preview"));
    const named = [...new Set([...preview.matchAll(new RegExp(`${CLUSTER.replace(/\./g, "\\.")}: ((?:instancegroup/)?[\\w.-]+): `, "g"))].map((m) => `${CLUSTER}/${m[1]}`))].sort();
    assert.deepEqual(changedFiles(before, await storeSnapshot(p.store)), [], "a preview writes nothing");
    assert.deepEqual(named, [`${CLUSTER}/instancegroup/nodes-us-east-1a`, `${CLUSTER}/instancegroup/nodes-us-east-1b`]);
    await ok(p.pulumi("up", "--yes"));
    assert.deepEqual(changedFiles(before, await storeSnapshot(p.store)), named, "up changes exactly the files the preview named");
    const ig = await kops(["get", "ig", "nodes-us-east-1a", "--name", CLUSTER, "--state", state, "-o", "yaml"], kopsEnv());
    assert.match(ig.stdout, /machineType: t3\.xlarge/);

    await ok(p.pulumi("config", "set", "forceDestroy", "true"));
    await ok(p.pulumi("up", "--yes"));
    await ok(p.pulumi("destroy", "--yes"));
    assert.equal(fs.existsSync(p.store), false, "forceDestroy took the store");
  });

  it("writes the same files as the TypeScript example with the same settings, byte for byte but for the time of writing", async function () {
    const p = project();
    await ok(p.pulumi("stack", "init", "dev"));
    await ok(p.pulumi("up", "--yes"));
    await assertSameAsTypescript(p.store, "kstate-yaml", "dev");
  });

  it("secrets and a CA given in YAML reach state only encrypted; kops reads the CA; getKubeconfig answers with a secret kubeconfig the CA signed", async function () {
    const ca = generateCa("kubernetes-ca");
    const p = project([
      "variables:",
      "  admin:",
      "    fn::invoke:",
      "      function: kstate:getKubeconfig",
      "      arguments: { configBase: '${dev.configBase}', admin: 2h }",
      "",
    ].join("\n"));
    // The secrets and the CA as plain YAML values: the schema marks them secret, so the plugin seals them.
    const text = fs.readFileSync(path.join(p.dir, "Pulumi.yaml"), "utf8")
      .replace("      spec:\n", `      secrets:\n        dbpassword: hunter2-in-plain-yaml\n      ca:\n        cert: \${caCert}\n        key: \${caKey}\n      spec:\n`)
      .replace(/^config:\n/m, "config:\n  caCert:\n    type: string\n  caKey:\n    type: string\n")
      .replace(/^outputs:\n/m, "outputs:\n  kubeconfig: ${admin.kubeconfig}\n");
    fs.writeFileSync(path.join(p.dir, "Pulumi.yaml"), text);
    await ok(p.pulumi("stack", "init", "dev"));
    await ok(p.pulumi("config", "set", "caCert", "--", ca.certificate.pem));
    await ok(p.pulumi("config", "set", "--secret", "caKey", "--", ca.key.pem));
    const up = await ok(p.pulumi("up", "--yes"));
    assert.match(up, /kubeconfig: \[secret\]/);

    const exported = await ok(p.pulumi("stack", "export"));
    assert.equal(exported.includes("hunter2-in-plain-yaml"), false, "the secret value is not in state");
    const keyBody = ca.key.pem.split("\n")[1]!;
    assert.equal(exported.includes(keyBody), false, "the CA key is not in state");

    const state = `file://${p.store}`;
    const pairs = await kops(["get", "keypairs", "kubernetes-ca", "--name", CLUSTER, "--state", state, "-o", "yaml"], kopsEnv());
    assert.match(pairs.stdout, new RegExp(`id: "?${ca.serial.toString()}"?`));
    assert.ok(fs.existsSync(path.join(p.store, CLUSTER, "secrets", "dbpassword")));

    const kubeconfig = JSON.parse(await ok(p.pulumi("stack", "output", "kubeconfig", "--show-secrets", "--json"))) as string;
    const client = new X509Certificate(Buffer.from(/client-certificate-data: (\S+)/.exec(kubeconfig)![1]!, "base64").toString());
    assert.ok(client.checkIssued(ca.certificate.x509) && client.verify(ca.certificate.x509.publicKey), "the CA signed the client certificate");
  });

  it("bad input is refused naming the field, and the store is left byte for byte", async function () {
    const p = project();
    await ok(p.pulumi("stack", "init", "dev"));
    await ok(p.pulumi("up", "--yes"));
    const before = await storeSnapshot(p.store);
    const yaml = path.join(p.dir, "Pulumi.yaml");
    fs.writeFileSync(yaml, fs.readFileSync(yaml, "utf8").replace("maxPods: 110", "maxPod: 110"));
    const refused = await p.pulumi("up", "--yes");
    assert.notEqual(refused.code, 0, refused.out);
    assert.match(refused.out, /spec\.kubelet\.maxPod.*did you mean maxPods\?/);
    assert.deepEqual(changedFiles(before, await storeSnapshot(p.store)), []);
  });
});
