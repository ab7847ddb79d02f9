/**
 * A cluster's state deleted as `kops delete cluster --unregister` deletes it: every file of its
 * folder, and only files kops itself knows (anything else there stops it, nothing deleted). Each
 * file goes only if it is still as listed; the config goes last, so until it does the cluster is
 * listed and the delete can be run again. A failed update kstate recorded for the cluster
 * (failed-update.ts, outside its folder) goes with it, after the config: it belongs to this cluster.
 */
import type { ClusterStore } from "../store/cluster-store";
import { CONFIG_FILE, isKopsFile } from "../store/layout";
import { RefusedError } from "../vfs/errors";
import type { Revision } from "../vfs/path";
import { clearFailedUpdate, failedUpdateUrl, readFailedUpdate } from "./failed-update";

type Doc = Record<string, any>;

export interface ClusterDeletion {
  name: string;
  url: string;
  /** The files to delete, relative to the cluster's folder, with the revision listed. */
  files: { path: string; revision: Revision | undefined }[];
  /** Stores the config names outside the cluster's folder, which kops deletes with the cluster and kstate leaves. */
  elsewhere: string[];
  /** The failed update kstate recorded for the cluster, deleted after its files; undefined when there is none. */
  failedUpdate?: string;
}

function storesElsewhere(config: Doc): string[] {
  const spec = config.spec ?? {};
  return [
    spec.secretStore && `secrets in ${spec.secretStore}`,
    spec.keyStore && spec.keyStore !== spec.secretStore && `keys in ${spec.keyStore}`,
    spec.serviceAccountIssuerDiscovery?.discoveryStore && `service-account discovery documents in ${spec.serviceAccountIssuerDiscovery.discoveryStore}`,
  ].filter((s): s is string => typeof s === "string");
}

/** What deleting the cluster would delete; a `RefusedError` listing files kops does not know. */
export async function planClusterDeletion(store: ClusterStore, name: string): Promise<ClusterDeletion> {
  const folder = store.cluster(name);
  const [config, listed, failed] = await Promise.all([store.readConfig(name), folder.listTree(), readFailedUpdate(store.root, name)]);
  if (config === undefined) {
    // Deleted by kops meanwhile (kops delete cluster leaves kstate's record): only the record is left to go.
    if (failed && listed.length === 0) return { name, url: folder.url, files: [], elsewhere: [], failedUpdate: failedUpdateUrl(store.root, name) };
    return store.noSuchCluster(name);
  }
  const files = listed.map((f) => ({ path: f.path, revision: f.revision }));
  const unknown = files.filter((f) => !isKopsFile(f.path)).map((f) => f.path);
  if (unknown.length > 0) throw new RefusedError(`refusing to delete cluster ${name}: ${folder.url} holds files kops does not know:\n  ${unknown.join("\n  ")}\nMove them away first; nothing was deleted.`);
  return { name, url: folder.url, files, elsewhere: storesElsewhere(config.doc.toJS() as Doc), ...(failed ? { failedUpdate: failedUpdateUrl(store.root, name) } : {}) };
}

/** Deletes the planned files, each only if unchanged since listed, the config last. */
export async function deleteClusterFiles(store: ClusterStore, plan: ClusterDeletion): Promise<void> {
  const folder = store.cluster(plan.name);
  const remove = (f: ClusterDeletion["files"][number]) => folder.join(f.path).remove(f.revision !== undefined ? { ifRevision: f.revision } : {});
  for (const f of plan.files.filter((x) => x.path !== CONFIG_FILE)) await remove(f);
  for (const f of plan.files.filter((x) => x.path === CONFIG_FILE)) await remove(f);
  if (plan.failedUpdate) await clearFailedUpdate(store.root, plan.name);
}
