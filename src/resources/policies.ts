/**
 * One statement of an AWS IAM policy, as kstate writes them: assignable to @pulumi/aws's
 * `aws.iam.PolicyStatement`, without kstate's types importing @pulumi/aws.
 */
export interface IamPolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An AWS IAM policy document, assignable to `aws.iam.PolicyDocument` (e.g. `aws.iam.Policy`'s `policy`). */
export interface IamPolicyDocument {
  Version: "2012-10-17";
  Statement: IamPolicyStatement[];
}

/** One role on a GCS bucket, in the shape `gcp.storage.BucketIAMMember` takes (add `member`). */
export interface GcsRoleBinding {
  bucket: string;
  role: string;
}

/** The KMS keys a store's objects are sealed with: the bucket's SSE-KMS key and the client-side one. */
export interface StoreKmsKeys {
  /** The bucket's default encryption key (`encryption: "aws:kms"`): id, ARN or alias. */
  sse?: string | undefined;
  /** The client-side encryption key (`clientSideEncryption.awsKmsKeyId`): id, ARN or alias. */
  clientSide?: string | undefined;
}

/**
 * Where a statement on a KMS key points: an ARN as given; a bare key id as a key ARN in any region
 * and account; an alias (which IAM does not match as a resource) as any key carrying that alias.
 */
function kmsStatement(sid: string, actions: string[], key: string): IamPolicyStatement {
  if (key.startsWith("arn:") && !key.includes(":alias/")) return { Sid: sid, Effect: "Allow", Action: actions, Resource: key };
  const alias = key.startsWith("arn:") ? key.slice(key.indexOf(":alias/") + 1) : key.startsWith("alias/") ? key : undefined;
  if (alias) return { Sid: sid, Effect: "Allow", Action: actions, Resource: "arn:aws:kms:*:*:key/*", Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": alias } } };
  return { Sid: sid, Effect: "Allow", Action: actions, Resource: `arn:aws:kms:*:*:key/${key}` };
}

/** IAM policy letting a principal read a kops state store on S3 (as `kops get` and nodes need). */
export function s3ReadPolicy(bucket: string, keys: StoreKmsKeys = {}): IamPolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListStateStore", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"], Resource: `arn:aws:s3:::${bucket}` },
      { Sid: "ReadStateStore", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: `arn:aws:s3:::${bucket}/*` },
      // SSE-KMS: reading an object decrypts it under the bucket's key (kops#5532).
      ...(keys.sse ? [kmsStatement("DecryptStateStoreSse", ["kms:Decrypt"], keys.sse)] : []),
      // Client-side AWS KMS: each file's data key is unwrapped with Decrypt.
      ...(keys.clientSide ? [kmsStatement("DecryptStateStoreClientSide", ["kms:Decrypt"], keys.clientSide)] : []),
    ],
  };
}

/** IAM policy letting a principal read and write a kops state store on S3 (kops and kstate). */
export function s3WritePolicy(bucket: string, keys: StoreKmsKeys = {}): IamPolicyDocument {
  const read = s3ReadPolicy(bucket, keys);
  return {
    ...read,
    Statement: [
      ...read.Statement,
      { Sid: "CheckBucketEncryption", Effect: "Allow", Action: ["s3:GetEncryptionConfiguration"], Resource: `arn:aws:s3:::${bucket}` },
      { Sid: "WriteStateStore", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: `arn:aws:s3:::${bucket}/*` },
      // SSE-KMS: a put asks KMS for a data key (GenerateDataKey); a multipart upload also decrypts it.
      ...(keys.sse ? [kmsStatement("EncryptStateStoreSse", ["kms:GenerateDataKey"], keys.sse)] : []),
      // Client-side AWS KMS: kstate wraps each file's data key with Encrypt.
      ...(keys.clientSide ? [kmsStatement("EncryptStateStoreClientSide", ["kms:Encrypt"], keys.clientSide)] : []),
    ],
  };
}

export function gcsReadBindings(bucket: string): GcsRoleBinding[] {
  return [{ bucket, role: "roles/storage.objectViewer" }];
}

export function gcsWriteBindings(bucket: string): GcsRoleBinding[] {
  return [{ bucket, role: "roles/storage.objectAdmin" }];
}

/** A store as its StateStore outputs describe it: enough to grant access to it. */
export interface StoreFacts {
  scheme: string;
  bucket: string;
  encryption?: string | undefined;
  kmsKeyId?: string | undefined;
  /** `clientSideEncryption.awsKmsKeyId` (the key's id only: the rest of those settings is secret). */
  clientSideKmsKeyId?: string | undefined;
}

/** A StateStore's access grants: IAM policies on S3, role bindings on GCS, none elsewhere. */
export function storePolicies(s: StoreFacts): { readPolicy?: IamPolicyDocument; writePolicy?: IamPolicyDocument; readBindings?: GcsRoleBinding[]; writeBindings?: GcsRoleBinding[] } {
  const keys: StoreKmsKeys = { sse: s.encryption === "aws:kms" ? s.kmsKeyId : undefined, clientSide: s.clientSideKmsKeyId };
  if (s.scheme === "s3") return { readPolicy: s3ReadPolicy(s.bucket, keys), writePolicy: s3WritePolicy(s.bucket, keys) };
  if (s.scheme === "gs") return { readBindings: gcsReadBindings(s.bucket), writeBindings: gcsWriteBindings(s.bucket) };
  return {};
}
