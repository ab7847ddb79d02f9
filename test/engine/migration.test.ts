/**
 * StateStoreMigration through the real Pulumi engine: a cluster written by ClusterConfig to MinIO
 * moves to fake-gcs-server and to a file:// store.
 */
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, StateStore, StateStoreMigration } from "../../src";
import { readPolicy } from "../../src/store/encryption-policy";
import { parseYaml } from "../../src/store/yaml";
import { isEnvelope, openPath, type VfsPath } from "../../src/vfs";
import { makeGcsBucket, makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { inlineStack } from "../support/pulumi";

const CLUSTER = "moving.k8s.example.com";

async function contents(folder: VfsPath): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await folder.listTree()) out[f.path] = createHash("sha256").update((await folder.join(f.path).read()).data).digest("hex");
  return out;
}

describe("StateStoreMigration through the Pulumi engine", function () {
  this.timeout(240_000);

  it("moves a ClusterConfig cluster from MinIO to fake-gcs-server and file://, verified; a second up copies nothing; deleteSource empties the source once the cluster has been updated against the destination", async function () {
    const source = `s3://${await makeS3Bucket()}`;
    const toGcs = `gs://${await makeGcsBucket()}`;
    const toFile = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-mig-"))}`;
    const clusterStack = await inlineStack("kstate-migration", uniqueName("cluster"), async () => {
      const cluster = new ClusterConfig("moving", { store: source, name: CLUSTER, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" } });
      return { configBase: cluster.configBase };
    });
    await clusterStack.up();
    // kops-managed files beside the documents: names with colons, deep trees.
    const srcFolder = openPath(source, openOptions()).join(CLUSTER);
    await srcFolder.join("secrets", "system:dns").write('{"Data":"c2VjcmV0"}');
    await srcFolder.join("pki", "private", "kubernetes-ca", "keyset.yaml").write("kind: Keyset\n");
    await srcFolder.join("backups", "etcd", "main", "control", "etcd-cluster-spec").write('{"memberCount":1}');
    const before = await contents(srcFolder);

    const settings = { deleteSource: false };
    const stack = await inlineStack("kstate-migration", uniqueName("mig"), async () => {
      const toFileMove = new StateStoreMigration("to-file", { clusterName: CLUSTER, source, destination: toFile });
      const toGcsMove = new StateStoreMigration("to-gcs", { clusterName: CLUSTER, source, destination: toGcs, deleteSource: settings.deleteSource }, { dependsOn: [toFileMove] });
      return { copiedToFile: toFileMove.filesCopied, copiedToGcs: toGcsMove.filesCopied, plan: pulumi.output(toGcsMove.plan), sourceDeleted: toGcsMove.sourceDeleted, sourceKept: toGcsMove.sourceKept };
    });
    const preview = await stack.preview({ diff: true });
    const n = Object.keys(before).length;
    assert.equal(n, 6, "config, two instance groups, three kops files");
    assert.match(preview.stdout, new RegExp(`copy ${n} of ${n} files \\(\\d+ of \\d+ bytes\\)`));
    assert.deepEqual(await openPath(toGcs, openOptions()).listTree(), [], "preview wrote nothing");

    const first = await stack.up();
    assert.equal(first.summary.resourceChanges?.create, 3);
    assert.equal(first.outputs.copiedToFile?.value, n);
    assert.equal(first.outputs.copiedToGcs?.value, n);
    for (const dest of [toFile, toGcs]) {
      const folder = openPath(dest, openOptions()).join(CLUSTER);
      const after = await contents(folder);
      assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort(), dest);
      for (const f of Object.keys(before)) if (f !== "config") assert.equal(after[f], before[f], `${dest} ${f}`);
      const config = parseYaml((await folder.join("config").read()).data.toString(), "config").toJS() as { spec: { configBase: string } };
      assert.equal(config.spec.configBase, folder.url.replace(/^file:\/\//, ""));
    }
    assert.deepEqual(await contents(srcFolder), before, "the source was not touched");

    const second = await stack.up();
    assert.deepEqual(Object.keys(second.summary.resourceChanges ?? {}), ["same"], "a second up copies nothing");

    // deleteSource before kops has updated the cluster against the new store: the preview says the
    // source is kept, and up keeps it (and succeeds), with the source as it was.
    settings.deleteSource = true;
    const gcsFolder = openPath(toGcs, openOptions()).join(CLUSTER);
    const missing = `no update ran against the new store yet: there is no ${gcsFolder.url}/cluster-completed.spec`;
    const update = `kops update cluster ${CLUSTER} --yes --state ${toGcs}`;
    const keeping = await stack.preview({ diff: true });
    // The engine shows the start of a long line; the plan says it in lines that start with the gist.
    assert.match(keeping.stdout, /"the source will be kept \(up copies and verifies, and succeeds\): no update ran against the new store yet: there is no gs:/);
    assert.match(keeping.stdout, /"update the cluster against the new store \(a ClusterUpdate resource on it, or `kops update cluster/);
    const keptUp = await stack.up();
    assert.equal(keptUp.outputs.sourceDeleted?.value, false, JSON.stringify(keptUp.outputs));
    assert.ok(String(keptUp.outputs.sourceKept?.value).startsWith(`${missing}; update the cluster against the new store (a ClusterUpdate resource on it, or \`${update}\`)`), JSON.stringify(keptUp.outputs.sourceKept));
    assert.deepEqual(await contents(srcFolder), before, "the source was not touched");
    // As kops update cluster --yes --state <toGcs> writes it: the completed spec names the new configBase.
    await gcsFolder.join("cluster-completed.spec").write((await gcsFolder.join("config").read()).data);
    const third = await stack.up();
    assert.equal(third.summary.resourceChanges?.update, 1);
    assert.deepEqual(await srcFolder.listTree(), [], "the source prefix is empty");
    assert.equal(Object.keys(await contents(gcsFolder)).length, Object.keys(before).length + 1, "the copy and the completed spec");

    await stack.destroy();
    assert.equal(Object.keys(await contents(openPath(toFile, openOptions()).join(CLUSTER))).length, Object.keys(before).length, "destroy does not undo a migration");
    await clusterStack.workspace.removeStack(clusterStack.name, { force: true });
    await stack.workspace.removeStack(stack.name, { force: true });
  });

  it("takes the source store's encryption policy to a fresh destination: the preview names it and writes nothing, up records it", async function () {
    const source = `file://${path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kstate-mig-sealed-")), "store")}`;
    const destination = `gs://${await makeGcsBucket()}`;
    const passphrase = "migration policy passphrase 3301";
    const clusterStack = await inlineStack("kstate-migration", uniqueName("sealed"), async () => {
      const store = new StateStore("store", { url: source, clientSideEncryption: { passphrase } });
      new ClusterConfig("sealed", { store: store.url, name: CLUSTER, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" }, secrets: { "system:dns": "sealed value" }, clientSideEncryption: store.clientSideEncryption });
      return {};
    });
    await clusterStack.up();
    const recorded = await readPolicy(openPath(source));
    assert.ok(recorded, "the StateStore recorded its policy");
    const stack = await inlineStack("kstate-migration", uniqueName("mig-sealed"), async () => {
      new StateStoreMigration("sealed-move", { clusterName: CLUSTER, source, destination });
      return {};
    });
    const preview = await stack.preview({ diff: true });
    // The engine shows the start of a long line: the gist comes first.
    assert.match(preview.stdout, /"record the source store's encryption policy \(the destination keeps none\): secrets\/\*\*, pki\/private\/\*\* encrypted with a passphrase/);
    assert.deepEqual(await openPath(destination, openOptions()).listTree(), [], "preview wrote nothing");
    await stack.up();
    assert.deepEqual((await readPolicy(openPath(destination, openOptions())))?.policy, recorded.policy);
    assert.ok(isEnvelope((await openPath(destination, openOptions()).join(CLUSTER, "secrets", "system:dns").read()).data), "the sealed secret moved sealed");
    for (const s of [stack, clusterStack]) await s.workspace.removeStack(s.name, { force: true });
  });
});
