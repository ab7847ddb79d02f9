// The public surface of the `kstate` package, listed by hand.
import type * as kops from "./schema/kops-types";

export {
  AlreadyExistsError, BackendError, ConflictError, IntegrityError, InvalidPathError, KstateError, NotFoundError, PermissionError,
  PreconditionFailedError, RefusedError, UnsupportedError, ValidationError, type ErrorCode,
} from "./vfs/errors";
export {
  StateStore, type StateStoreArgs, type ExistingBucket, type AwsBucketResource, type GcsBucketResource,
} from "./resources/state-store";
export type { GcsRoleBinding, IamPolicyDocument, IamPolicyStatement } from "./resources/policies";
export type { EncryptionType, StateStoreInputs, StateStoreOutputs } from "./providers/state-store";
export { ClusterConfig, type ClusterConfigArgs } from "./resources/cluster-config";
export type { ClusterConfigInputs, ClusterConfigOutputs } from "./providers/cluster-config";
export { ClusterUpdate, type ClusterUpdateArgs } from "./resources/cluster-update";
export type { ClusterUpdateInputs, ClusterUpdateOutputs } from "./providers/cluster-update";
export type { ClusterOptions } from "./ops/options";
export { type ClusterEncryption, DEFAULT_ENCRYPTED_PATTERNS, secretHash } from "./store/secrets";
export type { Ownership } from "./ops/cluster";
export type { DeepInput, PartInput } from "./resources/inputs";
export { type ClusterSpec, type InstanceGroupSpec, KOPS_VERSION } from "./schema/kops-types";
/** Every type of kops's API, by its Go name: `kops.KubeletConfigSpec` (`v1.EnvVar` is `kops.V1EnvVar`). */
export type { kops };
export { StateStoreMigration, type StateStoreMigrationArgs } from "./resources/migration";
export type { MigrationInputs, MigrationOutputs } from "./providers/migration";
export { getKubeconfig, getKubeconfigOutput, type GetKubeconfigArgs, type GetKubeconfigResult } from "./resources/kubeconfig";
