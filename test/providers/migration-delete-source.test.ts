// StateStoreMigration with deleteSource: the preview says the source will be kept until the
// cluster has been updated against the destination, `up` then copies, verifies and fails (the
// resource is not recorded as sourceDeleted), and after the update it deletes the source.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type MigrationInputs, type MigrationOutputs, provider } from "../../src/providers/migration";
import { openPath } from "../../src/vfs";
import { makeS3Bucket, openOptions, s3Options } from "../support/env";

const CLUSTER = "keep.k8s.example.com";
const cluster = (configBase: string) => `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  configBase: ${configBase}\n  kubernetesVersion: v1.30.2\n`;

describe("StateStoreMigration deleteSource", function () {
  this.timeout(60_000);

  it("refuses at check a destination inside the source's cluster folder (deleting the source would delete the copy), and the reverse", async function () {
    const store = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-nested-"))}`;
    for (const [source, destination] of [[store, `${store}/${CLUSTER}`], [`${store}/${CLUSTER}`, store]]) {
      const checked = await provider.check({} as never, { clusterName: CLUSTER, source, destination, deleteSource: true } as never);
      assert.equal(checked.failures?.length, 1, JSON.stringify(checked));
      assert.equal(checked.failures![0]!.property, "destination");
      assert.match(checked.failures![0]!.reason, /lies inside the (source|destination)'s cluster folder/);
    }
  });

  it("previews and keeps the source until the cluster has been updated against the destination (up succeeds, pending), then deletes it", async function () {
    const o = s3Options();
    const sourceSettings = { endpoint: o.endpoint, region: "us-east-1", accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey };
    const source = `s3://${await makeS3Bucket()}`;
    const destination = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-keep-"))}`;
    const from = openPath(source, openOptions()).join(CLUSTER);
    const to = openPath(destination).join(CLUSTER);
    await from.join("config").write(cluster(from.url));
    await from.join("secrets", "system:dns").write('{"Data":"c2VjcmV0"}');
    const news = { clusterName: CLUSTER, source, destination, sourceSettings, deleteSource: true } as MigrationInputs;
    const missing = `no update ran against the new store yet: there is no ${to.url}/cluster-completed.spec`;
    const update = `kops update cluster ${CLUSTER} --yes --state ${destination}`;

    const checked = await provider.check({} as MigrationInputs, news);
    assert.deepEqual(checked.failures ?? [], []);
    assert.deepEqual(checked.inputs!.plan!.slice(1), [`the source will be kept (up copies and verifies, and succeeds): ${missing}`, `update the cluster against the new store (a ClusterUpdate resource on it, or \`${update}\`), and the next up deletes the source`]);
    // Up copies, verifies and succeeds, keeping the source: a ClusterUpdate after it in the same
    // program still runs. The resource stays pending (diff) until the source goes.
    const first = (await provider.create(checked.inputs!)).outs as MigrationOutputs;
    assert.equal(first.sourceDeleted, false);
    assert.equal(first.verified, true);
    assert.equal(first.sourceKept, `${missing}; update the cluster against the new store (a ClusterUpdate resource on it, or \`${update}\`), and the next run deletes the source`);
    assert.equal((await from.listTree()).length, 2, "the source is kept");
    assert.equal((await to.listTree()).length, 2, "the copy was made");
    assert.equal((await provider.diff("id", first, checked.inputs!)).changes, true, "pending while the source is kept");
    const again = (await provider.update("id", first, checked.inputs!)).outs as MigrationOutputs;
    assert.equal(again.sourceDeleted, false, "still kept: no update ran yet");
    assert.equal((await from.listTree()).length, 2);
    assert.equal((await provider.diff("id", { ...first, deleteSource: false }, { ...checked.inputs!, deleteSource: false })).changes, false, "without deleteSource nothing is pending");

    // As `kops update cluster --yes --state <destination>` would write it.
    await to.join("cluster-completed.spec").write(cluster(to.url.replace(/^file:\/\//, "")));
    const after = await provider.check({} as MigrationInputs, news);
    assert.deepEqual(after.inputs!.plan!.slice(1), ["1 file(s) at the destination are not in the source; they are kept", "then delete the 2 source files"]);
    const updated = (await provider.update("id", again, after.inputs!)).outs as MigrationOutputs;
    assert.equal(updated.sourceDeleted, true);
    assert.equal(updated.sourceKept, undefined);
    assert.deepEqual(await from.listTree(), []);
    assert.equal((await provider.diff("id", updated, after.inputs!)).changes, false, "nothing pending once the source is gone");
  });
});
