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
import { ClusterConfig, StateStoreMigration } from "../../src";
import { parseYaml } from "../../src/store/yaml";
import { openPath, type VfsPath } from "../../src/vfs";
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

  it("moves a ClusterConfig cluster from MinIO to fake-gcs-server and file://, verified; a second up copies nothing; deleteSource empties the source", async function () {
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
      return { copiedToFile: toFileMove.filesCopied, copiedToGcs: toGcsMove.filesCopied, plan: pulumi.output(toGcsMove.plan) };
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

    settings.deleteSource = true;
    const third = await stack.up();
    assert.equal(third.summary.resourceChanges?.update, 1);
    assert.deepEqual(await srcFolder.listTree(), [], "the source prefix is empty");
    assert.equal(Object.keys(await contents(openPath(toGcs, openOptions()).join(CLUSTER))).length, Object.keys(before).length);

    await stack.destroy();
    assert.equal(Object.keys(await contents(openPath(toFile, openOptions()).join(CLUSTER))).length, Object.keys(before).length, "destroy does not undo a migration");
    await clusterStack.workspace.removeStack(clusterStack.name, { force: true });
    await stack.workspace.removeStack(stack.name, { force: true });
  });
});
