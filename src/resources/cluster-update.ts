import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_UPDATE_OUTPUTS, type ClusterUpdateInputs, type ClusterUpdateOutputs } from "../providers/cluster-update";
import { withOutputKeys } from "../providers/serialize";
import { STORE_ACCESS_KEYS } from "../providers/store-access";
import type { ClusterConfig } from "./cluster-config";
import { KstateResource } from "./dynamic-resource";
import { ValidationError } from "../vfs/errors";
import { sealAccess, type StoreAccessArgs } from "./inputs";

type Settable = Omit<ClusterUpdateInputs, "plan" | "store" | "name" | keyof StoreAccessArgs>;

export type ClusterUpdateArgs = { [K in keyof Settable]?: pulumi.Input<Settable[K]> } & StoreAccessArgs & {
  /**
   * The cluster to update: its store, name and store access are taken from it, and its
   * `revisions` are the triggers (the update runs after its documents change, and only then).
   */
  cluster?: ClusterConfig;
  /** The store's URL, when `cluster` is not given. */
  store?: pulumi.Input<string>;
  /** The cluster's name, when `cluster` is not given. */
  name?: pulumi.Input<string>;
};

/**
 * kops's `update cluster` for one cluster: `pulumi preview` shows kops's dry run (what it would
 * create, change or delete in the cloud) and `pulumi up` applies it with the kops binary given
 * (or found on PATH), which writes the files nodes boot from into the store. The update runs when
 * the triggers change (a ClusterConfig's revisions), and again after a failure; `pulumi refresh`
 * shows pending cloud changes as drift. Deleting the resource leaves the cloud as it is.
 */
export class ClusterUpdate extends KstateResource {
  declare readonly store: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly kops: pulumi.Output<string | undefined>;
  declare readonly target: pulumi.Output<"direct" | "terraform" | undefined>;
  declare readonly outDir: pulumi.Output<string | undefined>;
  declare readonly triggers: pulumi.Output<unknown>;
  /** kops's task changes, as the last preview or up worked them out. */
  declare readonly plan: pulumi.Output<string[]>;
  declare readonly kopsVersion: pulumi.Output<string>;
  /** What the last update applied. */
  declare readonly applied: pulumi.Output<string[]>;
  /** Cloud changes the last refresh found pending. */
  declare readonly pendingChanges: pulumi.Output<string[]>;

  constructor(name: string, args: ClusterUpdateArgs, opts?: pulumi.CustomResourceOptions) {
    const { cluster, ...rest } = args;
    const fromCluster: Record<string, unknown> = cluster
      ? { store: cluster.store, name: cluster.name, triggers: rest.triggers ?? cluster.revisions, ...cluster.givenAccess, ...Object.fromEntries(STORE_ACCESS_KEYS.filter((k) => rest[k] !== undefined).map((k) => [k, rest[k]])) }
      : {};
    if (!cluster && (args.store === undefined || args.name === undefined)) throw new ValidationError(`ClusterUpdate ${name}: give cluster (a ClusterConfig), or store and name`);
    const sealed: Record<string, unknown> = { ...(sealAccess({ ...rest, ...fromCluster } as StoreAccessArgs)) };
    if (rest.environment !== undefined) sealed.environment = pulumi.secret(rest.environment);
    super("clusterUpdate", "ClusterUpdate", name, withOutputKeys<ClusterUpdateOutputs>(sealed, CLUSTER_UPDATE_OUTPUTS), {
      ...opts,
      dependsOn: cluster ? [...toArray(opts?.dependsOn), cluster] : opts?.dependsOn,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "environment", "secretAccessKey", "sessionToken"],
    });
  }
}

function toArray(d: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
  if (d === undefined) return [];
  return Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}
