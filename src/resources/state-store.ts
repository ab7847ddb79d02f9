import { ValidationError } from "../vfs/errors";
import * as pulumi from "@pulumi/pulumi";
import { withOutputKeys } from "../providers/serialize";
import { type EncryptionType, STATE_STORE_OUTPUTS, type StateStoreInputs, type StateStoreOutputs } from "../providers/state-store";
import type { ClusterEncryption } from "../store/secrets";
import { type SchemeFacts, schemesWhere } from "../vfs/schemes";
import { KstateResource } from "./dynamic-resource";
import { sealAccess, type StoreAccessOutputs } from "./inputs";
import { type GcsRoleBinding, type IamPolicyDocument, storePolicies } from "./policies";

/**
 * An `aws.s3.Bucket` or `aws.s3.BucketV2` of @pulumi/aws, by shape: kstate's types do not import
 * @pulumi/aws, so a program compiles without it. At run time the resource's type token decides.
 */
export interface AwsBucketResource {
  readonly urn: pulumi.Output<string>;
  readonly bucket: pulumi.Output<string>;
}

/** A `gcp.storage.Bucket` of @pulumi/gcp, by shape (as AwsBucketResource). */
export interface GcsBucketResource {
  readonly urn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
}

/** The bucket resources of @pulumi/aws and @pulumi/gcp a StateStore can sit on instead of a URL. */
export type ExistingBucket = AwsBucketResource | GcsBucketResource;

/** The scheme whose store a bucket resource of this type token is (schemes.ts lists the tokens). */
function schemeOfBucketType(token: string): SchemeFacts | undefined {
  return schemesWhere((s) => s.bucketResources?.types.includes(token) === true)[0];
}

export type StateStoreArgs = {
  [K in keyof StateStoreInputs]?: pulumi.Input<StateStoreInputs[K]>;
} & {
  /**
   * A bucket managed by @pulumi/aws or @pulumi/gcp, instead of `url`. The StateStore then adopts
   * it, sets its versioning and encryption, and never deletes it (its own resource does).
   */
  existingBucket?: ExistingBucket;
};

/**
 * The url for an existing bucket resource. The resource is recognised by the type token every
 * Pulumi resource carries as `__pulumiType`, which is what the providers' own `isInstance` checks,
 * so it works whichever copy or version of @pulumi/aws or @pulumi/gcp made it.
 */
function fromBucket(bucket: ExistingBucket): { url: pulumi.Output<string> } {
  const token = (bucket as { __pulumiType?: unknown }).__pulumiType;
  const scheme = typeof token === "string" ? schemeOfBucketType(token) : undefined;
  const name = scheme?.bucketResources && (bucket as unknown as Record<string, pulumi.Output<string> | undefined>)[scheme.bucketResources.nameProperty];
  if (scheme && name) return { url: pulumi.interpolate`${scheme.scheme}://${name}` };
  throw new ValidationError("StateStore: `existingBucket` must be an aws.s3.Bucket, aws.s3.BucketV2 or gcp.storage.Bucket");
}

/** Its outputs `region`, `endpoint`, `project`, `accessKeyId`, `secretAccessKey` and `sessionToken`. */
export interface StateStore extends StoreAccessOutputs {}

/**
 * A bucket (or local folder) that holds kops cluster state: created with versioning, default
 * encryption and public access blocked; refused on destroy while it still holds state, unless
 * `forceDestroy`.
 */
export class StateStore extends KstateResource {
  declare readonly url: pulumi.Output<string>;
  declare readonly bucket: pulumi.Output<string>;
  declare readonly scheme: pulumi.Output<string>;
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
  readonly readPolicy: pulumi.Output<IamPolicyDocument | undefined>;
  /** IAM policy to read and write the store (s3:// stores). */
  readonly writePolicy: pulumi.Output<IamPolicyDocument | undefined>;
  /** Roles to read the store (gs:// stores), for gcp.storage.BucketIAMMember. */
  readonly readBindings: pulumi.Output<GcsRoleBinding[] | undefined>;
  /** Roles to read and write the store (gs:// stores). */
  readonly writeBindings: pulumi.Output<GcsRoleBinding[] | undefined>;

  constructor(name: string, args: StateStoreArgs, opts?: pulumi.CustomResourceOptions) {
    const { existingBucket, ...rest } = args;
    // The key and the secret access key reach state only as Pulumi secrets (encrypted by the stack's secrets provider).
    const inputs: Record<string, unknown> = { ...(sealAccess(rest) as typeof rest) };
    if (rest.clientSideEncryption !== undefined) inputs.clientSideEncryption = pulumi.secret(rest.clientSideEncryption);
    if (existingBucket) {
      if (args.url !== undefined) throw new ValidationError(`StateStore ${name}: give either url or existingBucket, not both`);
      Object.assign(inputs, fromBucket(existingBucket), { adoptExisting: true });
    }
    const props = withOutputKeys<StateStoreOutputs>(inputs, STATE_STORE_OUTPUTS);
    super("stateStore", "StateStore", name, props, {
      ...opts,
      // A recognised bucket (fromBucket) is a resource.
      ...(existingBucket ? { dependsOn: [existingBucket as unknown as pulumi.Resource] } : {}),
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "clientSideEncryption", "secretAccessKey", "sessionToken"],
    });
    // The client-side key's id comes from the inputs, so the policies are not secret as the whole
    // clientSideEncryption output is.
    const policies = pulumi.all([this.scheme, this.bucket, this.encryption, this.kmsKeyId, pulumi.output(rest.clientSideEncryption).apply((c) => c?.awsKmsKeyId)])
      .apply(([scheme, bucket, encryption, kmsKeyId, clientSideKmsKeyId]) => storePolicies({ scheme, bucket, encryption, kmsKeyId, clientSideKmsKeyId }));
    this.readPolicy = policies.apply((p) => p.readPolicy);
    this.writePolicy = policies.apply((p) => p.writePolicy);
    this.readBindings = policies.apply((p) => p.readBindings);
    this.writeBindings = policies.apply((p) => p.writeBindings);
  }
}
