// The migration's last step, as kops's procedure has it: the source goes only once
// `kops update cluster --yes` has run against the new store (its cluster-completed.spec names the
// new configBase); after that update the new store is authoritative. Real stores: MinIO and file://.
// The "update" here writes what kops writes; the chain with the real kops binary is elsewhere.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planSync, sourceKeptBecause, syncCluster, updatedAgainst } from "../../src/ops/migrate";
import { configBaseOf } from "../../src/store/layout";
import { openPath, RefusedError, type VfsPath } from "../../src/vfs";
import { makeS3Bucket, openOptions } from "../support/env";

const CLUSTER = "last.k8s.example.com";

function cluster(configBase: string): string {
  return `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  configBase: ${configBase}\n  kubernetesVersion: v1.30.2\n`;
}

/** A cluster kops has run `update cluster` on: documents, keys, and what the update rendered. */
async function populate(folder: VfsPath): Promise<void> {
  const base = configBaseOf(folder.url);
  await folder.join("config").write(cluster(base));
  await folder.join("instancegroup", "nodes-us-east-1a").write("kind: InstanceGroup\n");
  await folder.join("secrets", "system:dns").write('{"Data":"c2VjcmV0"}');
  await folder.join("pki", "private", "kubernetes-ca", "keyset.yaml").write("kind: Keyset\nid: 1\n");
  await completedBy(folder, base, "old");
}

/** What `kops update cluster` writes into a folder: the completed spec naming `configBase`, and what it rendered. */
async function completedBy(folder: VfsPath, configBase: string, run: string): Promise<void> {
  await folder.join("cluster-completed.spec").write(`${cluster(configBase)}  # rendered by update ${run}\n`);
  await folder.join("kops-version.txt").write("1.36.2");
  await folder.join("igconfig", "node", "nodes-us-east-1a", "nodeupconfig.yaml").write(`run: ${run}\n`);
  await folder.join("addons", "bootstrap-channel.yaml").write(`run: ${run}\n`);
}

async function snapshot(folder: VfsPath): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await folder.listTree()) out[f.path] = createHash("sha256").update((await folder.join(f.path).read()).data).digest("hex");
  return out;
}

const fileStore = () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-last-"))}`;
const s3Store = async () => `s3://${await makeS3Bucket()}`;

describe("syncCluster deletes the source only after an update against the new store", function () {
  this.timeout(120_000);

  it("without a completed spec at the destination: copies and verifies, deletes nothing, and names the missing step", async function () {
    const from = await s3Store();
    const to = fileStore();
    const source = openPath(from, openOptions()).join(CLUSTER);
    const destination = openPath(to).join(CLUSTER);
    await populate(source);
    await source.join("cluster-completed.spec").remove(); // a cluster never updated by kops
    const before = await snapshot(source);
    const dry = await syncCluster(source, destination, { dryRun: true, deleteSource: true });
    assert.equal(dry.destinationUpdated, false);
    assert.equal(dry.completedSpec, undefined);
    assert.deepEqual(sourceKeptBecause(dry), {
      reason: `no update ran against the new store yet: there is no ${to}/${CLUSTER}/cluster-completed.spec`,
      run: `kops update cluster ${CLUSTER} --yes --state ${to}`,
      orRun: `kstate update cluster ${CLUSTER} --yes --state ${to}`,
    });
    await assert.rejects(syncCluster(source, destination, { deleteSource: true }), (e: unknown) => {
      assert.ok(RefusedError.isInstance(e), String(e));
      assert.equal((e as Error).message, `migrate ${source.url} -> ${destination.url}: copied and verified; the source is kept until the cluster has been updated against the new store, `
        + `and no update ran against the new store yet: there is no ${to}/${CLUSTER}/cluster-completed.spec. Run \`kops update cluster ${CLUSTER} --yes --state ${to}\` (or \`kstate update cluster ${CLUSTER} --yes --state ${to}\`, or a ClusterUpdate resource on the new store), and then migrate again with deleteSource`);
      return true;
    });
    assert.deepEqual(await snapshot(source), before, "the source is byte for byte as it was");
    const copied = await snapshot(destination);
    assert.deepEqual(Object.keys(copied).sort(), Object.keys(before).sort(), "the copy was made");
    for (const p of Object.keys(before)) if (p !== "config") assert.equal(copied[p], before[p], p);
    assert.equal(await updatedAgainst(destination), undefined);
  });

  it("a completed spec naming the old configBase (copied from the source) is refused, naming both", async function () {
    const to = await s3Store();
    const source = openPath(fileStore()).join(CLUSTER);
    const destination = openPath(to, openOptions()).join(CLUSTER);
    await populate(source);
    const before = await snapshot(source);
    const first = await syncCluster(source, destination);
    assert.equal(first.verified, true);
    const oldBase = configBaseOf(source.url);
    assert.equal(await updatedAgainst(destination), oldBase, "the copy carried the source's completed spec");
    const reason = `the last update recorded at the new store ran against the old store (its cluster-completed.spec was copied from there): ${destination.url}/cluster-completed.spec names spec.configBase ${oldBase}, not the new store's ${destination.url}`;
    const plan = await planSync(source, destination);
    assert.deepEqual(sourceKeptBecause(plan.result), { reason, run: `kops update cluster ${CLUSTER} --yes --state ${to}`, orRun: `kstate update cluster ${CLUSTER} --yes --state ${to}` });
    await assert.rejects(syncCluster(source, destination, { deleteSource: true, deleteAgainHint: "try again" }), (e: unknown) => {
      assert.ok(RefusedError.isInstance(e), String(e));
      assert.ok((e as Error).message.endsWith(`, and ${reason}. Run \`kops update cluster ${CLUSTER} --yes --state ${to}\` (or \`kstate update cluster ${CLUSTER} --yes --state ${to}\`, or a ClusterUpdate resource on the new store), and then try again`), (e as Error).message);
      return true;
    });
    assert.deepEqual(await snapshot(source), before, "the source is byte for byte as it was");
  });

  it("a first move with deleteSource into an empty store: the plan and the refusal speak of the completed spec the copy brings, not of none", async function () {
    const source = openPath(fileStore()).join(CLUSTER);
    const destination = openPath(fileStore()).join(CLUSTER);
    await populate(source);
    const before = await snapshot(source);
    const oldBase = configBaseOf(source.url);
    const plan = await planSync(source, destination, { deleteSource: true });
    assert.equal(plan.result.completedSpec, undefined, "before the copy there is none");
    assert.match(sourceKeptBecause(plan.result)?.reason ?? "", /ran against the old store \(its cluster-completed\.spec was copied from there\)/, "the plan foretells the reason the run gives");
    await assert.rejects(syncCluster(source, destination, { deleteSource: true }), (e: unknown) => {
      assert.ok(RefusedError.isInstance(e), String(e));
      const copied = `ran against the old store (its cluster-completed.spec was copied from there): ${destination.url}/cluster-completed.spec names spec.configBase ${oldBase}`;
      assert.ok((e as Error).message.includes(copied), (e as Error).message);
      assert.doesNotMatch((e as Error).message, /there is no/);
      return true;
    });
    assert.deepEqual(await snapshot(source), before, "the source is byte for byte as it was");
  });

  it("after an update against the new store, a second run keeps the destination's newer files, copies what only the source has, and deletes the source", async function () {
    const source = openPath(await s3Store(), openOptions()).join(CLUSTER);
    const destination = openPath(await s3Store(), openOptions()).join(CLUSTER);
    await populate(source);
    await syncCluster(source, destination);
    // kops update cluster --yes --state <new store>: a new completed spec, rendered files, a new key.
    await completedBy(destination, configBaseOf(destination.url), "new");
    await destination.join("pki", "private", "kubernetes-ca", "keyset.yaml").write("kind: Keyset\nid: 2\n");
    // Meanwhile the old store got a file the copy has not seen.
    await source.join("backups", "etcd", "main", "control", "etcd-cluster-spec").write('{"memberCount":1}');
    const updated = await snapshot(destination);
    const sourceBefore = await snapshot(source);
    assert.equal(await updatedAgainst(destination), destination.url);

    const plan = await planSync(source, destination);
    assert.equal(plan.result.destinationUpdated, true);
    assert.equal(sourceKeptBecause(plan.result), undefined);
    assert.deepEqual(plan.result.keptAtDestination, ["addons/bootstrap-channel.yaml", "cluster-completed.spec", "igconfig/node/nodes-us-east-1a/nodeupconfig.yaml", "pki/private/kubernetes-ca/keyset.yaml"]);
    assert.deepEqual(plan.toCopy.map((f) => f.path), ["backups/etcd/main/control/etcd-cluster-spec"]);

    const result = await syncCluster(source, destination, { deleteSource: true });
    assert.equal(result.verified, true);
    assert.equal(result.filesCopied, 1);
    assert.equal(result.sourceDeleted, true);
    assert.deepEqual(await source.listTree(), [], "the source is gone");
    const after = await snapshot(destination);
    for (const [p, h] of Object.entries(updated)) assert.equal(after[p], h, `${p}: the destination's version is kept`);
    assert.equal(after["backups/etcd/main/control/etcd-cluster-spec"], sourceBefore["backups/etcd/main/control/etcd-cluster-spec"], "what only the source had was copied");
    assert.deepEqual(Object.keys(after).sort(), [...new Set([...Object.keys(updated), ...Object.keys(sourceBefore)])].sort(), "nothing lost");
  });

  it("after the update, a document edited in either store keeps the source: neither change is lost", async function () {
    const source = openPath(await s3Store(), openOptions()).join(CLUSTER);
    const destination = openPath(await s3Store(), openOptions()).join(CLUSTER);
    await populate(source);
    await syncCluster(source, destination);
    await completedBy(destination, configBaseOf(destination.url), "new");
    // Someone edits an instance group in the old store after the update (kstate edit ig --state OLD).
    const group = (await source.listTree()).map((f) => f.path).find((p) => p.startsWith("instancegroup/"))!;
    await source.join(group).write(`${(await source.join(group).read()).data.toString()}# edited in the old store\n`);
    const sourceBefore = await snapshot(source);
    const destinationBefore = await snapshot(destination);

    const plan = await syncCluster(source, destination, { dryRun: true, deleteSource: true });
    assert.deepEqual(plan.divergedDocuments, [group]);
    await assert.rejects(syncCluster(source, destination, { deleteSource: true }), (e: unknown) => RefusedError.isInstance(e)
      && e.message.includes(`the source is kept, because 1 document(s) differ between the two stores (one of them changed after the copy, and \`kops update\` writes neither): ${group}`));
    assert.deepEqual(await snapshot(source), sourceBefore, "the source is as it was");
    assert.deepEqual(await snapshot(destination), destinationBefore, "the destination's version is kept too");
  });

  it("says why the source is kept, for every kind of completed spec", async function () {
    const to = fileStore();
    const destination = openPath(to).join(CLUSTER);
    const newBase = configBaseOf(destination.url);
    const cases: { name: string; spec: string | undefined; reason: string | undefined }[] = [
      { name: "none", spec: undefined, reason: `no update ran against the new store yet: there is no ${destination.url}/cluster-completed.spec` },
      { name: "another store", spec: cluster("s3://elsewhere/last.k8s.example.com"), reason: `the last update recorded at the new store ran against another store: ${destination.url}/cluster-completed.spec names spec.configBase s3://elsewhere/last.k8s.example.com, not the new store's ${newBase}` },
      { name: "no configBase", spec: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec: {}\n", reason: `the new store records no update against it: ${destination.url}/cluster-completed.spec names no spec.configBase` },
      { name: "not YAML", spec: "{ not: [yaml", reason: `the new store records no update against it: ${destination.url}/cluster-completed.spec names no spec.configBase` },
      { name: "the new store, as a path", spec: cluster(newBase), reason: undefined },
      { name: "the new store, as a file:// URL with a slash", spec: cluster(`${destination.url}/`), reason: undefined },
    ];
    const source = openPath(fileStore()).join(CLUSTER);
    await source.join("config").write(cluster(configBaseOf(source.url)));
    for (const c of cases) {
      if (c.spec === undefined) await destination.join("cluster-completed.spec").remove();
      else await destination.join("cluster-completed.spec").write(c.spec);
      const r = await syncCluster(source, destination, { dryRun: true, deleteSource: true });
      assert.equal(sourceKeptBecause(r)?.reason, c.reason, c.name);
      assert.equal(r.destinationUpdated, c.reason === undefined, c.name);
    }
  });
});
