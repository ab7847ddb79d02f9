/**
 * A cluster's secrets as a listing shows them: each file on its own, so one that cannot be opened
 * (sealed under a key not given, damaged, not a kops secret) is marked and the rest still listed.
 */
import { mapLimit } from "../store/cluster-store";
import { decodeSecret, secretHash } from "../store/secrets";
import { isEnvelope } from "../vfs/envelope";
import { NotFoundError, RefusedError } from "../vfs/errors";
import { isEncryptedPath } from "../vfs/encrypted";
import type { VfsPath } from "../vfs/path";

export interface ListedSecret {
  name: string;
  /** The value, when the file opened. */
  value?: Buffer;
  /** A SHA-256 prefix of the value. */
  sha256?: string;
  /** Whether the stored bytes are sealed by client-side encryption; unknown when they could not be read. */
  encrypted: boolean | undefined;
  /** Why the file could not be opened, naming it. */
  problem?: string;
}

/**
 * The secrets under `folder` (the cluster's `secrets/`, opened with the store's keys), read from
 * `raw` (the same folder without them) once each. `names` limits the listing, as kops's does.
 */
export async function listSecrets(folder: VfsPath, raw: VfsPath, names?: readonly string[]): Promise<ListedSecret[]> {
  let found = (await raw.list()).map((f) => f.path).filter((p) => !p.includes("/")).sort();
  if (names && names.length > 0) found = found.filter((n) => names.includes(n));
  const rows = await mapLimit(found, 16, async (name): Promise<ListedSecret | undefined> => {
    let stored: Buffer;
    try {
      stored = (await raw.join(name).read()).data;
    } catch (e) {
      if (NotFoundError.isInstance(e)) return undefined; // deleted meanwhile
      return { name, encrypted: undefined, problem: (e as Error).message };
    }
    const encrypted = isEnvelope(stored);
    const file = folder.join(name);
    try {
      if (encrypted && !isEncryptedPath(file)) throw new RefusedError(`${file.url}: encrypted client side, and this store is opened without a key (set KSTATE_PASSPHRASE or KSTATE_AWS_KMS_KEY_ID)`, { url: file.url });
      const value = decodeSecret((isEncryptedPath(file) ? await file.open(stored) : stored).toString("utf8"), file.url);
      return { name, value, sha256: secretHash(value), encrypted };
    } catch (e) {
      return { name, encrypted, problem: (e as Error).message };
    }
  });
  return rows.filter((r): r is ListedSecret => r !== undefined);
}
