import { UnsupportedError } from "./errors";
import type { VfsPath } from "./path";

/** Server-side encryption of a bucket's objects. */
export type BucketEncryption =
  | { type: "none" }
  /** S3-managed keys (SSE-S3). */
  | { type: "AES256" }
  /** S3 with a KMS key (SSE-KMS). */
  | { type: "aws:kms"; kmsKeyId: string }
  /** GCS with Google-managed keys (always on). */
  | { type: "google-managed" }
  /** GCS with a customer-managed Cloud KMS key. */
  | { type: "cloud-kms"; kmsKeyName: string };

export interface BucketSettings {
  exists: boolean;
  versioning: boolean;
  encryption: BucketEncryption;
  /** Whether public access is blocked; undefined where the server cannot say. */
  publicAccessBlocked: boolean | undefined;
  /** The bucket's region or location, lower case (`us-east-1`, `europe-west1`); undefined where there is none. */
  location?: string;
}

export interface NewBucket {
  versioning: boolean;
  encryption: BucketEncryption;
  region?: string;
}

/**
 * Optional capability: manage the bucket (or folder) a store lives in. Methods throw the VFS
 * errors; `create` throws `AlreadyExistsError` when the bucket exists.
 */
export interface BucketAdmin {
  /** `s3://bucket`, `gs://bucket`, `file:///dir`. */
  readonly url: string;
  settings(): Promise<BucketSettings>;
  create(settings: NewBucket): Promise<void>;
  setVersioning(on: boolean): Promise<void>;
  setEncryption(encryption: BucketEncryption): Promise<void>;
  /** True when the bucket holds no object and no old object version. */
  isEmpty(): Promise<boolean>;
  /** Deletes the bucket; with `force`, every object and object version first. */
  delete(options: { force: boolean }): Promise<void>;
}

/** Optional capability of a path: the admin of the bucket (or folder) at the root of its store. */
export interface HasBucketAdmin {
  bucketAdmin(): BucketAdmin;
}

export function hasBucketAdmin(p: VfsPath): p is VfsPath & HasBucketAdmin {
  return typeof (p as Partial<HasBucketAdmin>).bucketAdmin === "function";
}

/** The bucket admin for the bucket or folder at the root of `path`; `UnsupportedError` where there is none. */
export function bucketAdmin(path: VfsPath): BucketAdmin {
  if (!hasBucketAdmin(path)) {
    throw new UnsupportedError(`${path.url}: this kind of store has no bucket to manage`, { url: path.url });
  }
  return path.bucketAdmin();
}
