/**
 * Interoperability with the real kops binary (v1.36.2, built from the Go module proxy): kops
 * reads what kstate writes, kstate adopts what kops writes, and kstate expands options as kops
 * expands its flags.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClusterConfig } from "../../src";
import { applyCluster, diffDocuments } from "../../src/ops/cluster";
import type { ClusterOptions } from "../../src/ops/options";
import { ClusterStore } from "../../src/store/cluster-store";
import { parseYaml, parseYamlStream } from "../../src/store/yaml";
import { openPath, resetMemoryStore } from "../../src/vfs";
import { makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { CHANNEL, kops, kopsEnv, startEc2Catalogue } from "../support/kops";
import { inlineStack } from "../support/pulumi";

type Doc = Record<string, any>;

const stores: { name: string; make: () => Promise<string> }[] = [
  { name: "file://", make: async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-"))}` },
  { name: "s3 (MinIO, kops's S3_ENDPOINT variables)", make: async () => `s3://${await makeS3Bucket()}` },
];

function byName(docs: Doc[]): Record<string, Doc> {
  return Object.fromEntries(docs.map((d) => [d.metadata.name, d]));
}

async function kopsGet(name: string, state: string): Promise<{ cluster: Doc; groups: Record<string, Doc> }> {
  const cluster = parseYaml((await kops(["get", "cluster", name, "--state", state, "-o", "yaml"])).stdout, "kops get cluster").toJS() as Doc;
  const groups = parseYamlStream((await kops(["get", "instancegroups", "--name", name, "--state", state, "-o", "yaml"])).stdout, "kops get ig").map((d) => d.toJS() as Doc);
  return { cluster, groups: byName(groups) };
}

describe("interop with the real kops binary", function () {
  this.timeout(240_000);

  for (const s of stores) {
    it(`${s.name}: kops get cluster and kops get ig read back exactly what kstate wrote`, async function () {
      const url = await s.make();
      const store = new ClusterStore(openPath(url, openOptions()));
      const name = "interop.k8s.example.com";
      await applyCluster(store, {
        name, storeUrl: url,
        options: { zones: ["us-east-1a", "us-east-1b", "us-east-1c"], controlPlaneZones: ["us-east-1a", "us-east-1b", "us-east-1c"], nodeCount: 4, nodeSize: "m5.large", controlPlaneSize: "m5.xlarge", kubernetesVersion: "v1.30.2", cloud: "aws" },
        spec: { kubelet: { maxPods: 110 } },
      });
      const fromKops = await kopsGet(name, url);
      const ours = (await store.readConfig(name))!.doc.toJS() as Doc;
      assert.deepEqual(fromKops.cluster, ours);
      const groups = await store.readInstanceGroups(name);
      assert.deepEqual(Object.keys(fromKops.groups).sort(), [...groups.keys()].sort());
      for (const [g, d] of groups) assert.deepEqual(fromKops.groups[g], d.doc.toJS(), g);
    });

    it(`${s.name}: a cluster kops created is adopted by a ClusterConfig, changed, and kops still reads every field it wrote`, async function () {
      const url = await s.make();
      const name = "adopted.k8s.example.com";
      // kops writes the cluster itself: `create cluster --dry-run -o yaml` expands the flags offline,
      // and `create -f` stores the result (plain `create cluster` would go on to need the cloud).
      const hetzner = kopsEnv({ HCLOUD_TOKEN: "unused-offline" });
      const expanded = await kops(["create", "cluster", "--name", name, "--state", url, "--cloud", "hetzner", "--zones", "fsn1", "--node-count", "2",
        "--kubernetes-version", "v1.30.2", "--channel", CHANNEL, "--image", "ubuntu-24.04", "--node-size", "cx22", "--control-plane-size", "cx32",
        "--dry-run", "-o", "yaml"], hetzner);
      const manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-f-")), "cluster.yaml");
      fs.writeFileSync(manifest, expanded.stdout);
      await kops(["create", "-f", manifest, "--state", url], hetzner);
      const before = await kopsGet(name, url);

      const stack = await inlineStack("kstate-adopt", uniqueName("adopt"), async () => {
        const c = new ClusterConfig("adopted", { store: url, name, options: { nodeSize: "cx42" }, spec: { kubernetesVersion: "v1.30.5" } });
        return { ownedValues: c.ownedValues };
      });
      const preview = await stack.preview({ diff: true });
      assert.match(preview.stdout + preview.stderr, /adopted\.k8s\.example\.com in \S+: merging into the existing cluster/);
      await stack.up();

      const after = await kopsGet(name, url);
      assert.deepEqual(diffDocuments(before.cluster, after.cluster), [
        { path: "metadata.generation", after: 1 },
        { path: "spec.kubernetesVersion", before: "v1.30.2", after: "v1.30.5" },
      ]);
      assert.deepEqual(diffDocuments(before.groups["nodes-fsn1"], after.groups["nodes-fsn1"]), [
        { path: "metadata.generation", after: 1 },
        { path: "spec.machineType", before: "cx22", after: "cx42" },
      ]);
      assert.deepEqual(after.groups["control-plane-fsn1"], before.groups["control-plane-fsn1"], "the control plane was not touched");
      // The program owned nothing there before, so destroy may remove only what kops allows: keep the cluster for kops.
      await stack.workspace.removeStack(stack.name, { force: true });
    });
  }

  describe("options expand as `kops create cluster --dry-run -o yaml` expands its flags", function () {
    let catalogue: { endpoint: string; close(): Promise<void> };
    before(async function () {
      catalogue = await startEc2Catalogue();
    });
    after(async function () {
      await catalogue.close();
    });

    const cases: { name: string; cloud: "aws" | "hetzner"; options: ClusterOptions; flags: string[] }[] = [
      { name: "aws, one zone", cloud: "aws", options: { zones: ["us-east-1a"] }, flags: ["--zones", "us-east-1a"] },
      {
        name: "aws, three zones, three control planes, four nodes",
        cloud: "aws",
        options: { zones: ["us-east-1a", "us-east-1b", "us-east-1c"], controlPlaneZones: ["us-east-1a", "us-east-1b", "us-east-1c"], nodeCount: 4 },
        flags: ["--zones", "us-east-1a,us-east-1b,us-east-1c", "--control-plane-zones", "us-east-1a,us-east-1b,us-east-1c", "--node-count", "4"],
      },
      {
        name: "aws, two zones, three control planes",
        cloud: "aws",
        options: { zones: ["us-east-1a", "us-east-1b"], controlPlaneCount: 3, nodeCount: 5 },
        flags: ["--zones", "us-east-1a,us-east-1b", "--control-plane-count", "3", "--node-count", "5"],
      },
      {
        name: "aws, private topology",
        cloud: "aws",
        options: { zones: ["us-east-1a", "us-east-1b"], topology: "private" },
        flags: ["--zones", "us-east-1a,us-east-1b", "--topology", "private"],
      },
      { name: "hetzner, one location", cloud: "hetzner", options: { zones: ["fsn1"], nodeCount: 3 }, flags: ["--zones", "fsn1", "--node-count", "3"] },
    ];

    function shape(cluster: Doc, groups: Record<string, Doc>): unknown {
      return {
        subnets: (cluster.spec.subnets as Doc[]).map((s) => ({ name: s.name, type: s.type, zone: s.zone, cidr: s.cidr })),
        etcd: (cluster.spec.etcdClusters as Doc[]).map((e) => ({ name: e.name, members: (e.etcdMembers as Doc[]).map((m) => ({ name: m.name, instanceGroup: m.instanceGroup })) })),
        groups: Object.fromEntries(Object.entries(groups).sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, g]) => [n, {
          role: g.spec.role, minSize: g.spec.minSize, maxSize: g.spec.maxSize, machineType: g.spec.machineType, image: g.spec.image, subnets: g.spec.subnets,
        }])),
        cloud: cluster.spec.cloudProvider,
        networkCIDR: cluster.spec.networkCIDR,
      };
    }

    for (const c of cases) {
      it(c.name, async function () {
        const state = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-dry-"));
        const sizes = c.cloud === "aws" ? ["m5.large", "m5.xlarge"] : ["cx22", "cx32"];
        const options: ClusterOptions = { ...c.options, cloud: c.cloud, kubernetesVersion: "v1.30.2", image: "ubuntu/test-image", nodeSize: sizes[0]!, controlPlaneSize: sizes[1]! };
        const env = c.cloud === "aws"
          ? kopsEnv({ AWS_ENDPOINT_URL_EC2: catalogue.endpoint, AWS_ACCESS_KEY_ID: "offline", AWS_SECRET_ACCESS_KEY: "offline", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" })
          : kopsEnv({ HCLOUD_TOKEN: "unused-offline" });
        const out = await kops(["create", "cluster", "--name", "dry.k8s.example.com", "--state", `file://${state}`, "--cloud", c.cloud,
          "--kubernetes-version", "v1.30.2", "--channel", CHANNEL, "--image", "ubuntu/test-image", "--node-size", sizes[0]!, "--control-plane-size", sizes[1]!,
          ...c.flags, "--dry-run", "-o", "yaml"], env);
        const docs = parseYamlStream(out.stdout, "kops --dry-run").map((d) => d.toJS() as Doc);
        const kopsCluster = docs.find((d) => d.kind === "Cluster")!;
        const kopsGroups = byName(docs.filter((d) => d.kind === "InstanceGroup"));

        const memName = uniqueName("dry");
        resetMemoryStore(memName);
        const store = new ClusterStore(openPath(`memfs://${memName}`));
        await applyCluster(store, { name: "dry.k8s.example.com", storeUrl: `memfs://${memName}`, options });
        const ours = (await store.readConfig("dry.k8s.example.com"))!.doc.toJS() as Doc;
        const ourGroups: Record<string, Doc> = {};
        for (const [n, d] of await store.readInstanceGroups("dry.k8s.example.com")) ourGroups[n] = d.doc.toJS() as Doc;
        assert.deepEqual(shape(ours, ourGroups), shape(kopsCluster, kopsGroups));
        fs.rmSync(state, { recursive: true, force: true });
      });
    }
  });
});
