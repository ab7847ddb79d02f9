export { openPath, DEFAULT_TIMEOUT_MS, type OpenOptions } from "./open";
export { type Environment, resolveKmsSettings, resolveStoreSettings, type StoreSettings } from "./settings";
export {
  AlreadyExistsError, BackendError, ConflictError, type ErrorCode, IntegrityError, InvalidPathError, KstateError, type KstateErrorOptions,
  NotFoundError, PermissionError, PreconditionFailedError, RefusedError, UnsupportedError, ValidationError,
} from "./errors";
export {
  canServerCopy, hasVersions, type CanServerCopy, type FileInfo, type FileVersion, type HasVersions, type ListTreeOptions, type ReadResult,
  type ReadStreamResult, type RemoveOptions, type Revision, type StreamWriteOptions, type TreeVersion, type VfsPath, type WriteOptions,
  type WriteResult,
} from "./path";
export { readIfPresent, statIfPresent } from "./absent";
export { resetMemoryStore } from "./memory/backend";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry";
export type { S3Encryption, S3Options } from "./s3/session";
export type { GcsOptions } from "./gcs/session";
export { canonicalUrl, parseUrl, type ParsedUrl, type Scheme } from "./url";
export { bucketAdmin, hasBucketAdmin, type BucketAdmin, type BucketEncryption, type BucketSettings, type HasBucketAdmin, type NewBucket } from "./bucket";
export { copyFile, md5Of, type CopyResult } from "./copy";
export type { ClientSideEncryption } from "./encrypted";
export { isEnvelope, SCRYPT } from "./envelope";
export { SCHEMES, schemeOfUrl, type SchemeFacts } from "./schemes";
export { DEFAULT_VFS_CONTEXT, VfsContext } from "./vfs-context";
