// The public surface of the `kstate` package, listed by hand.
export {
  AlreadyExistsError, BackendError, ConflictError, InvalidPathError, KstateError, NotFoundError, PermissionError,
  PreconditionFailedError, RefusedError, ValidationError, type ErrorCode,
} from "./vfs/errors";
export {
  StateStore, type StateStoreArgs, type ExistingBucket, type AwsBucketResource, type GcsBucketResource,
} from "./resources/state-store";
export type { GcsRoleBinding, IamPolicyDocument, IamPolicyStatement } from "./resources/policies";
export type { EncryptionType, StateStoreInputs, StateStoreOutputs } from "./providers/state-store";
export { ClusterConfig, type ClusterConfigArgs } from "./resources/cluster-config";
export type { ClusterConfigInputs, ClusterConfigOutputs } from "./providers/cluster-config";
export type { ClusterOptions } from "./ops/options";
export { type ClusterEncryption, DEFAULT_ENCRYPTED_PATTERNS, secretHash } from "./store/secrets";
export type { Ownership } from "./ops/cluster";
export type { DeepInput } from "./resources/inputs";
export { StateStoreMigration, type StateStoreMigrationArgs } from "./resources/migration";
export type { MigrationInputs, MigrationOutputs } from "./providers/migration";
