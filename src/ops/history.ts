/**
 * The past of a cluster's files in a store that keeps old versions (bucket versioning): the
 * revisions of one file, what a file held at one of them, and what every file held at a point in
 * time. Documents are put back through ops/documents.ts, like any other change; pki/ files are
 * not documents of that road and are put back here, each write conditional on what was read.
 */
import type { Document } from "yaml";
import { type ClusterStore, mapLimit, parseKopsDocument } from "../store/cluster-store";
import { documentText } from "../store/document-text";
import { CONFIG_FILE } from "../store/layout";
import { decodeSecret, secretHash } from "../store/secrets";
import { readIfPresent } from "../vfs/absent";
import { isEnvelope } from "../vfs/envelope";
import { ConflictError, NotFoundError, RefusedError, UnsupportedError } from "../vfs/errors";
import { type FileVersion, hasVersions, type HasVersions, type Revision, type VfsPath } from "../vfs/path";
import { type DocumentEdit, editableFileProblem, SECRET_PREFIX } from "./documents";
import { type Doc, diffDocuments, type FieldChange, type FileChange, GROUP_PREFIX, lostRace, plain } from "./plan";

export const PKI_PREFIX = "pki/";

/** The name a revision is given for the file as it is now. */
export const CURRENT = "current";

/** Why `file` (relative to the cluster's folder) has no history here, or undefined when it has. */
export function historyFileProblem(file: string): string | undefined {
  if (file.startsWith(PKI_PREFIX)) return file.length > PKI_PREFIX.length && !file.endsWith("/") ? undefined : "name a file under pki/, e.g. pki/private/kubernetes-ca/keyset.yaml";
  if (file === CONFIG_FILE || file.startsWith(GROUP_PREFIX) || file.startsWith(SECRET_PREFIX)) return editableFileProblem(file);
  return "kstate keeps the history of config, instancegroup/<name>, secrets/<name> and pki/<path>";
}

/** One revision of a file: a version of it, or its removal. */
export interface FileRevision {
  /** The version's id, for `--to` and `--diff`; undefined for a removal the backend keeps no marker of (GCS). */
  id: string | undefined;
  time: Date;
  /** The stored size in bytes (sealed, where client-side encryption seals the file). */
  size: number;
  deleted: boolean;
  /** The file as it is now. */
  current: boolean;
}

type Versioned = VfsPath & HasVersions;

function fileOf(store: ClusterStore, name: string, file: string): VfsPath {
  return store.cluster(name).join(...file.split("/"));
}

function versioned(path: VfsPath): Versioned {
  if (!hasVersions(path)) throw new UnsupportedError(`${path.url}: this store keeps no old versions (file:// stores never do); use an s3:// or gs:// store with versioning on`, { url: path.url });
  return path;
}

function versioningOn(path: VfsPath, versions: readonly FileVersion[]): void {
  if (versions.length > 0 && versions.every((v) => v.versionId === "null")) {
    throw new UnsupportedError(`${path.url}: bucket versioning is off, so there is no history. Turn it on (StateStore versioning: true, or aws s3api put-bucket-versioning --versioning-configuration Status=Enabled)`, { url: path.url });
  }
}

async function versionsOf(path: VfsPath): Promise<{ path: Versioned; versions: FileVersion[] }> {
  const file = versioned(path);
  const versions = await file.listVersions();
  versioningOn(path, versions);
  return { path: file, versions };
}

/**
 * A file's versions (newest first) as revisions. GCS keeps no delete marker: a version that
 * stopped being current with no newer one begun by then was removed at that time.
 */
function revisionsOf(versions: readonly FileVersion[]): FileRevision[] {
  const out: FileRevision[] = [];
  versions.forEach((v, i) => {
    const newer = versions[i - 1];
    if (!v.deleted && v.until && (!newer || newer.modified > v.until)) out.push({ id: undefined, time: v.until, size: 0, deleted: true, current: false });
    out.push({ id: v.versionId, time: v.modified, size: v.size, deleted: v.deleted, current: v.isLatest && !v.deleted });
  });
  return out;
}

/** The revisions of one of cluster `name`'s files, newest first; `NotFoundError` when it never existed. */
export async function fileHistory(store: ClusterStore, name: string, file: string): Promise<FileRevision[]> {
  const { path, versions } = await versionsOf(fileOf(store, name, file));
  if (versions.length === 0) throw new NotFoundError(`${path.url}: no revisions: ${file} of cluster ${name} never existed in ${store.root.url}`, { url: path.url });
  return revisionsOf(versions);
}

/**
 * What `file` held at revision `rev` (an id from its history, or `current`): its bytes, read
 * through the store's keys, or undefined where the file was absent (a removal, or not there now).
 */
export async function contentAt(store: ClusterStore, name: string, file: string, rev: string): Promise<Buffer | undefined> {
  const { path, versions } = await versionsOf(fileOf(store, name, file));
  if (rev === CURRENT) return (await readIfPresent(path))?.data;
  const version = versions.find((v) => v.versionId === rev);
  if (!version) throw new NotFoundError(`${path.url}: no revision ${JSON.stringify(rev)} (kstate history ${name} --file ${file} lists them)`, { url: path.url });
  return version.deleted ? undefined : (await path.readVersion(rev)).data;
}

/** The version that was current at `time`, or undefined when the file was absent then. */
function versionAt(versions: readonly FileVersion[], time: Date): FileVersion | undefined {
  const v = versions.find((x) => x.modified.getTime() <= time.getTime());
  return v && !v.deleted && !(v.until && v.until.getTime() <= time.getTime()) ? v : undefined;
}

/** One file of a cluster as it was at some point. */
export interface PastFile {
  /** Relative to the cluster's folder: `config`, `instancegroup/nodes`, `pki/…`. */
  file: string;
  /** Its bytes then (opened with the store's keys), or undefined: absent then. */
  data: Buffer | undefined;
}

/** What a rollback to a point in time puts back: document changes for planDocuments, and pki/ files. */
export interface ClusterAt {
  edits: DocumentEdit[];
  pki: PastFile[];
}

const isDocument = (file: string) => file === CONFIG_FILE || file.startsWith(GROUP_PREFIX) || file.startsWith(SECRET_PREFIX);

/**
 * Cluster `name` as it was at `time`: each document (config, instance groups, secrets) and, with
 * `includePki`, each pki/ file that differs from then, as it was then (absent then: deleted). Other
 * files (kops's rendered addons, cluster-completed.spec, …) are not taken. Throws when the cluster
 * did not exist at `time`.
 */
export async function clusterAt(store: ClusterStore, name: string, time: Date, includePki: boolean): Promise<ClusterAt> {
  const folder = versioned(store.cluster(name));
  const all = await folder.listTreeVersions();
  versioningOn(folder, all);
  const byFile = new Map<string, FileVersion[]>();
  for (const v of all) byFile.set(v.path, [...(byFile.get(v.path) ?? []), v]);
  const config = byFile.get(CONFIG_FILE) ?? [];
  if (!versionAt(config, time)) {
    const first = config.at(-1)?.modified;
    throw new NotFoundError(`cluster ${name} did not exist in ${store.root.url} at ${time.toISOString()}${first ? ` (its config was first written at ${first.toISOString()})` : ""}`, { url: folder.url });
  }
  const taken = [...byFile].filter(([file]) => isDocument(file) || (includePki && file.startsWith(PKI_PREFIX)));
  const past = await mapLimit(taken, 8, async ([file, versions]): Promise<PastFile | undefined> => {
    const then = versionAt(versions, time);
    const now = versions[0]!.isLatest && !versions[0]!.deleted ? versions[0] : undefined;
    if (then === now) return undefined; // as it was then, or absent then and now
    return { file, data: then ? (await versioned(folder.join(...file.split("/"))).readVersion(then.versionId)).data : undefined };
  });
  const changed = past.filter((p): p is PastFile => p !== undefined);
  return {
    edits: changed.filter((p) => isDocument(p.file)).map((p) => documentEdit(p, `${store.cluster(name).url}/${p.file} at ${time.toISOString()}`)),
    pki: changed.filter((p) => p.file.startsWith(PKI_PREFIX)),
  };
}

/** A document as it was, as a change for planDocuments: the parsed document, a secret's bytes, or null (absent then). */
export function documentEdit(past: PastFile, source: string): DocumentEdit {
  if (past.data === undefined) return { file: past.file, content: null };
  if (past.file.startsWith(SECRET_PREFIX)) return { file: past.file, content: past.data };
  return { file: past.file, content: parseDocument(past.file, past.data, source) };
}

function parseDocument(file: string, data: Buffer, source: string): Document {
  return parseKopsDocument(documentText(data, source), source, file === CONFIG_FILE ? "Cluster" : "InstanceGroup");
}

/** A file's content as its fields: a document's own, a secret's or pki/ file's only as a hash. */
function fieldsOf(file: string, data: Buffer | undefined, source: string): Doc | undefined {
  if (data === undefined) return undefined;
  if (isEnvelope(data)) throw new RefusedError(`${source}: encrypted client side, and this store is opened without that key (set KSTATE_PASSPHRASE or KSTATE_AWS_KMS_KEY_ID)`, { url: source });
  if (file.startsWith(SECRET_PREFIX)) return { Data: `(sha256 ${secretHash(decodeSecret(data.toString("utf8"), source))})` };
  if (file.startsWith(PKI_PREFIX)) return { sha256: secretHash(data) };
  return plain(parseDocument(file, data, source));
}

/**
 * The fields that differ between two contents of `file` (undefined: absent, compared as empty);
 * secrets and pki/ files by a hash of their value, never the value.
 */
export function contentChanges(file: string, before: { data: Buffer | undefined; source: string }, after: { data: Buffer | undefined; source: string }): FieldChange[] {
  const changes = diffDocuments(fieldsOf(file, before.data, before.source), fieldsOf(file, after.data, after.source));
  // diffDocuments counts an absent side's empty root as a field of its own (path ""); here a
  // document comes and goes field by field.
  return changes.filter((c) => c.path !== "");
}

/** A pki/ file to put back as it was, conditional on the revision read now. */
export interface PkiRestore {
  path: VfsPath;
  /** The revision read now; undefined: absent now, so the restore creates it. */
  base: Revision | undefined;
  /** The bytes to write, or null to remove the file. */
  data: Buffer | null;
  /** The change as plans show it (hashes only). */
  change: FileChange;
}

/** The pki/ files among `past` that differ from the store now, as restores. */
export async function planPkiRestore(store: ClusterStore, name: string, past: readonly PastFile[]): Promise<PkiRestore[]> {
  const restores: PkiRestore[] = [];
  const current = await mapLimit(past, 16, (p) => readIfPresent(fileOf(store, name, p.file)));
  for (const [i, p] of past.entries()) {
    const path = fileOf(store, name, p.file);
    const now = current[i];
    if (now === undefined ? p.data === undefined : p.data?.equals(now.data)) continue;
    const fields = diffDocuments(now && fieldsOf(p.file, now.data, path.url), p.data && fieldsOf(p.file, p.data, path.url));
    const action = now === undefined ? "create" : p.data === undefined ? "delete" : "update";
    restores.push({ path, base: now?.revision, data: p.data ?? null, change: { file: p.file, action, fields, owners: {} } });
  }
  return restores;
}

/**
 * Writes restores made by `planPkiRestore`, each only if the file is still as read (absent, for
 * a create). Another writer in between is never overwritten: `ConflictError`.
 */
export async function restorePki(restores: readonly PkiRestore[]): Promise<void> {
  for (const r of restores) {
    try {
      if (r.data === null) await r.path.remove({ ifRevision: r.base! });
      else if (r.base === undefined) await r.path.create(r.data);
      else await r.path.write(r.data, { ifRevision: r.base });
    } catch (e) {
      if (!lostRace(e)) throw e;
      throw new ConflictError(`${r.path.url}: another writer changed it while it was being restored; nothing of theirs was overwritten`, { url: r.path.url, cause: e });
    }
  }
}
