/**
 * The kops secrets a manager keeps (`secrets/<name>`): what would change against what is stored,
 * and writing that change. Values are compared, never shown: a plan line says only that a secret
 * is created, replaced or deleted.
 */
import { decodeSecret, encodeSecret } from "../store/secrets";
import { NotFoundError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";

export interface SecretChange {
  name: string;
  action: "create" | "update" | "delete";
  /** The revision read, for a conditional write or remove. */
  base?: Revision;
}

async function stored(file: VfsPath): Promise<{ value: Buffer; revision: Revision } | undefined> {
  try {
    const { data, revision } = await file.read();
    return { value: decodeSecret(data.toString("utf8"), file.url), revision };
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
}

/**
 * The changes that make `folder` hold `desired`: secrets missing or holding another value are
 * written; those in `previous` (set before, no longer wanted) are deleted when still there.
 */
export async function planSecrets(folder: VfsPath, desired: Record<string, string>, previous: readonly string[]): Promise<SecretChange[]> {
  const names = [...new Set([...Object.keys(desired), ...previous])].sort();
  const current = await Promise.all(names.map((n) => stored(folder.join(n))));
  const changes: SecretChange[] = [];
  names.forEach((name, i) => {
    const now = current[i];
    const want = desired[name];
    if (want === undefined) {
      if (now) changes.push({ name, action: "delete", base: now.revision });
    } else if (!now) changes.push({ name, action: "create" });
    else if (!now.value.equals(Buffer.from(want))) changes.push({ name, action: "update", base: now.revision });
  });
  return changes;
}

/** Writes planned secret changes, each conditional on what was read. */
export async function applySecrets(folder: VfsPath, desired: Record<string, string>, changes: readonly SecretChange[]): Promise<void> {
  for (const c of changes) {
    const file = folder.join(c.name);
    if (c.action === "delete") await file.remove({ ifRevision: c.base! });
    else if (c.action === "create") await file.create(encodeSecret(desired[c.name]!));
    else await file.write(encodeSecret(desired[c.name]!), { ifRevision: c.base! });
  }
}

/** Plan lines for secret changes: `secrets/system:dns: create`. */
export function describeSecretChanges(changes: readonly SecretChange[]): string[] {
  return changes.map((c) => `secrets/${c.name}: ${c.action === "update" ? "replace (value changed)" : c.action}`);
}
