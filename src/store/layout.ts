/**
 * The kops state store layout under `{store}/{cluster}/` (= `spec.configBase`), as kops's
 * vfsclientset reads and writes it.
 */
import { schemeOfUrl, schemesWhere } from "../vfs/schemes";

export const CONFIG_FILE = "config";
/** What `kops update cluster` writes: the whole cluster as it applied it, `spec.configBase` included. */
export const COMPLETED_SPEC = "cluster-completed.spec";
export const INSTANCE_GROUP_DIR = "instancegroup";
export const API_VERSION = "kops.k8s.io/v1alpha2";
/** Read and rewritten as API_VERSION, as kops does. */
export const LEGACY_API_VERSION = "kops/v1alpha2";
export const CLUSTER_LABEL = "kops.k8s.io/cluster";

/**
 * `spec.configBase` of a cluster's folder (`{store}/{cluster}`): its URL, a local folder as a plain
 * path, as kops writes it. Every road that writes or moves a cluster sets it with this.
 */
export function configBaseOf(folderUrl: string): string {
  const url = folderUrl.replace(/\/$/, "");
  const scheme = schemeOfUrl(url);
  return scheme?.configBase === "path" ? url.slice(`${scheme.scheme}://`.length) : url;
}

/**
 * The store and cluster of a `spec.configBase` (`s3://bucket/NAME`, or a plain path for the
 * schemes that write one): the inverse of configBaseOf. Undefined when it names no `STORE/NAME`.
 */
export function clusterOfConfigBase(configBase: string): { store: string; name: string } | undefined {
  const pathScheme = configBase.startsWith("/") ? schemesWhere((s) => s.configBase === "path")[0] : undefined;
  const url = (pathScheme ? `${pathScheme.scheme}://${configBase}` : configBase).replace(/\/+$/, "");
  const at = url.lastIndexOf("/");
  const store = url.slice(0, at);
  const name = url.slice(at + 1);
  return at > 0 && name !== "" && schemeOfUrl(store) !== undefined && /^[a-z0-9]+:\/\/./.test(store) ? { store, name } : undefined;
}

/** Single files kops may keep in a cluster's folder. */
export const KOPS_FILES = ["config", "cluster.spec", "cluster-completed.spec", "kops-version.txt"] as const;

/** Folders kops may keep in a cluster's folder; any other file makes `kops delete cluster` refuse. */
export const KOPS_FOLDERS = ["addons", "clusteraddons", "pki", "secrets", "instancegroup", "igconfig", "manifests", "backups"] as const;

/** State kops itself manages (keys, secrets, rendered addons and backups), beyond the documents kstate writes. */
export const KOPS_MANAGED_FOLDERS = ["addons", "clusteraddons", "pki", "secrets", "igconfig", "manifests", "backups"] as const;

/** Whether kops recognises a file (path relative to the cluster folder) as its own. */
export function isKopsFile(relative: string): boolean {
  if ((KOPS_FILES as readonly string[]).includes(relative)) return true;
  const top = relative.split("/")[0]!;
  return relative.includes("/") && (KOPS_FOLDERS as readonly string[]).includes(top);
}

export function isKopsManagedState(relative: string): boolean {
  const top = relative.split("/")[0]!;
  if (relative === "cluster-completed.spec" || relative === "kops-version.txt") return true;
  return relative.includes("/") && (KOPS_MANAGED_FOLDERS as readonly string[]).includes(top);
}

/** Where kops keeps the admin SSH public keys, by id (the MD5 fingerprint in hex, without colons). */
export const SSH_PUBLIC_KEY_DIR = "pki/ssh/public/admin";

export function sshPublicKeyFile(id: string): string {
  return `${SSH_PUBLIC_KEY_DIR}/${id}`;
}
