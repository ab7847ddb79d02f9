import * as pulumi from "@pulumi/pulumi";
import { MIGRATION_OUTPUTS, type MigrationInputs, type MigrationOutputs } from "../providers/migration";
import { withOutputKeys } from "../providers/serialize";
import { type StoreAccess, STORE_ACCESS_KEYS } from "../providers/store-access";
import { ValidationError } from "../vfs/errors";
import { KstateResource } from "./dynamic-resource";
import { sealAccess, type StoreAccessArgs } from "./inputs";

type Settable = Omit<MigrationInputs, "plan" | "sourceSettings" | "destinationSettings">;

export type StateStoreMigrationArgs = { [K in keyof Settable]: pulumi.Input<Settable[K]> } & {
  /** How the source store is reached: `endpoint`, `region`, `project`, `accessKeyId`, `secretAccessKey` (a secret), `sessionToken` (a secret), as on a StateStore. */
  sourceSettings?: pulumi.Input<StoreAccessArgs>;
  /** How the destination store is reached, as `sourceSettings`. */
  destinationSettings?: pulumi.Input<StoreAccessArgs>;
};

/**
 * Moves one cluster's state from one store to another: copies what is missing, points
 * `spec.configBase` at the destination, verifies every file by hash, and deletes the source only
 * when asked, only after verifying, and only once the cluster has been updated against the
 * destination (`kops update cluster --yes` there, which writes its cluster-completed.spec). Until
 * then `up` keeps the source and succeeds, saying why (`sourceKept`), so a ClusterUpdate after it
 * in the same program runs; the resource stays pending, and the next `up` deletes the source. A
 * second `up` with the same inputs does nothing once the source is gone; a new destination runs a
 * new migration; deleting the resource does not move anything back.
 */
export class StateStoreMigration extends KstateResource {
  declare readonly clusterName: pulumi.Output<string>;
  declare readonly source: pulumi.Output<string>;
  declare readonly destination: pulumi.Output<string>;
  /** As given (the secret access key and session token are secrets). */
  declare readonly sourceSettings: pulumi.Output<StoreAccess | undefined>;
  declare readonly destinationSettings: pulumi.Output<StoreAccess | undefined>;
  declare readonly deleteSource: pulumi.Output<boolean>;
  declare readonly concurrency: pulumi.Output<number | undefined>;
  declare readonly plan: pulumi.Output<string[]>;
  declare readonly configBase: pulumi.Output<string>;
  declare readonly filesCopied: pulumi.Output<number>;
  declare readonly bytesCopied: pulumi.Output<number>;
  declare readonly verified: pulumi.Output<boolean>;
  declare readonly manifestHash: pulumi.Output<string>;
  declare readonly sourceDeleted: pulumi.Output<boolean>;
  /** Why the source was kept though `deleteSource` is set; the next up after an update against the destination deletes it. */
  declare readonly sourceKept: pulumi.Output<string | undefined>;
  declare readonly extraAtDestination: pulumi.Output<string[]>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: StateStoreMigrationArgs, opts?: pulumi.CustomResourceOptions) {
    // A store setting given beside the URLs would be ignored (each end has its own): refused instead.
    const unknown = Object.keys(args).filter((k) => !(MIGRATION_OUTPUTS as readonly string[]).includes(k) && (args as Record<string, unknown>)[k] !== undefined);
    if (unknown.length > 0) {
      const settings = unknown.some((k) => (STORE_ACCESS_KEYS as readonly string[]).includes(k)) ? "; how each end is reached goes in sourceSettings and destinationSettings" : "";
      throw new ValidationError(`StateStoreMigration ${name}: ${unknown.join(", ")} ${unknown.length === 1 ? "is not an input" : "are not inputs"}${settings}`);
    }
    // The secret access keys reach state only as Pulumi secrets; the engine keeps them secret in the outputs too.
    const sealed = { ...args, sourceSettings: sealAccess(args.sourceSettings), destinationSettings: sealAccess(args.destinationSettings) };
    const inputs = withOutputKeys<MigrationOutputs>(sealed, MIGRATION_OUTPUTS);
    super("migration", "StateStoreMigration", name, inputs, opts);
  }
}
