/**
 * A `kops update cluster --yes` that kstate ran and that did not succeed (it failed, or kstate was
 * stopped while kops ran: the record is written before kops starts), kept in the store until an
 * update of that cluster succeeds. kops writes `cluster-completed.spec` as one task among the
 * cloud's, so a failed update can leave it naming the store while the launch templates nodes boot
 * from still name the old one: a migration does not delete its source while this record names
 * the new store (migrate.ts).
 *
 * The record is kept at `.kstate/failed-updates/<cluster>.json`, beside the encryption policy and
 * outside the cluster's folder (kops refuses to delete a cluster folder holding files it does not
 * know). It is written to the store as stored, never sealed: it holds no secret, only where and
 * when the update ran and how it ended.
 */
import { NotFoundError } from "../vfs/errors";
import type { VfsPath } from "../vfs/path";
import { pastGuard } from "../store/policy-guard";
import { POLICY_FOLDER } from "../store/encryption-policy";
import { configBaseOf } from "../store/layout";

export const FAILED_UPDATES_FOLDER = `${POLICY_FOLDER}/failed-updates`;

export interface FailedUpdate {
  /** The configBase the update ran against: the store's folder of the cluster. */
  configBase: string;
  /** When it failed, or started if it never finished (ISO 8601). */
  failedAt: string;
  kopsVersion: string;
  /** How it ended: kops's exit code, why it was stopped, or that it did not finish. */
  outcome: string;
}

function recordOf(root: VfsPath, name: string): VfsPath {
  return root.join(...FAILED_UPDATES_FOLDER.split("/"), `${name}.json`);
}

/** Where the failed update of `name` in the store at `root` is recorded. */
export function failedUpdateUrl(root: VfsPath, name: string): string {
  return recordOf(root, name).url;
}

/** Records that an update of `name` in the store at `root` (as stored: not guarded, not sealed) failed. */
export async function recordFailedUpdate(root: VfsPath, name: string, failure: Omit<FailedUpdate, "configBase">): Promise<void> {
  const record: FailedUpdate = { configBase: configBaseOf(root.join(name).url), ...failure };
  await recordOf(root, name).write(`${JSON.stringify(record, null, 2)}\n`);
}

/**
 * Clears the record after an update of `name` succeeded, or with the cluster; nothing to do when
 * there is none. Removed as stored (a guarded store refuses writers in .kstate/).
 */
export async function clearFailedUpdate(root: VfsPath, name: string): Promise<void> {
  await recordOf(pastGuard(root), name).remove().catch((e: unknown) => {
    if (!NotFoundError.isInstance(e)) throw e;
  });
}

/**
 * The failed update recorded for `name` in the store at `root`, when it ran against that very
 * folder (a record is never copied, but a store may be reached under another spelling); undefined
 * when there is none. A record that cannot be read as one counts as a failure of unknown detail.
 */
export async function readFailedUpdate(root: VfsPath, name: string): Promise<FailedUpdate | undefined> {
  let text: string;
  try {
    text = (await recordOf(root, name).read()).data.toString("utf8");
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
  const configBase = configBaseOf(root.join(name).url);
  try {
    const r = JSON.parse(text) as Partial<FailedUpdate>;
    if (typeof r.configBase === "string" && configBaseOf(r.configBase) !== configBase) return undefined;
    return { configBase, failedAt: String(r.failedAt ?? "an unknown time"), kopsVersion: String(r.kopsVersion ?? "unknown"), outcome: String(r.outcome ?? "unknown") };
  } catch {
    return { configBase, failedAt: "an unknown time", kopsVersion: "unknown", outcome: `${recordOf(root, name).url} is not a record kstate wrote` };
  }
}
