/**
 * ClusterUpdate's inputs refused at check, each naming its property, before kops or the store is
 * touched (so no server is needed): the table of what a program can get wrong. Then what the
 * store answers before kops runs: a rolling update of a group the cluster does not have.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { provider } from "../../src/providers/cluster-update";
import { POLICY_FILE, policyOf, policyText } from "../../src/store/encryption-policy";
import { openPath } from "../../src/vfs";
import { MAGIC } from "../../src/vfs/envelope";
import { toolPath } from "../support/servers";

const base = { store: "s3://acme-state", name: "dev.k8s.example.com" };

describe("providers: ClusterUpdate check", function () {
  const cases: { name: string; inputs: Record<string, unknown>; property: string; reason: RegExp }[] = [
    { name: "no store", inputs: { name: base.name }, property: "store", reason: /required: the state store's URL/ },
    { name: "a memfs:// store", inputs: { ...base, store: "memfs://x" }, property: "store", reason: /kops cannot reach a memfs:\/\/ store/ },
    { name: "no name", inputs: { store: base.store }, property: "name", reason: /^required: the cluster's name/ },
    { name: "a name that is none", inputs: { ...base, name: "Bad_Name" }, property: "name", reason: /"Bad_Name" is not a cluster name/ },
    { name: "an unknown target", inputs: { ...base, target: "cloudformation" }, property: "target", reason: /must be direct or terraform/ },
    { name: "terraform without a folder", inputs: { ...base, target: "terraform" }, property: "outDir", reason: /required with target terraform/ },
    { name: "a folder without terraform", inputs: { ...base, outDir: "/tmp/tf" }, property: "outDir", reason: /goes with target terraform/ },
    { name: "a lifecycle kops has not", inputs: { ...base, lifecycleOverrides: { SecurityGroup: "Bogus" } }, property: "lifecycleOverrides", reason: /"Bogus" is not one of Sync, Ignore/ },
    { name: "a task type kops has not (kops would ignore it)", inputs: { ...base, lifecycleOverrides: { SecurityGroups: "Ignore" } }, property: "lifecycleOverrides", reason: /"SecurityGroups" is not a task type of kops 1\.36\.2 \(did you mean SecurityGroup\?\); kops would ignore it/ },
    // environment is a secret: its failure names no property (the engine would print the value beside it).
    { name: "a variable name that is none", inputs: { ...base, environment: { "BAD=NAME": "x" } }, property: "", reason: /^environment: "BAD=NAME" is not a variable name/ },
    { name: "a variable that is not a string", inputs: { ...base, environment: { A: 1 } }, property: "", reason: /^environment: must map variable names to strings/ },
    { name: "failAfter that is no duration", inputs: { ...base, failAfter: "soon" }, property: "failAfter", reason: /"soon" is not a duration/ },
    { name: "a rolling update with terraform", inputs: { ...base, target: "terraform", outDir: "/tmp/tf", rollingUpdate: { cloudOnly: true } }, property: "rollingUpdate", reason: /goes with the direct target/ },
    { name: "a rolling update role kops has not", inputs: { ...base, rollingUpdate: { instanceGroupRoles: ["worker"] } }, property: "rollingUpdate", reason: /"worker" is not one of control-plane/ },
    { name: "static keys for a gs:// store", inputs: { ...base, store: "gs://acme", accessKeyId: "AKIA", secretAccessKey: "x" }, property: "accessKeyId", reason: /take static keys/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming ${c.property || "no property"}`, async function () {
      const checked = await provider.check({} as never, c.inputs as never);
      const failure = checked.failures?.find((f) => f.property === c.property);
      assert.ok(failure, JSON.stringify(checked.failures));
      assert.match(failure.reason, c.reason);
      assert.equal(checked.inputs, undefined);
    });
  }

  /** ClusterUpdate's check against a file:// store holding `files` (path under the store: contents). */
  async function checkOn(files: Record<string, string | Buffer>, inputs: Record<string, unknown>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-update-check-"));
    try {
      for (const [file, data] of Object.entries(files)) await openPath(`file://${dir}`).join(...file.split("/")).write(data);
      return await provider.check({} as never, { store: `file://${dir}`, name: base.name, ...inputs } as never);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const cluster = { [`${base.name}/config`]: "kind: Cluster\n", [`${base.name}/instancegroup/nodes`]: "kind: InstanceGroup\n" };

  it("refuses a rolling update of a group the cluster does not have, naming only that group, before kops runs", async function () {
    const checked = await checkOn(cluster, { kops: "/nonexistent/kops", rollingUpdate: { instanceGroups: ["nodes", "nodez"] } });
    assert.deepEqual(checked.failures, [{ property: "rollingUpdate", reason: `instanceGroups: "nodez" is not an instance group of ${base.name}` }]);
  });

  it("refuses a store whose encryption policy seals files kops reads, before kops runs: the preview and the update alike", async function () {
    const checked = await checkOn({ ...cluster, [POLICY_FILE]: policyText(policyOf({ passphrase: "unused" })) }, { kops: toolPath("kops") });
    assert.equal(checked.failures?.length, 1, JSON.stringify(checked));
    assert.equal(checked.failures![0]!.property, "store");
    assert.match(checked.failures![0]!.reason, /seals secrets\/\*\*, pki\/private\/\*\* of each cluster .*kops update cannot run on this store\. Nothing ran/);
  });

  it("refuses a cluster whose files kops reads are sealed, with no policy recorded (cleared after sealing), naming them", async function () {
    const checked = await checkOn({
      ...cluster,
      [`${base.name}/secrets/admin`]: '{"Data":"plain"}',
      [`${base.name}/pki/private/kubernetes-ca/keyset.yaml`]: Buffer.concat([MAGIC, Buffer.from("sealed bytes")]),
    }, { kops: toolPath("kops") });
    assert.equal(checked.failures?.length, 1, JSON.stringify(checked));
    assert.equal(checked.failures![0]!.property, "store");
    assert.match(checked.failures![0]!.reason, /: pki\/private\/kubernetes-ca\/keyset\.yaml is sealed by kstate's client-side encryption, and kops reads it: kops update cannot run/);
  });

  it("a preview of a cluster a ClusterConfig has not written yet is left to up, not refused as missing", async function () {
    const checked = await checkOn({}, { kops: toolPath("kops") });
    assert.equal(checked.failures, undefined, JSON.stringify(checked));
    assert.match(String((checked.inputs as { plan?: string[] }).plan), /is not in file:\/\/.* yet; kops's plan is worked out at up/);
  });

  it("never prints a secret environment value or key in a failure", async function () {
    const checked = await provider.check({} as never, { ...base, name: "Bad_Name", environment: { AWS_SECRET_ACCESS_KEY: "s3cr3t-value" }, accessKeyId: "AKIA", secretAccessKey: "also-s3cr3t" } as never);
    assert.ok(!JSON.stringify(checked).includes("s3cr3t"), JSON.stringify(checked));
  });
});
