import * as pulumi from "@pulumi/pulumi";
import type * as aws from "@pulumi/aws";
import type * as gcp from "@pulumi/gcp";
import { serializableProvider, withOutputKeys } from "../providers/serialize";
import type { EncryptionType, StateStoreInputs, StateStoreOutputs } from "../providers/state-store";
import type { ClusterEncryption } from "../store/secrets";
import { gcsReadBindings, gcsWriteBindings, type GcsRoleBinding, s3ReadPolicy, s3WritePolicy } from "./policies";

/** The bucket resources of @pulumi/aws and @pulumi/gcp a StateStore can sit on instead of a URL. */
export type ExistingBucket = aws.s3.Bucket | aws.s3.BucketV2 | gcp.storage.Bucket;

export type StateStoreArgs = {
  [K in keyof StateStoreInputs]?: pulumi.Input<StateStoreInputs[K]>;
} & {
  /**
   * A bucket managed by @pulumi/aws or @pulumi/gcp, instead of `url`. The StateStore then adopts
   * it, sets its versioning and encryption, and never deletes it (its own resource does).
   */
  existingBucket?: ExistingBucket;
};

/** @internal The provider object serialized into state with every StateStore. */
export const stateStoreProvider = serializableProvider<StateStoreInputs, StateStoreOutputs>("state-store", __dirname.replace(/resources$/, "providers"));

function isAwsBucket(b: object): b is aws.s3.Bucket | aws.s3.BucketV2 {
  // Only loaded when a bucket resource is passed: @pulumi/aws is large.
  const s3 = require("@pulumi/aws/s3") as typeof aws.s3;
  return s3.Bucket.isInstance(b) || s3.BucketV2.isInstance(b);
}

function isGcpBucket(b: object): b is gcp.storage.Bucket {
  return (require("@pulumi/gcp/storage") as typeof gcp.storage).Bucket.isInstance(b);
}

/** The url (and adoption) for an existing bucket resource. */
function fromBucket(bucket: ExistingBucket): { url: pulumi.Output<string> } {
  if (isAwsBucket(bucket)) return { url: pulumi.interpolate`s3://${bucket.bucket}` };
  if (isGcpBucket(bucket)) return { url: pulumi.interpolate`gs://${bucket.name}` };
  throw new Error("StateStore: `existingBucket` must be an aws.s3.Bucket, aws.s3.BucketV2 or gcp.storage.Bucket");
}

/**
 * A bucket (or local folder) that holds kops cluster state: created with versioning, default
 * encryption and public access blocked; refused on destroy while it still holds state, unless
 * `forceDestroy`.
 */
export class StateStore extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  declare readonly bucket: pulumi.Output<string>;
  declare readonly scheme: pulumi.Output<string>;
  declare readonly region: pulumi.Output<string | undefined>;
  declare readonly endpoint: pulumi.Output<string | undefined>;
  declare readonly versioning: pulumi.Output<boolean>;
  declare readonly encryption: pulumi.Output<EncryptionType>;
  declare readonly kmsKeyId: pulumi.Output<string | undefined>;
  declare readonly forceDestroy: pulumi.Output<boolean>;
  declare readonly adoptExisting: pulumi.Output<boolean>;
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly publicAccessBlocked: pulumi.Output<boolean | undefined>;
  /** The client-side encryption settings (secret), to pass on to each ClusterConfig of the store. */
  declare readonly clientSideEncryption: pulumi.Output<ClusterEncryption | undefined>;
  declare readonly schemaVersion: pulumi.Output<number>;
  /** IAM policy to read the store (s3:// stores). */
  readonly readPolicy: pulumi.Output<aws.iam.PolicyDocument | undefined>;
  /** IAM policy to read and write the store (s3:// stores). */
  readonly writePolicy: pulumi.Output<aws.iam.PolicyDocument | undefined>;
  /** Roles to read the store (gs:// stores), for gcp.storage.BucketIAMMember. */
  readonly readBindings: pulumi.Output<GcsRoleBinding[] | undefined>;
  /** Roles to read and write the store (gs:// stores). */
  readonly writeBindings: pulumi.Output<GcsRoleBinding[] | undefined>;

  constructor(name: string, args: StateStoreArgs, opts?: pulumi.CustomResourceOptions) {
    const { existingBucket, ...rest } = args;
    const inputs: Record<string, unknown> = { ...rest };
    // The key reaches state only as a Pulumi secret (encrypted by the stack's secrets provider).
    if (rest.clientSideEncryption !== undefined) inputs.clientSideEncryption = pulumi.secret(rest.clientSideEncryption);
    if (existingBucket) {
      if (args.url !== undefined) throw new Error(`StateStore ${name}: give either url or existingBucket, not both`);
      Object.assign(inputs, fromBucket(existingBucket), { adoptExisting: true });
    }
    const props = withOutputKeys<StateStoreOutputs>(inputs, [
      "url", "bucket", "scheme", "region", "endpoint", "versioning", "encryption", "kmsKeyId", "forceDestroy", "adoptExisting",
      "adopted", "publicAccessBlocked", "clientSideEncryption", "schemaVersion",
    ]);
    super(stateStoreProvider, name, props, {
      ...opts,
      ...(existingBucket ? { dependsOn: [existingBucket] } : {}),
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "clientSideEncryption"],
    }, "kstate", "StateStore");
    const parsed = pulumi.all([this.scheme, this.bucket]);
    this.readPolicy = parsed.apply(([scheme, b]) => (scheme === "s3" ? s3ReadPolicy(b) : undefined));
    this.writePolicy = parsed.apply(([scheme, b]) => (scheme === "s3" ? s3WritePolicy(b) : undefined));
    this.readBindings = parsed.apply(([scheme, b]) => (scheme === "gs" ? gcsReadBindings(b) : undefined));
    this.writeBindings = parsed.apply(([scheme, b]) => (scheme === "gs" ? gcsWriteBindings(b) : undefined));
  }
}
