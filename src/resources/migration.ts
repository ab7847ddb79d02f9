import * as pulumi from "@pulumi/pulumi";
import type { MigrationInputs, MigrationOutputs } from "../providers/migration";
import { serializableProvider, withOutputKeys } from "../providers/serialize";

type Settable = Omit<MigrationInputs, "plan">;

export type StateStoreMigrationArgs = { [K in keyof Settable]: pulumi.Input<Settable[K]> };

/** @internal The provider object serialized into state with every StateStoreMigration. */
export const migrationProvider = serializableProvider<MigrationInputs, MigrationOutputs>("migration", __dirname.replace(/resources$/, "providers"));

/**
 * Moves one cluster's state from one store to another: copies what is missing, points
 * `spec.configBase` at the destination, verifies every file by hash, and deletes the source only
 * when asked and only after verifying. A second `up` with the same inputs does nothing; a new
 * destination runs a new migration; deleting the resource does not move anything back.
 */
export class StateStoreMigration extends pulumi.dynamic.Resource {
  declare readonly clusterName: pulumi.Output<string>;
  declare readonly source: pulumi.Output<string>;
  declare readonly destination: pulumi.Output<string>;
  declare readonly deleteSource: pulumi.Output<boolean>;
  declare readonly concurrency: pulumi.Output<number>;
  declare readonly plan: pulumi.Output<string[]>;
  declare readonly configBase: pulumi.Output<string>;
  declare readonly filesCopied: pulumi.Output<number>;
  declare readonly bytesCopied: pulumi.Output<number>;
  declare readonly verified: pulumi.Output<boolean>;
  declare readonly manifestHash: pulumi.Output<string>;
  declare readonly sourceDeleted: pulumi.Output<boolean>;
  declare readonly extraAtDestination: pulumi.Output<string[]>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: StateStoreMigrationArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = withOutputKeys<MigrationOutputs>(args, [
      "clusterName", "source", "destination", "deleteSource", "concurrency", "plan", "configBase", "filesCopied", "bytesCopied",
      "verified", "manifestHash", "sourceDeleted", "extraAtDestination", "schemaVersion",
    ]);
    super(migrationProvider, name, inputs, opts, "kstate", "StateStoreMigration");
  }
}
