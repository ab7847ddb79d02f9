// Moving a running kops cluster's state store, as kops's own procedure goes, in two `pulumi up`s:
//
//   1. copy the files and point spec.configBase at the new store (StateStoreMigration), then run
//      `kops update cluster --yes` against the new store (ClusterUpdate), which writes there the
//      files nodes boot from and records the new configBase in cluster-completed.spec;
//   2. with `deleteSource: true`, the next `up` deletes the old files. Set from the start, the
//      first `up` keeps them (the update has not run yet when the migration does; it says so in
//      `sourceKept`) and the second deletes them; nothing is deleted before the update.
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
  return { configBase: move.configBase, sourceDeleted: move.sourceDeleted, sourceKept: move.sourceKept, kopsVersion: update.kopsVersion, applied: update.applied };
};
