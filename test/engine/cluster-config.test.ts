/**
 * ClusterConfig through the real Pulumi engine, step by step, on file://, MinIO and
 * fake-gcs-server. The stored documents are read back straight from the store.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig, type ClusterConfigArgs } from "../../src";
import { diffDocuments } from "../../src/ops/cluster";
import { parseYaml } from "../../src/store/yaml";
import { openPath, type VfsPath } from "../../src/vfs";
import { makeGcsBucket, makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { inlineStack } from "../support/pulumi";
import { snapshot } from "../support/snapshot";

const CLUSTER = "dev.k8s.example.com";
const TYPE = "pulumi-nodejs:dynamic/kstate:ClusterConfig";

const backends: { name: string; store: () => Promise<string> }[] = [
  { name: "file://", store: async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-cc-"))}` },
  { name: "s3 (MinIO)", store: async () => `s3://${await makeS3Bucket({ versioning: true })}` },
  { name: "gcs (fake-gcs-server)", store: async () => `gs://${await makeGcsBucket({ versioning: true })}` },
];

function plainOf(text: string): Record<string, unknown> {
  return parseYaml(text, "test").toJS() as Record<string, unknown>;
}

for (const backend of backends) {
  describe(`ClusterConfig through the Pulumi engine: ${backend.name}`, function () {
    this.timeout(180_000);
    let storeUrl: string;
    let root: VfsPath;
    let stack: Stack;
    const args: Omit<ClusterConfigArgs, "store"> = {
      name: CLUSTER,
      options: { zones: ["us-east-1a", "us-east-1b"], nodeSize: "m5.large", controlPlaneSize: "m5.xlarge", kubernetesVersion: "v1.30.2", cloud: "aws" },
      spec: { kubelet: { cpuCFSQuota: false } },
    };
    const read = async (file: string) => (await root.join(CLUSTER, file).read()).data.toString();

    before(async function () {
      storeUrl = await backend.store();
      root = openPath(storeUrl, openOptions());
      stack = await inlineStack("kstate-cluster-test", uniqueName("cc"), async () => {
        const c = new ClusterConfig("dev", { store: storeUrl, ...args });
        return { configBase: c.configBase, ownedValues: c.ownedValues };
      });
    });

    it("step 1: up with options writes kops-shaped config and instance groups", async function () {
      const up = await stack.up();
      assert.equal(up.summary.resourceChanges?.create, 2);
      assert.deepEqual((await root.join(CLUSTER).listTree()).map((f) => f.path).sort(), [
        "config", "instancegroup/control-plane-us-east-1a", "instancegroup/nodes-us-east-1a", "instancegroup/nodes-us-east-1b",
      ]);
      const config = plainOf(await read("config")) as { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, any> };
      assert.equal(config.apiVersion, "kops.k8s.io/v1alpha2");
      assert.equal(config.kind, "Cluster");
      assert.match(String(config.metadata.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(config.spec.configBase, up.outputs.configBase?.value);
      assert.deepEqual(config.spec.subnets.map((s: { name: string }) => s.name), ["us-east-1a", "us-east-1b"]);
      assert.deepEqual(config.spec.etcdClusters.map((e: { name: string }) => e.name), ["main", "events"]);
      assert.equal(config.spec.kubelet.cpuCFSQuota, false);
      const node = plainOf(await read("instancegroup/nodes-us-east-1a")) as { spec: Record<string, unknown>; metadata: Record<string, any> };
      assert.deepEqual({ role: node.spec.role, machineType: node.spec.machineType, min: node.spec.minSize }, { role: "Node", machineType: "m5.large", min: 1 });
      assert.equal(node.metadata.labels["kops.k8s.io/cluster"], CLUSTER);
    });

    it("step 2: a second up changes nothing", async function () {
      const before = await snapshot(root);
      const up = await stack.up();
      assert.deepEqual(Object.keys(up.summary.resourceChanges ?? {}), ["same"]);
      assert.deepEqual(await snapshot(root), before);
    });

    it("step 3: preview of a new nodeSize shows the field change and writes nothing", async function () {
      args.options = { ...args.options as object, nodeSize: "m5.2xlarge" };
      const before = await snapshot(root);
      const preview = await stack.preview({ diff: true });
      // The engine prints the provider's plan lines (on stderr with --diff, under Diagnostics without).
      assert.match(preview.stdout + preview.stderr, /instancegroup\/nodes-us-east-1a: ~ spec\.machineType: "m5\.large" -> "m5\.2xlarge"/);
      // The input that changed, as the engine shows it; the owned values are recorded in the outputs only, after up.
      assert.match(preview.stdout, /~ nodeSize *: "m5\.large" => "m5\.2xlarge"/);
      assert.deepEqual(await snapshot(root), before);
    });

    it("step 4: up of the new nodeSize changes only the node groups' machineType (and their generation)", async function () {
      const before = { config: await read("config"), cp: await read("instancegroup/control-plane-us-east-1a"), a: await read("instancegroup/nodes-us-east-1a"), b: await read("instancegroup/nodes-us-east-1b") };
      const up = await stack.up();
      assert.equal(up.summary.resourceChanges?.update, 1);
      assert.equal(await read("config"), before.config);
      assert.equal(await read("instancegroup/control-plane-us-east-1a"), before.cp);
      for (const [file, old] of [["instancegroup/nodes-us-east-1a", before.a], ["instancegroup/nodes-us-east-1b", before.b]] as const) {
        const changes = diffDocuments(plainOf(old), plainOf(await read(file)));
        assert.deepEqual(changes, [
          { path: "metadata.generation", after: 1 },
          { path: "spec.machineType", before: "m5.large", after: "m5.2xlarge" },
        ], file);
      }
    });

    it("step 5: a field added by hand, with a comment, survives the next ups", async function () {
      const config = await read("config");
      const edited = config.replace("  kubelet:\n", "  kubelet:\n    # raised for the batch jobs\n    maxPods: 150\n");
      assert.notEqual(edited, config);
      await root.join(CLUSTER, "config").write(edited);
      assert.deepEqual(Object.keys((await stack.up()).summary.resourceChanges ?? {}), ["same"]);
      args.options = { ...args.options as object, kubernetesVersion: "v1.30.5" };
      await stack.up();
      const after = await read("config");
      assert.match(after, /# raised for the batch jobs\n {4}maxPods: 150\n/);
      assert.match(after, /kubernetesVersion: v1\.30\.5/);
    });

    it("step 6: a field the program stops setting is removed", async function () {
      delete args.spec;
      await stack.up();
      const spec = (plainOf(await read("config")) as { spec: { kubelet: Record<string, unknown> } }).spec;
      assert.equal(spec.kubelet.cpuCFSQuota, undefined);
      assert.equal(spec.kubelet.maxPods, 150, "the hand-added field is still there");
    });

    it("step 7: refresh after a hand edit of an owned field shows drift, and up restores it", async function () {
      const config = await read("config");
      await root.join(CLUSTER, "config").write(config.replace("kubernetesVersion: v1.30.5", "kubernetesVersion: v1.29.0"));
      const refresh = await stack.refresh();
      assert.equal(refresh.summary.resourceChanges?.update, 1, JSON.stringify(refresh.summary.resourceChanges));
      const state = await stack.exportStack();
      const resource = (state.deployment.resources as { type: string; outputs: { ownedValues: Record<string, unknown> } }[]).find((r) => r.type === TYPE);
      assert.equal(resource?.outputs.ownedValues["config: spec.kubernetesVersion"], "v1.29.0");
      await stack.up();
      assert.match(await read("config"), /kubernetesVersion: v1\.30\.5/);
    });

    it("step 8: an invalid spec fails preview with the field path, and the store stays byte-identical", async function () {
      const before = await snapshot(root);
      args.spec = { kubernetesVersion: "latest" };
      await assert.rejects(stack.preview(), (e: unknown) => /spec\.kubernetesVersion: "latest" is not a Kubernetes version/.test(String(e)));
      args.spec = { etcdClusters: [{ name: "main", etcdMembers: [{ name: "b", instanceGroup: "control-plane-us-east-1a" }] }] };
      await assert.rejects(stack.up(), (e: unknown) => /etcdClusters\[name=main\]\.etcdMembers: an odd number of members/.test(String(e)));
      assert.deepEqual(await snapshot(root), before);
      delete args.spec;
    });

    it("step 9: destroy refuses while kops state remains; with deleteClusterState it removes that too", async function () {
      await root.join(CLUSTER, "pki", "private", "kubernetes-ca", "keyset.yaml").write("kind: Keyset\n");
      await root.join(CLUSTER, "secrets", "system:dns").write('{"Data":"c2VjcmV0"}');
      await root.join("other.example.com", "config").write("kept");
      await assert.rejects(stack.destroy(), (e: unknown) => /deleteClusterState/.test(String(e)) && /pki\/private\/kubernetes-ca\/keyset\.yaml/.test(String(e)));
      assert.ok((await read("config")).length > 0);
      assert.equal((await root.join(CLUSTER).listTree()).length, 6, "nothing was removed");
      args.deleteClusterState = true;
      assert.equal((await stack.up()).summary.resourceChanges?.update, 1);
      await stack.destroy();
      assert.deepEqual(await root.join(CLUSTER).listTree(), []);
      assert.equal((await root.join("other.example.com", "config").read()).data.toString(), "kept");
    });

    it("step 10: destroy refuses to leave a group it did not create without its cluster; without it, removes what it wrote", async function () {
      delete args.deleteClusterState;
      await stack.up();
      const handMade = root.join(CLUSTER, "instancegroup", "hand-made");
      await handMade.write("apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  name: hand-made\nspec:\n  role: Node\n  subnets:\n  - us-east-1a\n");
      const before = await snapshot(root);
      await assert.rejects(stack.destroy(), (e: unknown) => /instance groups this resource did not create would be left without their cluster \(instancegroup\/hand-made\)/.test(String(e)));
      assert.deepEqual(await snapshot(root), before);
      await handMade.remove();
      await stack.destroy();
      assert.deepEqual(await root.join(CLUSTER).listTree(), []);
    });
  });
}
