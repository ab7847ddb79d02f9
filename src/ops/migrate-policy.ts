/**
 * A migration and the two stores' encryption policies (store/encryption-policy.ts). A policy
 * belongs to a store, not to a cluster, and a migration copies files as stored. So:
 *
 * - every source file the destination's policy will name must already be sealed (else the
 *   destination would hold it in plaintext under a policy): refused before anything is copied;
 * - where the source keeps one and the destination none, the cluster takes it along: it is recorded
 *   at the destination, first, when the destination holds no other cluster (nothing else there is
 *   bound by it); with other clusters there the move is refused, because recording it would bind
 *   clusters that never asked, and leaving it behind would put plaintext written later beside the
 *   sealed files copied now.
 *
 * The plan decides this before anything is written, and the preview shows the policy it records.
 */
import { ClusterStore, mapLimit } from "../store/cluster-store";
import { describePolicy, type EncryptionPolicy, POLICY_FILE, policyText, readPolicy } from "../store/encryption-policy";
import { globToRegExp } from "../vfs/encrypted";
import { isEnvelope } from "../vfs/envelope";
import { AlreadyExistsError, ConflictError, RefusedError } from "../vfs/errors";
import type { FileInfo, VfsPath } from "../vfs/path";

/** The roots of the stores a cluster moves between (the cluster folders are below them). */
export interface MigrationStores {
  source: VfsPath;
  destination: VfsPath;
}

export interface StorePolicies {
  source: EncryptionPolicy | undefined;
  destination: EncryptionPolicy | undefined;
}

/** The source store's policy, to be recorded at the destination before anything is copied. */
export interface CarriedPolicy {
  file: VfsPath;
  policy: EncryptionPolicy;
}

/** The carried policy as plans say it, the gist first (a preview shows only the start of a line). */
export function describeCarried(carried: { url: string; policy: EncryptionPolicy }): string {
  return `record the source store's encryption policy (the destination keeps none): ${describePolicy(carried.policy)}, in ${carried.url}`;
}

/** Both stores' recorded policies, read at once (beside a plan's listings). */
export async function readPolicies(stores: MigrationStores): Promise<StorePolicies> {
  const [source, destination] = await Promise.all([readPolicy(stores.source), readPolicy(stores.destination)]);
  return { source: source?.policy, destination: destination?.policy };
}

/**
 * Checks the move of `source` (a cluster folder, holding `files`) to `destination` against the
 * stores' policies, and returns the policy to record at the destination, if any. Writes nothing.
 */
export async function policyForDestination(stores: MigrationStores, policies: StorePolicies, source: VfsPath, destination: VfsPath, files: FileInfo[]): Promise<CarriedPolicy | undefined> {
  if (policies.destination) {
    await refusePlaintext(source, destination, files, policies.destination, "kept");
    return undefined;
  }
  const policy = policies.source;
  if (!policy) return undefined;
  const others = (await new ClusterStore(stores.destination).listClusters()).filter((name) => name !== destination.base);
  if (others.length > 0) {
    const named = `${others.slice(0, 5).join(", ")}${others.length > 5 ? `, and ${others.length - 5} more` : ""}`;
    throw new RefusedError(
      `migrate to ${destination.url}: the source store keeps ${describePolicy(policy)} (recorded in ${POLICY_FILE}), and the destination store records no policy while it holds other clusters (${named}); nothing was copied. `
        + `Recording the policy there would bind those clusters too, and leaving it behind would put plaintext written later beside the sealed files copied now. Record a policy at ${stores.destination.url} first (kstate encryption set --state ${stores.destination.url}, or the StateStore's clientSideEncryption), or move the cluster to a store of its own`,
      { url: destination.url },
    );
  }
  await refusePlaintext(source, destination, files, policy, "carried");
  return { file: stores.destination.join(...POLICY_FILE.split("/")), policy };
}

/**
 * Records the carried policy at the destination, only if it is still absent (or already the same
 * text): a policy someone recorded there since the plan is left as it is, and the run stops.
 */
export async function recordCarriedPolicy(carried: CarriedPolicy): Promise<void> {
  const text = policyText(carried.policy);
  try {
    await carried.file.create(text);
  } catch (e) {
    if (!AlreadyExistsError.isInstance(e)) throw e;
    const now = (await carried.file.read()).data.toString("utf8");
    if (now !== text) throw new ConflictError(`${carried.file.url}: another encryption policy was recorded there after the plan read none; nothing was copied. Run the migration again to check the move against it`, { url: carried.file.url });
  }
}

/**
 * Refuses a move that would put plaintext where the destination's policy (`kept` there, or
 * `carried` from the source) wants ciphertext: files stored before a policy still read where they
 * are, but a move does not take them into a store under one.
 */
async function refusePlaintext(source: VfsPath, destination: VfsPath, files: FileInfo[], policy: EncryptionPolicy, whose: "kept" | "carried"): Promise<void> {
  const patterns = policy.patterns.map(globToRegExp);
  const named = files.filter((f) => patterns.some((p) => p.test(f.path)));
  const plain: string[] = [];
  await mapLimit(named, 16, async (f) => {
    if (!isEnvelope((await source.join(f.path).read()).data)) plain.push(f.path);
  });
  if (plain.length === 0) return;
  plain.sort();
  const policyIs = whose === "kept"
    ? `the destination store keeps ${describePolicy(policy)} (recorded in ${POLICY_FILE})`
    : `the source store keeps ${describePolicy(policy)} (recorded in ${POLICY_FILE}), which the move records at the destination`;
  const remedy = whose === "kept" ? "Encrypt them at the source first (kstate rekey with the same key and patterns), or clear the destination's policy (kstate encryption clear)" : "Encrypt them at the source first (kstate rekey with the store's key and patterns)";
  throw new RefusedError(
    `migrate to ${destination.url}: ${policyIs}, and ${plain.length === 1 ? "this file is" : `these ${plain.length} files are`} plaintext in ${source.url} (${plain.slice(0, 5).join(", ")}${plain.length > 5 ? ", …" : ""}); nothing was copied. ${remedy}`,
    { url: destination.url },
  );
}
