/**
 * Ordinary program changes never lose cluster state, and the preview says what `up` does: each
 * case a user met with the real Pulumi CLI, reproduced step by step.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PreviewResult, Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig, type ClusterConfigArgs, StateStore, type StateStoreArgs, StateStoreMigration } from "../../src";
import { applyCluster } from "../../src/ops/cluster";
import { ClusterStore } from "../../src/store/cluster-store";
import { decodeSecret } from "../../src/store/secrets";
import { parseYaml } from "../../src/store/yaml";
import { openPath, type VfsPath } from "../../src/vfs";
import { openOptions, s3Options, uniqueName } from "../support/env";
import { kops } from "../support/kops";
import { inlineStack } from "../support/pulumi";
import { snapshot } from "../support/snapshot";
import { describeStoredChanges, previewedChanges, readFolder, sorted } from "../support/store-changes";

const CLUSTER = "life.k8s.example.com";
const OPTIONS = { cloud: "aws", zones: ["us-east-1a"], nodeSize: "m5.large", kubernetesVersion: "v1.30.2" };

function tempStore(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "kstate-life-"));
}

function plain(bytes: Buffer): Record<string, any> {
  return parseYaml(bytes.toString(), "test").toJS() as Record<string, any>;
}

/** A stack of one ClusterConfig whose arguments the test changes between steps. */
async function clusterStack(project: string, args: () => ClusterConfigArgs): Promise<Stack> {
  return inlineStack(project, uniqueName("s"), async () => {
    const c = new ClusterConfig("dev", args());
    return { ownedValues: c.ownedValues, secretHashes: c.secretHashes };
  });
}

function changed(summary: Record<string, number> | undefined): string[] {
  return Object.keys(summary ?? {}).filter((k) => k !== "same").sort();
}

describe("Pulumi lifecycle: ordinary program changes lose nothing", function () {
  this.timeout(300_000);

  it("a store spelled with a trailing slash, or as a plain path, is the same store: no replace, nothing deleted", async function () {
    const dir = tempStore();
    let store = `file://${dir}`;
    const stack = await clusterStack("kstate-spelling", () => ({ store, name: CLUSTER, options: OPTIONS }));
    await stack.up();
    const root = openPath(`file://${dir}`);
    const before = await snapshot(root);
    for (const spelling of [`file://${dir}/`, dir, `${dir}/`]) {
      store = spelling;
      const preview = await stack.preview();
      assert.deepEqual(changed(preview.changeSummary), [], `${spelling}: ${JSON.stringify(preview.changeSummary)}`);
      const up = await stack.up();
      assert.deepEqual(changed(up.summary.resourceChanges), [], spelling);
      assert.deepEqual(await snapshot(root), before, spelling);
    }
    store = `file://${tempStore()}`;
    // Not assert.rejects: a preview that is not refused shows here what it planned instead.
    const outcome = await stack.preview().then((r) => r, (e: unknown) => e);
    assert.ok(outcome instanceof Error, `the preview was not refused: ${JSON.stringify((outcome as PreviewResult).changeSummary)}\n${(outcome as PreviewResult).stdout}`);
    assert.match(String(outcome), /changing store to .* would not move it\. Move it with a StateStoreMigration/);
    assert.deepEqual(await snapshot(root), before);
  });

  it("adding the bucket's own region to a StateStore (forceDestroy, adoptExisting) is an update: the bucket and its clusters stay", async function () {
    const bucket = uniqueName("region");
    const args: StateStoreArgs = { url: `s3://${bucket}`, forceDestroy: true, adoptExisting: true };
    const stack = await inlineStack("kstate-region", uniqueName("s"), async () => {
      const s = new StateStore("state", args);
      new ClusterConfig("dev", { store: s.url, name: CLUSTER, options: OPTIONS });
    });
    await stack.up();
    const root = openPath(`s3://${bucket}`, openOptions());
    const before = await snapshot(root);
    args.region = "us-east-1";
    const up = await stack.up();
    assert.equal(up.summary.resourceChanges?.replace, undefined, JSON.stringify(up.summary.resourceChanges));
    assert.equal(up.summary.resourceChanges?.delete, undefined);
    assert.deepEqual(await snapshot(root), before);
    args.region = "eu-west-3";
    await assert.rejects(stack.preview(), (e: unknown) => /is in us-east-1, and a bucket cannot move to eu-west-3/.test(String(e)));
    args.url = `s3://${uniqueName("other")}`;
    delete args.region;
    await assert.rejects(stack.preview(), (e: unknown) => /holds cluster state; changing url .* would replace the store and delete/.test(String(e)));
    assert.deepEqual(await snapshot(root), before);
  });

  it("a ClusterConfig renamed with aliases keeps its fields under the owner it wrote them as: its next change is its own, and nothing is left to a ghost", async function () {
    const dir = tempStore();
    let name = "before";
    let maxPods = 110;
    const stack = await inlineStack("kstate-alias", uniqueName("s"), async () => {
      const c = new ClusterConfig(name, { store: `file://${dir}`, name: CLUSTER, options: OPTIONS, spec: { kubelet: { maxPods } } }, name === "before" ? {} : { aliases: [{ name: "before" }] });
      return { manager: c.manager };
    });
    const first = await stack.up();
    const owner = first.outputs.manager?.value as string;
    assert.match(owner, /\/before$/);
    const managers = async () => new Set((await openPath(`file://${dir}`).join(CLUSTER).listTree()).length
      ? (plain(fs.readFileSync(path.join(dir, CLUSTER, "config"))).metadata.managedFields as { manager: string }[]).map((m) => m.manager) : []);
    const before = await managers();
    name = "after";
    const renamed = await stack.up();
    assert.deepEqual(changed(renamed.summary.resourceChanges), [], JSON.stringify(renamed.summary.resourceChanges));
    assert.equal(renamed.outputs.manager?.value, owner);
    assert.deepEqual(await managers(), before);
    maxPods = 150;
    const preview = await stack.preview();
    assert.deepEqual(changed(preview.changeSummary), ["update"]);
    await stack.up();
    assert.equal(plain(fs.readFileSync(path.join(dir, CLUSTER, "config"))).spec.kubelet.maxPods, 150);
    assert.deepEqual(await managers(), before);
  });

  it("a ClusterConfig renamed without aliases succeeds the old one as the cluster's creator: destroy then removes the cluster, where it once refused to leave it invalid", async function () {
    const dir = tempStore();
    let name = "first";
    const stack = await inlineStack("kstate-rename-plain", uniqueName("s"), async () => {
      new ClusterConfig(name, { store: `file://${dir}`, name: CLUSTER, options: OPTIONS });
    });
    await stack.up();
    name = "second";
    const renamed = await stack.up();
    assert.deepEqual(changed(renamed.summary.resourceChanges), ["create", "delete"]);
    assert.ok(fs.existsSync(path.join(dir, CLUSTER, "config")), "the cluster stays through the rename");
    await stack.destroy();
    assert.deepEqual(await openPath(`file://${dir}`).join(CLUSTER).listTree(), []);
  });

  it("a stack that set only some fields of a cluster another stack created never becomes its creator: destroying both leaves the other's part to the creator's destroy", async function () {
    const dir = tempStore();
    const creator = await clusterStack("kstate-creator", () => ({ store: `file://${dir}`, name: CLUSTER, options: OPTIONS }));
    await creator.up();
    const tweak = await clusterStack("kstate-tweak", () => ({ store: `file://${dir}`, name: CLUSTER, spec: { kubelet: { maxPods: 90 } } }));
    await tweak.up();
    await assert.rejects(creator.destroy(), /refusing to delete ClusterConfig of life\.k8s\.example\.com|cannot be destroyed|would leave/);
    await tweak.destroy();
    assert.equal(plain(fs.readFileSync(path.join(dir, CLUSTER, "config"))).spec.kubelet?.maxPods, undefined, "the tweak let go of its field");
    await creator.destroy();
    assert.deepEqual(await openPath(`file://${dir}`).join(CLUSTER).listTree(), []);
  });

  it("removing a ClusterConfig while kops keeps pki/ is refused before anything is removed; its secret stays, and putting it back changes nothing", async function () {
    const dir = tempStore();
    let present = true;
    const stack = await inlineStack("kstate-refuse", uniqueName("s"), async () => {
      if (present) new ClusterConfig("dev", { store: `file://${dir}`, name: CLUSTER, options: OPTIONS, secrets: { "system:dns": "dns-secret-value" } });
    });
    await stack.up();
    const root = openPath(`file://${dir}`);
    await root.join(CLUSTER, "pki", "private", "kubernetes-ca", "keyset.yaml").write("kind: Keyset\n");
    const before = await snapshot(root);
    present = false;
    await assert.rejects(stack.up(), (e: unknown) => /kops still keeps state for it .*pki\/private\/kubernetes-ca\/keyset\.yaml/s.test(String(e)) && /Nothing was changed/.test(String(e)));
    assert.deepEqual(await snapshot(root), before, "the store is byte-identical, the secret included");
    present = true;
    const again = await stack.preview();
    assert.deepEqual(changed(again.changeSummary), []);
  });

  it("destroying a stack that adopted a kops cluster leaves it for kops: its own fields and groups go, the rest stays", async function () {
    const dir = tempStore();
    const root = openPath(`file://${dir}`);
    // A cluster made without this stack, as `kstate create cluster` (or kops) makes it, then adopted.
    await applyCluster(new ClusterStore(root), { name: CLUSTER, storeUrl: `file://${dir}`, options: { ...OPTIONS, zones: ["us-east-1a", "us-east-1b"] } });
    const folder = root.join(CLUSTER);
    const kopsMade = await readFolder(folder);
    const adopter = await clusterStack("kstate-adopter", () => ({
      store: `file://${dir}`, name: CLUSTER,
      spec: { kubelet: { maxPods: 110 } },
      instanceGroups: { "nodes-us-east-1a": { maxSize: 5 }, gpu: { role: "Node", subnets: ["us-east-1a"], machineType: "p3.2xlarge", minSize: 0, maxSize: 2 } },
    }));
    await adopter.up();
    assert.equal(plain((await folder.join("instancegroup/nodes-us-east-1a").read()).data).spec.maxSize, 5);
    await adopter.destroy();
    const after = await readFolder(folder);
    assert.deepEqual([...after.keys()].sort(), [...kopsMade.keys()].sort(), "the group it created is gone, nothing else");
    const config = plain(after.get("config")!);
    assert.equal(config.spec.kubelet.maxPods, undefined);
    assert.equal(config.metadata.managedFields, undefined);
    assert.equal(plain(after.get("instancegroup/nodes-us-east-1a")!).spec.maxSize, undefined, "a field it took over goes with it");
    assert.equal(plain(after.get("instancegroup/nodes-us-east-1b")!).spec.machineType, "m5.large");
    // And the real kops still reads the cluster and its groups.
    const read = parseYaml((await kops(["get", "cluster", CLUSTER, "--state", `file://${dir}`, "-o", "yaml"])).stdout, "kops get cluster").toJS() as Record<string, any>;
    assert.equal(read.spec.kubernetesVersion, "v1.30.2");
    assert.match((await kops(["get", "ig", "--name", CLUSTER, "--state", `file://${dir}`])).stdout, /nodes-us-east-1b/);
  });

  it("of two stacks sharing a cluster, the one that created it cannot be destroyed from under the other; once the other is gone it can", async function () {
    const dir = tempStore();
    const root = openPath(`file://${dir}`);
    const creator = await clusterStack("kstate-creator", () => ({ store: `file://${dir}`, name: CLUSTER, options: OPTIONS }));
    await creator.up();
    const sharer = await clusterStack("kstate-sharer", () => ({ store: `file://${dir}`, name: CLUSTER, spec: { kubelet: { maxPods: 120 } } }));
    await sharer.up();
    const before = await snapshot(root);
    await assert.rejects(creator.destroy(), (e: unknown) => /letting go of its fields would leave the cluster invalid/.test(String(e)) && /nothing was changed/.test(String(e)));
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(changed((await sharer.preview()).changeSummary), [], "the other stack still finds its cluster");
    await sharer.destroy();
    await creator.destroy();
    assert.deepEqual(await root.join(CLUSTER).listTree(), []);
  });

  it("two stacks setting the same field: the second is refused at preview naming the first, unless it takes the field over; nothing flips", async function () {
    const dir = tempStore();
    const root = openPath(`file://${dir}`);
    const a = await clusterStack("kstate-owner-a", () => ({ store: `file://${dir}`, name: CLUSTER, options: OPTIONS, spec: { kubelet: { maxPods: 110 } } }));
    await a.up();
    let onConflict: "fail" | "overwrite" = "fail";
    const b = await clusterStack("kstate-owner-b", () => ({ store: `file://${dir}`, name: CLUSTER, spec: { kubelet: { maxPods: 150 } }, onConflict }));
    const before = await snapshot(root);
    await assert.rejects(b.preview(), (e: unknown) => /config: spec\.kubelet\.maxPods: owned by pulumi:kstate-owner-a\/[^ ]+\/dev \(110\); this change sets 150/.test(String(e)));
    await assert.rejects(b.up());
    assert.deepEqual(await snapshot(root), before);
    onConflict = "overwrite";
    await b.up();
    const maxPods = async () => plain((await root.join(CLUSTER, "config").read()).data).spec.kubelet.maxPods;
    assert.equal(await maxPods(), 150);
    // The first stack now finds the field owned by the second: refused, not flipped back.
    await assert.rejects(a.up(), (e: unknown) => /owned by pulumi:kstate-owner-b\/[^ ]+\/dev \(150\); this change sets 110/.test(String(e)));
    assert.equal(await maxPods(), 150);
    // The same value set by both is shared, never a conflict.
    onConflict = "fail";
    const c = await clusterStack("kstate-owner-c", () => ({ store: `file://${dir}`, name: CLUSTER, spec: { kubelet: { maxPods: 150 } } }));
    await c.up();
  });

  it("secrets have owners too: a stack's destroy or rename never deletes a secret another resource keeps, two values conflict, and one that was there stays", async function () {
    const dir = tempStore();
    const folder = openPath(`file://${dir}`).join(CLUSTER);
    const secret = async (n: string) => decodeSecret((await folder.join("secrets", n).read()).data.toString(), n).toString();
    let first = "dev";
    const a = await clusterStack("kstate-secret-a", () => ({ store: `file://${dir}`, name: CLUSTER, options: OPTIONS, secrets: { "system:dns": "one" } }));
    await a.up();
    // A secret kops (or the CLI) wrote before any program set it.
    await folder.join("secrets", "admin").write(JSON.stringify({ Data: Buffer.from("kopsval").toString("base64") }));
    let bValue = "two";
    let bKeeps = true;
    const b = await inlineStack("kstate-secret-b", uniqueName("s"), async () => {
      if (bKeeps) new ClusterConfig(first, { store: `file://${dir}`, name: CLUSTER, secrets: { "system:dns": bValue, admin: "kopsval" } });
    });
    await assert.rejects(b.preview(), (e: unknown) => /secrets\/system:dns: Data: kept by pulumi:kstate-secret-a\/[^ ]+\/dev with another value/.test(String(e)));
    bValue = "one";
    await b.up();
    // Renamed resource, same arguments: the new one keeps the secret, the old one's delete leaves it.
    first = "dev-renamed";
    await b.up();
    assert.equal(await secret("system:dns"), "one");
    // Stack b goes: a still keeps system:dns, and admin was there before either.
    bKeeps = false;
    await b.up();
    assert.equal(await secret("system:dns"), "one");
    assert.equal(await secret("admin"), "kopsval");
    assert.deepEqual(changed((await a.preview()).changeSummary), []);
  });

  it("a program that stops setting spec and instanceGroups previews every removal and generation bump that up then makes", async function () {
    const dir = tempStore();
    const folder = openPath(`file://${dir}`).join(CLUSTER);
    let args: ClusterConfigArgs = {
      store: `file://${dir}`, name: CLUSTER, options: OPTIONS,
      spec: { kubelet: { maxPods: 110, cpuCFSQuota: false } },
      instanceGroups: { "nodes-us-east-1a": { maxSize: 4, nodeLabels: { team: "a" } }, extra: { role: "Node", subnets: ["us-east-1a"], maxSize: 1, minSize: 1 } },
    };
    const stack = await clusterStack("kstate-stop", () => args);
    await stack.up();
    args = { store: `file://${dir}`, name: CLUSTER, options: OPTIONS };
    const before = await readFolder(folder);
    const preview = await stack.preview({ diff: true });
    const listed = previewedChanges(preview, CLUSTER);
    await stack.up();
    const written = describeStoredChanges(before, await readFolder(folder));
    assert.deepEqual(sorted(listed), sorted(written));
    for (const line of ["config: - spec.kubelet.maxPods: 110", "config: + metadata.generation: 1", "instancegroup/extra: delete", 'instancegroup/nodes-us-east-1a: - spec.nodeLabels.team: "a"']) {
      assert.ok(listed.includes(line), `${line} in ${JSON.stringify(listed, null, 1)}`);
    }
    // A size is also an options field: let go of, it keeps its value (a kops flag not given changes nothing).
    assert.ok(!listed.some((l) => l.includes("spec.maxSize")), JSON.stringify(listed, null, 1));
  });
});

describe("Pulumi lifecycle: the preview tells the truth", function () {
  this.timeout(300_000);

  it("a new cluster name replaces the resource: the preview lists what letting go of the old cluster removes, up removes exactly that, and what destroy would refuse fails the preview", async function () {
    const dir = tempStore();
    let name = "one.k8s.example.com";
    const stack = await clusterStack("kstate-rename", () => ({ store: `file://${dir}`, name, options: OPTIONS }));
    await stack.up();
    const old = openPath(`file://${dir}`).join(name);
    const before = await readFolder(old);
    const oldName = name;
    name = "two.k8s.example.com";
    const preview = await stack.preview({ diff: true });
    const listed = previewedChanges(preview, oldName);
    assert.ok(listed.includes("config: delete") && listed.includes("instancegroup/nodes-us-east-1a: delete"), JSON.stringify(listed));
    await stack.up();
    assert.deepEqual(sorted(listed), sorted(describeStoredChanges(before, await readFolder(old))));

    // kops keeps state for the cluster now: letting go of it is refused, at preview, and nothing moves.
    fs.mkdirSync(path.join(dir, name, "addons"), { recursive: true });
    fs.writeFileSync(path.join(dir, name, "addons", "bootstrap-channel.yaml"), "kind: Addons\n");
    const kept = await snapshot(openPath(`file://${dir}`));
    name = "three.k8s.example.com";
    await assert.rejects(stack.preview(), /refusing to delete cluster two\.k8s\.example\.com: kops still keeps state for it/);
    await assert.rejects(stack.up(), /refusing to delete cluster two\.k8s\.example\.com/);
    assert.deepEqual(await snapshot(openPath(`file://${dir}`)), kept);
  });

  it("refresh with nothing drifted reports no change; a hand edit shows at refresh and is undone by up", async function () {
    const dir = tempStore();
    const stack = await clusterStack("kstate-refresh", () => ({ store: `file://${dir}`, name: CLUSTER, options: OPTIONS, spec: { kubelet: { maxPods: 110 } }, secrets: { "system:dns": "v1" } }));
    await stack.up();
    const refresh = await stack.refresh();
    assert.deepEqual(changed(refresh.summary.resourceChanges), []);
    assert.deepEqual(changed((await stack.preview()).changeSummary), []);
    const state = await stack.exportStack();
    const outputs = (state.deployment.resources as { type: string; outputs: Record<string, any> }[]).find((r) => r.type.endsWith("ClusterConfig"))!.outputs;
    assert.deepEqual(Object.keys(outputs.secretHashes), ["system:dns"], "refresh keeps the secret hashes");
    const config = openPath(`file://${dir}`).join(CLUSTER, "config");
    await config.write((await config.read()).data.toString().replace("maxPods: 110", "maxPods: 99"));
    const drift = await stack.refresh();
    assert.deepEqual(changed(drift.summary.resourceChanges), ["update"]);
    const preview = await stack.preview();
    assert.deepEqual(previewedChanges(preview, CLUSTER).filter((l) => !l.includes("generation")), ["config: ~ spec.kubelet.maxPods: 99 -> 110"]);
    await stack.up();
    assert.match((await config.read()).data.toString(), /maxPods: 110/);
    await stack.destroy();
    assert.deepEqual(await openPath(`file://${dir}`).join(CLUSTER).listTree(), [], "destroy removes the program's own secret too");
  });

  it("one change shows as its own lines, not a diff of every list", async function () {
    const dir = tempStore();
    let nodeSize = "m5.large";
    const stack = await clusterStack("kstate-oneline", () => ({ store: `file://${dir}`, name: CLUSTER, options: { ...OPTIONS, zones: ["us-east-1a", "us-east-1b", "us-east-1c"], nodeSize } }));
    await stack.up();
    nodeSize = "m5.xlarge";
    const preview = await stack.preview({ diff: true });
    const lines = previewedChanges(preview, CLUSTER);
    assert.deepEqual(sorted(lines), sorted(["a", "b", "c"].flatMap((z) => [
      `instancegroup/nodes-us-east-1${z}: + metadata.generation: 1`,
      `instancegroup/nodes-us-east-1${z}: ~ spec.machineType: "m5.large" -> "m5.xlarge"`,
    ])));
    // The property diff marks the option and the three owned fields (and their outputs); no list is diffed index by index.
    const marked = preview.stdout.split("\n").filter((l) => /^\s*[~+-] /.test(l));
    assert.ok(marked.length <= 12 && !marked.some((l) => /^\s*[~+-] \[\d+\]/.test(l)), preview.stdout);
  });

  it("preview --save-plan then up --plan succeeds for create, update and delete", async function () {
    const dir = tempStore();
    let present = true;
    let nodeSize = "m5.large";
    const stack = await inlineStack("kstate-plan", uniqueName("s"), async () => {
      if (present) new ClusterConfig("dev", { store: `file://${dir}`, name: CLUSTER, options: { ...OPTIONS, nodeSize }, secrets: { a: "one" } });
    });
    const planFile = path.join(tempStore(), "plan.json");
    for (const step of ["create", "update", "delete"] as const) {
      if (step === "update") nodeSize = "m5.2xlarge";
      if (step === "delete") present = false;
      const storeBefore = await openPath(`file://${dir}`).join(CLUSTER).listTree();
      await stack.preview({ plan: planFile });
      let up = await stack.up({ plan: planFile }).catch(async (e: unknown) => {
        // Once in a CI run the engine saw no registration at all from the inline program (not even
        // the default provider's) and the plan's check failed; nothing had reached the provider.
        // Such a run is repeated, preview included, only when the store shows nothing was written.
        if (!/expected resource operations for .* but none were seen/.test(String(e))) throw e;
        assert.deepEqual(await openPath(`file://${dir}`).join(CLUSTER).listTree(), storeBefore, String(e));
        await stack.preview({ plan: planFile });
        return undefined;
      });
      up ??= await stack.up({ plan: planFile });
      assert.ok((up.summary.resourceChanges?.[step] ?? 0) >= 1, `${step}: ${JSON.stringify(up.summary.resourceChanges)}`);
    }
    assert.deepEqual(await openPath(`file://${dir}`).join(CLUSTER).listTree(), []);
  });

  for (const scheme of ["s3", "gs"] as const) {
    it(`the README's first example, a new bucket and a cluster in it in one program (with a secret), previews and deploys (${scheme === "s3" ? "MinIO" : "fake-gcs-server"})`, async function () {
      const bucket = uniqueName("readme");
      const stack = await inlineStack("kstate-readme", uniqueName("s"), async () => {
        const store = new StateStore("state", { url: `${scheme}://${bucket}`, forceDestroy: true });
        const dev = new ClusterConfig("dev", {
          store: store.url, name: "dev.k8s.acme.com",
          options: { zones: ["us-east-1a", "us-east-1b"], nodeSize: "m5.large", kubernetesVersion: "v1.30.2" },
          spec: { kubelet: { maxPods: 110 } },
          instanceGroups: { "nodes-us-east-1a": { maxSize: 5 } },
          // A plan made before the bucket exists keeps the secret where the new bucket will (it was once refused as kept elsewhere).
          secrets: { "system:dns": "a-token" },
        });
        return { writePolicy: store.writePolicy, configBase: dev.configBase };
      });
      const preview = await stack.preview();
      assert.equal(preview.changeSummary.create, 3, JSON.stringify(preview.changeSummary));
      await stack.up();
      const config = plain((await openPath(`${scheme}://${bucket}`, openOptions()).join("dev.k8s.acme.com", "config").read()).data);
      assert.equal(config.spec.cloudProvider, scheme === "s3" ? "aws" : "gce");
      assert.match((await openPath(`${scheme}://${bucket}`, openOptions()).join("dev.k8s.acme.com", "secrets", "system:dns").read()).data.toString(), /"Data"/);
      assert.deepEqual(changed((await stack.preview()).changeSummary), []);
      await stack.destroy();
    });
  }

  it("a StateStoreMigration whose destination was removed behind its back shows at refresh, and the next up copies again", async function () {
    const from = tempStore();
    const to = tempStore();
    await applyCluster(new ClusterStore(openPath(`file://${from}`)), { name: CLUSTER, storeUrl: `file://${from}`, options: OPTIONS });
    const stack = await inlineStack("kstate-move", uniqueName("s"), async () => {
      new StateStoreMigration("move", { clusterName: CLUSTER, source: `file://${from}`, destination: `file://${to}` });
    });
    await stack.up();
    fs.rmSync(path.join(to, CLUSTER), { recursive: true });
    const refresh = await stack.refresh();
    assert.deepEqual(changed(refresh.summary.resourceChanges), ["update"]);
    await stack.up();
    assert.ok(fs.existsSync(path.join(to, CLUSTER, "config")));
    assert.deepEqual(changed((await stack.refresh()).summary.resourceChanges), []);
  });

  it("StateStore drift (versioning suspended behind Pulumi's back) shows as a property change, and up repairs it", async function () {
    const bucket = uniqueName("drift");
    const stack = await inlineStack("kstate-drift", uniqueName("s"), async () => {
      new StateStore("state", { url: `s3://${bucket}`, forceDestroy: true });
    });
    await stack.up();
    const s3 = await import("@aws-sdk/client-s3");
    const o = s3Options();
    const client = new s3.S3Client({ endpoint: o.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! } });
    await client.send(new s3.PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Suspended" } }));
    const refresh = await stack.refresh();
    assert.deepEqual(changed(refresh.summary.resourceChanges), ["update"]);
    const preview = await stack.preview({ diff: true });
    assert.match(preview.stdout, /~ versioning *: false => true/);
    await stack.up();
    const v = await client.send(new s3.GetBucketVersioningCommand({ Bucket: bucket }));
    assert.equal(v.Status, "Enabled");
    client.destroy();
    await stack.destroy();
  });

  it("a bucket create that fails half way is recorded, and the next up finishes it instead of failing with 'already exists'", async function () {
    const bucket = uniqueName("half");
    const args: StateStoreArgs = { url: `s3://${bucket}`, encryption: "aws:kms", kmsKeyId: "arn:aws:kms:us-east-1:000000000000:key/does-not-exist", forceDestroy: true };
    const stack = await inlineStack("kstate-half", uniqueName("s"), async () => {
      new StateStore("state", args);
    });
    await assert.rejects(stack.up(), (e: unknown) => /set default encryption on s3:\/\/half-.*KeyNotFound/.test(String(e)));
    args.encryption = "AES256";
    delete args.kmsKeyId;
    const up = await stack.up();
    assert.equal(up.summary.resourceChanges?.update, 1, JSON.stringify(up.summary.resourceChanges));
    await stack.destroy();
  });
});

describe("Pulumi lifecycle: a stack from release 0.1.0 (state schema 1)", function () {
  this.timeout(300_000);
  let stack: Stack;
  let store: string;
  const name = "legacy.k8s.example.com";
  let args: ClusterConfigArgs;
  let folder: VfsPath;

  before(async function () {
    const fixture = path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "state", "release-0.1.0");
    const work = tempStore();
    store = path.join(work, "store");
    fs.cpSync(path.join(fixture, "store"), store, { recursive: true });
    for (const f of fs.readdirSync(store, { recursive: true }) as string[]) {
      const p = path.join(store, f);
      if (fs.statSync(p).isFile()) fs.writeFileSync(p, fs.readFileSync(p, "utf8").replaceAll("__STORE__", store));
    }
    const providers = path.resolve(__dirname, "..", "..", "src", "providers");
    const exported = JSON.parse(fs.readFileSync(path.join(fixture, "stack.json"), "utf8").replaceAll("__STORE__", store).replaceAll("__PROVIDERS__", providers).replaceAll("__LEGACY__", work));
    args = {
      store: `file://${store}`, name,
      options: { cloud: "aws", zones: ["us-east-1a", "us-east-1b"], nodeSize: "m5.large", kubernetesVersion: "v1.30.2" },
      spec: { kubelet: { maxPods: 110 } },
      instanceGroups: { "nodes-us-east-1a": { maxSize: 4 }, gpu: { role: "Node", subnets: ["us-east-1a"], machineType: "p3.2xlarge", minSize: 0, maxSize: 2 } },
      secrets: { "system:dns": "legacy-secret-value" },
    };
    stack = await inlineStack("kstate-legacy", "legacy", async () => {
      const s = new StateStore("state", { url: `file://${store}`, versioning: false });
      const c = new ClusterConfig("dev", { ...args, store: s.url });
      return { configBase: c.configBase };
    });
    await stack.importStack(exported);
    folder = openPath(`file://${store}`).join(name);
  });

  it("the same program: up records ownership in the documents and changes no field", async function () {
    const before = await readFolder(folder);
    const up = await stack.up();
    assert.deepEqual(changed(up.summary.resourceChanges), ["update"]);
    const after = await readFolder(folder);
    const lines = describeStoredChanges(before, after);
    assert.ok(lines.every((l) => l.includes(": ~ owner pulumi:kstate-legacy/legacy/dev")), JSON.stringify(lines, null, 1));
    const config = plain(after.get("config")!);
    assert.equal(config.metadata.managedFields[0].manager, "pulumi:kstate-legacy/legacy/dev");
    assert.deepEqual(changed((await stack.preview()).changeSummary), []);
  });

  it("fields and groups the old release set are removed when the program stops setting them; destroy removes the rest", async function () {
    delete args.spec;
    args.instanceGroups = { "nodes-us-east-1a": { maxSize: 4 } };
    await stack.up();
    const after = await readFolder(folder);
    assert.equal(plain(after.get("config")!).spec.kubelet?.maxPods, undefined);
    assert.equal(after.has("instancegroup/gpu"), false);
    await stack.destroy();
    assert.deepEqual(await folder.listTree(), []);
  });
});
