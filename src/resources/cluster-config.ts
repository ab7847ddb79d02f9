import * as pulumi from "@pulumi/pulumi";
import type { ClusterOptions } from "../ops/options";
import { CLUSTER_CONFIG_OUTPUTS, type ClusterConfigInputs, type ClusterConfigOutputs } from "../providers/cluster-config";
import { withOutputKeys } from "../providers/serialize";
import type { ClusterSpec, InstanceGroupSpec } from "../schema/kops-types";
import type { ClusterEncryption } from "../store/secrets";
import { KstateResource } from "./dynamic-resource";
import { STORE_ACCESS_KEYS } from "../providers/store-access";
import { type DeepInput, type PartInput, sealAccess, type StoreAccessArgs, type StoreAccessOutputs } from "./inputs";

/** The provider takes `spec` and `instanceGroups` as plain maps; a program gets kops's types, any part of a spec. */
type Settable = Omit<ClusterConfigInputs, "manager" | "ownedValues" | "keysFound" | "spec" | "instanceGroups">;

/** What a program gives a ClusterConfig: each field as a value, an output or a promise, at any depth. */
export type ClusterConfigArgs = { [K in keyof Settable]: DeepInput<Settable[K]> } & {
  /** Merged into the stored Cluster's `spec`; `null` removes a field. */
  spec?: PartInput<ClusterSpec>;
  /** Merged into each named InstanceGroup's `spec` (a new name creates the group); `null` removes a field. */
  instanceGroups?: pulumi.Input<{ [group: string]: PartInput<InstanceGroupSpec> }>;
};

/** How the store is reached, as a StateStore's: outputs `endpoint`, `region`, `project`, `accessKeyId`, `secretAccessKey`, `sessionToken`. */
export interface ClusterConfig extends StoreAccessOutputs {}

/**
 * A kops cluster's documents in a state store (`config` and `instancegroup/*`). The program's
 * `options` (kops create-cluster flags), `spec` and `instanceGroups` are merged into what is
 * stored: the program owns the fields it sets (recorded in each document's
 * `metadata.managedFields`, as Kubernetes's server-side apply records it), and everything else
 * (hand edits, comments, fields kops or other stacks set) is kept. `pulumi preview` prints each
 * change and `--diff` shows the owned fields that change.
 */
export class ClusterConfig extends KstateResource {
  declare readonly store: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  /** The owner recorded in the documents: `pulumi:<project>/<stack>/<resource name>`. */
  declare readonly manager: pulumi.Output<string>;
  declare readonly options: pulumi.Output<ClusterOptions | undefined>;
  declare readonly spec: pulumi.Output<Record<string, unknown> | undefined>;
  declare readonly instanceGroups: pulumi.Output<Record<string, Record<string, unknown>> | undefined>;
  declare readonly onConflict: pulumi.Output<"fail" | "overwrite">;
  declare readonly deleteClusterState: pulumi.Output<boolean>;
  declare readonly configBase: pulumi.Output<string>;
  declare readonly revisions: pulumi.Output<Record<string, string>>;
  declare readonly ownedValues: pulumi.Output<Record<string, unknown>>;
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly schemaVersion: pulumi.Output<number>;
  declare readonly secretHashes: pulumi.Output<Record<string, string>>;
  /** The key of `secretHashes` (secret), made with the first secret. */
  declare readonly secretHashKey: pulumi.Output<string | undefined>;
  /** As given (secret). */
  declare readonly clientSideEncryption: pulumi.Output<ClusterEncryption | undefined>;
  /** The admin SSH public key, as given. */
  declare readonly sshPublicKey: pulumi.Output<string | undefined>;
  /** The admin SSH key's fingerprint (`aa:bb:…`), once stored. */
  declare readonly sshKeyFingerprint: pulumi.Output<string | undefined>;
  /** The certificate of the CA given as `ca`, once it is the cluster CA's primary. */
  declare readonly caCertificate: pulumi.Output<string | undefined>;

  /**
   * The store settings as the program gave them (secrets sealed): known in a preview, where the
   * outputs of a ClusterConfig that is changing are not. A ClusterUpdate on this cluster reaches
   * the store with them.
   */
  readonly givenAccess: StoreAccessArgs;

  constructor(name: string, args: ClusterConfigArgs, opts?: pulumi.CustomResourceOptions) {
    // Secret values and the passphrase reach state only as Pulumi secrets (encrypted by the
    // stack's secrets provider); the outputs carry a keyed hash of each secret, never the value.
    const sealed: Record<string, unknown> = { ...(sealAccess(args) as ClusterConfigArgs), manager: `pulumi:${pulumi.getProject()}/${pulumi.getStack()}/${name}` };
    if (args.secrets !== undefined) sealed.secrets = pulumi.secret(args.secrets);
    if (args.clientSideEncryption !== undefined) sealed.clientSideEncryption = pulumi.secret(args.clientSideEncryption);
    if (args.ca !== undefined) sealed.ca = pulumi.secret(args.ca);
    super("clusterConfig", "ClusterConfig", name, withOutputKeys<ClusterConfigOutputs>(sealed, CLUSTER_CONFIG_OUTPUTS), {
      ...opts,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "secrets", "clientSideEncryption", "secretHashKey", "ca", "secretAccessKey", "sessionToken"],
    });
    this.givenAccess = Object.fromEntries(STORE_ACCESS_KEYS.filter((k) => args[k] !== undefined).map((k) => [k, sealed[k]])) as StoreAccessArgs;
  }
}
