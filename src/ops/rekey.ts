/**
 * Every client-side-encrypted file of a cluster re-encrypted under the current key (and files
 * the patterns name that are still plaintext encrypted), each write conditional on the revision
 * read; files already under the current key are left alone, so an interrupted rekey runs again.
 */
import { type ClusterStore, mapLimit } from "../store/cluster-store";
import { isEncryptedPath } from "../vfs/encrypted";

/** The cluster's files that were rewritten (paths in its folder, sorted), and how many it has. */
export async function rekeyCluster(store: ClusterStore, name: string): Promise<{ rewritten: string[]; files: number }> {
  await store.requireConfig(name);
  const folder = store.cluster(name);
  const files = await folder.listTree();
  const rewritten: string[] = [];
  await mapLimit(files, 8, async (f) => {
    const p = folder.join(...f.path.split("/"));
    if (isEncryptedPath(p) && (await p.rekey())) rewritten.push(f.path);
  });
  return { rewritten: rewritten.sort(), files: files.length };
}
