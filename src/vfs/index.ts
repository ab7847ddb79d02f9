export { openPath, DEFAULT_TIMEOUT_MS, type OpenOptions } from "./context";
export * from "./errors";
export {
  hasVersions, type FileInfo, type FileVersion, type HasVersions, type ListTreeOptions, type ReadResult,
  type ReadStreamResult, type RemoveOptions, type Revision, type StreamWriteOptions, type TreeVersion, type VfsPath, type WriteOptions,
  type WriteResult,
} from "./path";
export { readIfPresent, statIfPresent } from "./absent";
export { resetMemoryStore } from "./memory";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry";
export type { S3Encryption, S3Options } from "./s3";
export type { GcsOptions } from "./gcs";
export { canonicalUrl, parseUrl, type ParsedUrl, type Scheme } from "./url";
export { bucketAdmin, type BucketAdmin, type BucketEncryption, type BucketSettings, type NewBucket } from "./bucket";
export { copyFile, md5Of, type CopyResult } from "./copy";
export type { ClientSideEncryption } from "./encrypted";
export { isEnvelope, SCRYPT } from "./envelope";
