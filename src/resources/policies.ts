/**
 * One statement of an AWS IAM policy, as kstate writes them: assignable to @pulumi/aws's
 * `aws.iam.PolicyStatement`, without kstate's types importing @pulumi/aws.
 */
export interface IamPolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string | string[];
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

/** IAM policy letting a principal read a kops state store on S3 (as `kops get` needs). */
export function s3ReadPolicy(bucket: string): IamPolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListStateStore", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"], Resource: `arn:aws:s3:::${bucket}` },
      { Sid: "ReadStateStore", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: `arn:aws:s3:::${bucket}/*` },
    ],
  };
}

/** IAM policy letting a principal read and write a kops state store on S3 (kops and kstate). */
export function s3WritePolicy(bucket: string): IamPolicyDocument {
  const read = s3ReadPolicy(bucket);
  return {
    ...read,
    Statement: [
      ...read.Statement,
      { Sid: "CheckBucketEncryption", Effect: "Allow", Action: ["s3:GetEncryptionConfiguration"], Resource: `arn:aws:s3:::${bucket}` },
      { Sid: "WriteStateStore", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: `arn:aws:s3:::${bucket}/*` },
    ],
  };
}

export function gcsReadBindings(bucket: string): GcsRoleBinding[] {
  return [{ bucket, role: "roles/storage.objectViewer" }];
}

export function gcsWriteBindings(bucket: string): GcsRoleBinding[] {
  return [{ bucket, role: "roles/storage.objectAdmin" }];
}
