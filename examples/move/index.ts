// Moving a running kops cluster's state store, as kops's own procedure goes, in three `pulumi up`s:
//
//   1. copy the files and point spec.configBase at the new store (StateStoreMigration), then run
//      `kops update cluster --yes` against the new store (ClusterUpdate), which writes there the
//      files nodes boot from and records the new configBase in cluster-completed.spec;
//   2. set `deleteSource: true`: the old files go (before step 1's update this is refused,
//      naming the missing step, and nothing is deleted).
//
// Config: `cluster` (its name), `from` and `to` (store URLs), `kops` (the binary; default kops on
// PATH), `deleteSource` (default false). Stores and the cloud are reached as kops reaches them, from
// the environment (S3_ENDPOINT, AWS_*, …).
import * as pulumi from "@pulumi/pulumi";
import * as kstate from "kstate";

export = async () => {
  const config = new pulumi.Config();
  const name = config.require("cluster");
  const to = config.require("to");
  const move = new kstate.StateStoreMigration("move", {
    clusterName: name,
    source: config.require("from"),
    destination: to,
    deleteSource: config.getBoolean("deleteSource") ?? false,
  });
  // The update runs once the copy is there (its trigger is the migration's configBase).
  const update = new kstate.ClusterUpdate("update", { store: to, name, triggers: move.configBase, kops: config.get("kops") });
  return { configBase: move.configBase, sourceDeleted: move.sourceDeleted, kopsVersion: update.kopsVersion, applied: update.applied };
};
