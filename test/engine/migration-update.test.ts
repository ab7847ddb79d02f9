/**
 * Moving a running kops cluster's store, end to end, as kops's own procedure goes: copy the files
 * and point spec.configBase at the new store (StateStoreMigration), run `kops update cluster`
 * against the new store (ClusterUpdate), and only then delete the old store's files. The real
 * Pulumi CLI, the real kops, moto as the cloud and two MinIO buckets.
 */
import * as assert from "node:assert/strict";
import { ClusterUpdate, StateStoreMigration } from "../../src";
import { parseYaml } from "../../src/store/yaml";
import { openPath } from "../../src/vfs";
import { makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { awsClusterName, createAwsCluster, kopsAws, startLocalAws } from "../support/local-aws";
import { inlineStack } from "../support/pulumi";
import { toolPath } from "../support/servers";
import { forSuite } from "../support/suite";
import { snapshot } from "../support/snapshot";

describe("engine: migration, then an update against the new store, then the source's deletion, in one program", function () {
  this.timeout(900_000);
  const aws = forSuite(startLocalAws);

  it("with deleteSource from the start, keeps the source until the update against the new store has run, and deletes it on the next up", async function () {
    const [from, to] = [`s3://${await makeS3Bucket()}`, `s3://${await makeS3Bucket()}`];
    const name = awsClusterName("mig");
    await createAwsCluster(from, name, aws());
    await kopsAws(["update", "cluster", name, "--yes", "--state", from], aws().env());
    const source = openPath(from, openOptions());
    const destination = openPath(to, openOptions()).join(name);
    const before = await snapshot(source);

    const program = { update: false };
    const stack = await inlineStack("kstate-move", uniqueName("s"), async () => {
      const move = new StateStoreMigration("move", { clusterName: name, source: from, destination: to, deleteSource: true });
      if (program.update) {
        new ClusterUpdate("update", { store: to, name, triggers: move.configBase, kops: toolPath("kops"), environment: aws().env() });
      }
    });

    // Deleting the source first: the preview says so; up copies and verifies, keeps the source and
    // succeeds (so an update after it in the program is not stopped by it). Said in the preview's
    // log, without --diff (where the plan property shows it too).
    const early = await stack.preview();
    // The reason is the one up gives: the copy brings the source's completed spec, which names the old store.
    const reason = /the last update recorded at the new store ran against the old store \(its cluster-completed\.spec was copied from there\)/;
    assert.match(early.stdout, new RegExp(`${name.replace(/\./g, "\\.")}: the source will be kept \\(up copies and verifies, and succeeds\\): ${reason.source}`));
    const first = await stack.up();
    assert.match(first.stdout, new RegExp(`the source s3://\\S+ is kept: ${reason.source}`));
    assert.deepEqual(await snapshot(source), before, "the source is byte-identical");

    // The chain, deleteSource still set: the migration stays pending (the source kept again), and
    // kops update runs against the new store after it.
    program.update = true;
    const chain = await stack.preview();
    assert.match(chain.stdout, /is not in s3:\/\/\S+ yet; kops's plan is worked out at up|kops update cluster would make/);
    await stack.up();
    const completed = parseYaml((await destination.join("cluster-completed.spec").read()).data.toString(), "cluster-completed.spec").toJS() as { spec: { configBase: string } };
    assert.equal(completed.spec.configBase, `${to}/${name}`);
    assert.deepEqual(await snapshot(source), before, "the source is kept until the update has run");

    // The next up: the update ran, so the source goes; the new store keeps what kops wrote there.
    const kept = await snapshot(openPath(to, openOptions()));
    const last = await stack.up();
    assert.equal(last.summary.resourceChanges?.update, 1, JSON.stringify(last.summary.resourceChanges));
    assert.deepEqual(await source.join(name).listTree(), [], "the source's files are gone");
    assert.deepEqual(await snapshot(openPath(to, openOptions())), kept, "the destination is as the update left it");
    // A preview after the source is gone finds nothing to do (it once failed: "no cluster there").
    const after = await stack.preview();
    assert.deepEqual(after.changeSummary, { same: 3 }, JSON.stringify(after.changeSummary));
    const dry = await kopsAws(["update", "cluster", name, "--state", to], aws().env());
    assert.match(dry.stdout, /No changes need to be applied/);
  });
});
