import * as pulumi from "@pulumi/pulumi";
import type { Ownership } from "../ops/cluster";
import type { ClusterOptions } from "../ops/options";
import type { ClusterConfigInputs, ClusterConfigOutputs } from "../providers/cluster-config";
import { serializableProvider, withOutputKeys } from "../providers/serialize";

type Settable = Omit<ClusterConfigInputs, "plan">;

export type ClusterConfigArgs = { [K in keyof Settable]: pulumi.Input<Settable[K]> };

/** @internal The provider object serialized into state with every ClusterConfig. */
export const clusterConfigProvider = serializableProvider<ClusterConfigInputs, ClusterConfigOutputs>("cluster-config", __dirname.replace(/resources$/, "providers"));

/**
 * A kops cluster's documents in a state store (`config` and `instancegroup/*`). The program's
 * `options` (kops create-cluster flags), `spec` and `instanceGroups` are merged into what is
 * stored: the program owns the fields it sets, and everything else (hand edits, comments, fields
 * kops added) is kept. `pulumi preview` shows each field that will change.
 */
export class ClusterConfig extends pulumi.dynamic.Resource {
  declare readonly store: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly options: pulumi.Output<ClusterOptions | undefined>;
  declare readonly onConflict: pulumi.Output<"fail" | "overwrite">;
  declare readonly plan: pulumi.Output<string[]>;
  declare readonly configBase: pulumi.Output<string>;
  declare readonly config: pulumi.Output<string>;
  declare readonly instanceGroupDocuments: pulumi.Output<Record<string, string>>;
  declare readonly revisions: pulumi.Output<Record<string, string>>;
  declare readonly ownedPaths: pulumi.Output<Ownership>;
  declare readonly ownedValues: pulumi.Output<Record<string, unknown>>;
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: ClusterConfigArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = withOutputKeys<ClusterConfigOutputs>(args, [
      "store", "name", "options", "spec", "instanceGroups", "onConflict", "deleteClusterState", "plan", "configBase", "config",
      "instanceGroupDocuments", "revisions", "ownedPaths", "ownedValues", "appliedOwnedValues", "adopted", "schemaVersion",
    ]);
    super(clusterConfigProvider, name, inputs, opts, "kstate", "ClusterConfig");
  }
}
