/**
 * The kops secrets a manager keeps (`secrets/<name>`): what would change against what is stored,
 * and writing that change. Values are compared, never shown: a plan line says only that a secret
 * is created, replaced or deleted.
 */
import { decodeSecret, encodeSecret } from "../store/secrets";
import { readIfPresent } from "../vfs/absent";
import type { Revision, VfsPath } from "../vfs/path";

export interface SecretChange {
  name: string;
  action: "create" | "update" | "delete";
  /** The revision read, for a conditional write or remove. */
  base?: Revision;
}

async function stored(file: VfsPath): Promise<{ value: Buffer; revision: Revision } | undefined> {
  const read = await readIfPresent(file);
  return read && { value: decodeSecret(read.data.toString("utf8"), file.url), revision: read.revision };
}

/** What is stored for each named secret: its revision (undefined when absent) and whether it holds the wanted value. */
export async function planSecretFiles(folder: VfsPath, desired: Record<string, string>, names: readonly string[]): Promise<{ name: string; stored: Revision | undefined; same: boolean }[]> {
  const current = await Promise.all(names.map((n) => stored(folder.join(n))));
  return names.map((name, i) => {
    const now = current[i];
    const want = desired[name];
    return { name, stored: now?.revision, same: now !== undefined && want !== undefined && now.value.equals(Buffer.from(want)) };
  });
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
