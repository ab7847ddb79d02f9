/**
 * Setting and clearing a store's recorded client-side encryption policy (store/encryption-policy.ts),
 * shared by `kstate encryption` and the StateStore provider. Every refusal is decided before the
 * policy file is written; the write is conditional on what was read.
 */
import { ClusterStore } from "../store/cluster-store";
import { describePolicy, type EncryptionPolicy, isKopsManaged, kopsReadPatterns, POLICY_FILE, policyOf, policyText, readPolicy } from "../store/encryption-policy";
import type { ClusterEncryption } from "../store/secrets";
import { RefusedError } from "../vfs/errors";
import type { VfsPath } from "../vfs/path";

/** The clusters of the store at `root` that kops manages and whose kops-read files `policy` would seal. */
export async function clustersBrokenBy(root: VfsPath, policy: EncryptionPolicy): Promise<{ clusters: string[]; patterns: string[] }> {
  const patterns = kopsReadPatterns(policy.patterns);
  if (patterns.length === 0 || policy.allowEncryptingKopsReads) return { clusters: [], patterns };
  const clusters: string[] = [];
  for (const name of await new ClusterStore(root).listClusters()) {
    if (await isKopsManaged(root.join(name))) clusters.push(name);
  }
  return { clusters, patterns };
}

/**
 * Records `settings`' policy (never its key) in the store at `root` (opened without encryption).
 * Refused, with nothing written, when its patterns take in files kops reads on a cluster kops
 * manages and `allowEncryptingKopsReads` is not set. Returns whether the file changed.
 */
export async function setEncryptionPolicy(root: VfsPath, settings: ClusterEncryption): Promise<{ policy: EncryptionPolicy; changed: boolean }> {
  const policy = policyOf(settings);
  const { clusters, patterns } = await clustersBrokenBy(root, policy);
  if (clusters.length > 0) {
    throw new RefusedError(
      `refusing to record ${describePolicy(policy)} in ${root.url}: kops manages ${clusters.join(", ")} (kops-version.txt or cluster-completed.spec), and ${patterns.join(", ")} would encrypt files kops or its nodes read, which breaks kops's next update and node boot. `
        + "Nothing was written. Encrypt other files, use SSE-KMS instead, or accept it with --encrypt-breaks-kops (allowEncryptingKopsReads: true)",
      { url: root.url },
    );
  }
  const file = root.join(...POLICY_FILE.split("/"));
  const current = await readPolicy(root).catch(() => undefined);
  const text = policyText(policy);
  if (current && policyText(current.policy) === text) return { policy, changed: false };
  if (current) await file.write(text, { ifRevision: current.revision });
  else {
    const raw = await file.stat().then((s) => s.revision, () => undefined);
    // A damaged file is replaced conditionally; an absent one is created only if still absent.
    if (raw !== undefined) await file.write(text, { ifRevision: raw });
    else await file.create(text);
  }
  return { policy, changed: true };
}

/** Removes the recorded policy (conditionally on the revision read); false when there was none. */
export async function clearEncryptionPolicy(root: VfsPath): Promise<boolean> {
  const file = root.join(...POLICY_FILE.split("/"));
  const revision = await file.stat().then((s) => s.revision, () => undefined);
  if (revision === undefined) return false;
  await file.remove({ ifRevision: revision });
  return true;
}
