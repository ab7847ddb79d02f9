import * as pulumi from "@pulumi/pulumi";
import type { Ownership } from "../ops/cluster";
import type { ClusterOptions } from "../ops/options";
import type { ClusterConfigInputs, ClusterConfigOutputs } from "../providers/cluster-config";
import { serializableProvider, withOutputKeys } from "../providers/serialize";

type Settable = Omit<ClusterConfigInputs, "plan">;

type PlainArgs = Omit<Settable, "secrets">;

export type ClusterConfigArgs = { [K in keyof PlainArgs]: pulumi.Input<PlainArgs[K]> } & {
  /** kops secrets by name (`secrets/<name>`); stored as Pulumi secrets, only their hashes are outputs. */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
};

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
  declare readonly secretHashes: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ClusterConfigArgs, opts?: pulumi.CustomResourceOptions) {
    // Secret values and the passphrase reach state only as Pulumi secrets (encrypted by the
    // stack's secrets provider); the outputs carry a hash of each secret, never the value.
    const sealed: Record<string, unknown> = { ...args };
    if (args.secrets !== undefined) sealed.secrets = pulumi.secret(args.secrets);
    if (args.clientSideEncryption !== undefined) sealed.clientSideEncryption = pulumi.secret(args.clientSideEncryption);
    const inputs = withOutputKeys<ClusterConfigOutputs>(sealed, [
      "store", "name", "options", "spec", "instanceGroups", "onConflict", "deleteClusterState", "plan", "configBase", "config",
      "instanceGroupDocuments", "revisions", "ownedPaths", "ownedValues", "appliedOwnedValues", "adopted", "schemaVersion", "secretHashes",
    ]);
    super(clusterConfigProvider, name, inputs, { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "secrets", "clientSideEncryption"] }, "kstate", "ClusterConfig");
  }
}
