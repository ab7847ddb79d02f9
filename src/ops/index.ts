// `kstate/ops`: the logic the CLI and the Pulumi providers share.
export { syncCluster, rewriteConfigBase, sourceKeptBecause, updatedAgainst, type SyncOptions, type SyncProgress, type SyncResult } from "./migrate";
export {
  applyCluster, planCluster, describeChanges, diffDocuments, ownershipChanges,
  type AppliedCluster, type ApplyOptions, type ClusterPlan, type ClusterRequest, type FieldChange, type FileChange, type Ownership,
} from "./cluster";
export { applyOverlay, flatten, mergeOverlay } from "./merge";
export { checkOptions, OPTION_NAMES, type ClusterOptions } from "./options";
export { expandOptions, type Expansion } from "./expand";
export { validateCluster, validateInstanceGroup, validateClusterWithGroups, validationError, type Problem } from "./validate";
export {
  applyAdminSshKey, planAdminSshKey, planClusterSshKey, planDeleteAdminSshKeys, readAdminSshKeys,
  type AdminSshKeyPlan, type StoredSshKey,
} from "./admin-ssh-key";
export { planSshPublicKey, type PlannedSshKey } from "./ssh-key";
export { checkTypedSecret, isTypedSecret, TYPED_SECRETS, type TypedSecret } from "./typed-secrets";
export {
  applyCaImport, applyKeypairPlan, listKeypairs, planCaImport, planDistrustKeypair, planGenerateKeypair, planImportKeypair, planPromoteKeypair, planTrustKeypair, readKeypairMaterial,
  type KeypairItem, type KeypairPlan,
} from "./keypairs";
export { adminKubeconfig, buildAdminKubeconfig, mergeKubeconfig, type KubeconfigOptions } from "./kubeconfig";
export { applyClusterKeys, planClusterKeys, sshFingerprint, type ClusterKeysPlan, type ClusterKeysRequest } from "./cluster-keys";
