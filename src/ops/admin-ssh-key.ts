/**
 * A cluster's admin SSH public key, kept where kops keeps it (`pki/ssh/public/admin/<id>`, one
 * file per key, the id its MD5 fingerprint in hex). kops takes exactly one admin key when it
 * builds a cluster; `kops create sshpublickey` adds a file beside any other (so two keys, and
 * `kops update cluster` fails), and a key is replaced by deleting the old one first. kstate plans
 * the replacement as one change: the new key is created, then the others removed, each write
 * conditional. Plans are plain data, so the CLI and the Pulumi provider share them.
 */
import type { ClusterStore } from "../store/cluster-store";
import { SSH_PUBLIC_KEY_DIR } from "../store/layout";
import { AlreadyExistsError, NotFoundError, PreconditionFailedError, RefusedError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";
import { keysKeptElsewhere, type PlannedSshKey, planSshPublicKey } from "./ssh-key";

/** One file of `pki/ssh/public/admin/` as stored. */
export interface StoredSshKey {
  /** The file name (the fingerprint in hex, without colons, when kops or kstate wrote it). */
  id: string;
  /** The file, relative to the cluster's folder. */
  file: string;
  /** `aa:bb:…` computed from the key, as kops lists it; undefined when the file holds no key. */
  fingerprint?: string;
  /** The file's text trimmed, as kops reads it into an SSHCredential. */
  publicKey: string;
  revision: Revision;
  /** Why the file is not a usable key (kops then lists it with an empty ID). */
  problem?: string;
}

export interface AdminSshKeyPlan {
  cluster: string;
  /** The key to create (its file's text, as given); undefined when it is stored already (or the plan only deletes). */
  create?: { file: string; fingerprint: string; text: string };
  /** Files to remove, each only if still at the revision read. */
  remove: { file: string; fingerprint?: string; revision: Revision }[];
  /** What would change, one line a file: `pki/ssh/public/admin/<id>: create (ssh-ed25519 aa:bb:…)`. */
  lines: string[];
}

/** The admin SSH key files of a cluster, read (a folder that is not there holds none). */
export async function readAdminSshKeys(store: ClusterStore, cluster: string): Promise<StoredSshKey[]> {
  const folder = store.cluster(cluster).join(...SSH_PUBLIC_KEY_DIR.split("/"));
  const names = (await folder.list()).map((f) => f.path).filter((p) => !p.includes("/")).sort();
  const read = await Promise.all(names.map(async (id) => {
    try {
      return { id, ...(await folder.join(id).read()) };
    } catch (e) {
      if (NotFoundError.isInstance(e)) return undefined; // removed meanwhile, as kops skips it
      throw e;
    }
  }));
  return read.filter((r): r is NonNullable<typeof r> => r !== undefined).map(({ id, data, revision }) => {
    const publicKey = data.toString("utf8").trim();
    const file = `${SSH_PUBLIC_KEY_DIR}/${id}`;
    try {
      return { id, file, fingerprint: planSshPublicKey(publicKey, file).fingerprint, publicKey, revision };
    } catch (e) {
      return { id, file, publicKey, revision, problem: (e as Error).message };
    }
  });
}

/**
 * The change that makes `key` the cluster's one admin key. Stored already and alone: nothing to
 * do (no lines). Another key stored: refused unless `replace`, which removes it.
 */
export function planAdminSshKey(cluster: string, stored: readonly StoredSshKey[], key: PlannedSshKey, options: { replace?: boolean } = {}): AdminSshKeyPlan {
  const id = key.file.slice(SSH_PUBLIC_KEY_DIR.length + 1);
  // The key stored already: under its fingerprint's name, else under any name kops reads it from.
  const kept = stored.find((s) => s.id === id) ?? stored.find((s) => s.fingerprint === key.fingerprint);
  const others = stored.filter((s) => s !== kept);
  if (others.length > 0 && !options.replace) {
    const what = others.map((s) => (s.fingerprint === key.fingerprint ? `this key again, in ${s.file}` : shown(s))).join(", ");
    throw new RefusedError(`cluster ${cluster} has ${others.every((s) => s.fingerprint === key.fingerprint) ? "another file holding its admin SSH key" : "another admin SSH key"} (${what}); kops takes exactly one. Pass --replace to put this one in its place, or delete it first (kstate delete sshpublickey). Nothing was written.`);
  }
  const create = kept ? undefined : { file: key.file, fingerprint: key.fingerprint, text: key.body.toString("utf8") };
  const remove = others.map((s) => ({ file: s.file, ...(s.fingerprint ? { fingerprint: s.fingerprint } : {}), revision: s.revision }));
  return {
    cluster, ...(create ? { create } : {}), remove,
    lines: [...(create ? [`${create.file}: create (${key.type} ${key.fingerprint})`] : []), ...remove.map((r) => `${r.file}: delete (${r.fingerprint ?? "not a key"})`)],
  };
}

/**
 * Reads what the change from `publicKey` (a .pub file's text; `source` names it in errors) needs
 * and plans it: the cluster must exist and keep its keys in this store. What the CLI's create
 * sshpublickey and a Pulumi provider's preview both call; `applyAdminSshKey` then writes the plan.
 */
export async function planClusterSshKey(store: ClusterStore, cluster: string, publicKey: string | Buffer, source: string, options: { replace?: boolean } = {}): Promise<AdminSshKeyPlan & { key: PlannedSshKey }> {
  const key = planSshPublicKey(publicKey, source);
  // The config and the keys at once (the keys are not used when the config keeps them elsewhere).
  const [config, stored] = await Promise.all([store.requireConfig(cluster), readAdminSshKeys(store, cluster)]);
  const elsewhere = keysKeptElsewhere(store, cluster, config.doc.toJS() as Record<string, unknown>);
  if (elsewhere) throw new RefusedError(`${elsewhere}; kops reads the SSH key from there. Nothing was written.`, { url: store.configPath(cluster).url });
  return { ...planAdminSshKey(cluster, stored, key, options), key };
}

/** The change that removes every admin key of a cluster (as `kops delete sshpublickey`). */
export function planDeleteAdminSshKeys(cluster: string, stored: readonly StoredSshKey[]): AdminSshKeyPlan {
  const remove = stored.map((s) => ({ file: s.file, ...(s.fingerprint ? { fingerprint: s.fingerprint } : {}), revision: s.revision }));
  return { cluster, remove, lines: remove.map((r) => `${r.file}: delete (${r.fingerprint ?? "not a key"})`) };
}

/**
 * Writes a plan: the new key first (create only; a file already under its name, its fingerprint,
 * is this key), then each removal only if the file is as read. A file changed meanwhile is a
 * `PreconditionFailedError`; one removed meanwhile is fine.
 */
export async function applyAdminSshKey(clusterFolder: VfsPath, plan: AdminSshKeyPlan): Promise<void> {
  if (plan.create) {
    try {
      await clusterFolder.join(...plan.create.file.split("/")).create(plan.create.text);
    } catch (e) {
      if (!AlreadyExistsError.isInstance(e)) throw e;
    }
  }
  for (const r of plan.remove) {
    const file = clusterFolder.join(...r.file.split("/"));
    try {
      await file.remove({ ifRevision: r.revision });
    } catch (e) {
      if (PreconditionFailedError.isInstance(e) && !(await exists(file))) continue; // removed meanwhile: as wanted
      if (PreconditionFailedError.isInstance(e)) {
        throw new PreconditionFailedError(`${clusterFolder.join(...r.file.split("/")).url} changed since it was read; run the command again${plan.create ? ` (the new key ${plan.create.fingerprint} is stored)` : ""}`, { url: clusterFolder.url, cause: e });
      }
      throw e;
    }
  }
}

/** The secret an older kstate wrote the key to: kops never reads it. */
export const LEGACY_SSH_SECRET = "sshpublickey";

/** What to say of a `secrets/sshpublickey` file: what it is, and how to move it where kops reads the key. */
export function legacySshKeyNotice(cluster: string): string {
  return `secrets/sshpublickey of ${cluster}: kops never reads this file; it takes the admin SSH key from ${SSH_PUBLIC_KEY_DIR}/<fingerprint>. Move it with:\n`
    + `  kstate get secrets sshpublickey --name ${cluster} -o plaintext | kstate create sshpublickey --name ${cluster} -i -\n`
    + `  kstate delete secret sshpublickey --name ${cluster} --yes\n`;
}

async function exists(file: VfsPath): Promise<boolean> {
  try {
    await file.stat();
    return true;
  } catch (e) {
    if (NotFoundError.isInstance(e)) return false;
    throw e;
  }
}

function shown(s: StoredSshKey): string {
  return s.fingerprint ?? `${s.file}, not a key`;
}
