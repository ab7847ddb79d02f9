/**
 * Whole documents put in place of the stored ones: a folder or stream applied with `apply -f`, an
 * editor's save, an old revision rolled back, an instance group created or deleted. The result
 * is planned as a program's options are (change lines, generation, validation of the whole
 * cluster) and written the one way a plan is written: each file only if it is still as read.
 */
import type { Document } from "yaml";
import { type ClusterRead, type ClusterStore, mapLimit, type StoredDocument } from "../store/cluster-store";
import { loadKopsSchemaSoon } from "../schema/check";
import { CLUSTER_LABEL, CONFIG_FILE } from "../store/layout";
import { decodeSecret, SECRET_NAME, secretHash } from "../store/secrets";
import { getIn, hasIn, setIn, stringifyYaml } from "../store/yaml";
import { isEnvelope, readIfPresent, statIfPresent } from "../vfs";
import { isEncryptedPath } from "../vfs/encrypted";
import { ConflictError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";
import { bumpGeneration, type ClusterPlan, fileChanges, GROUP_PREFIX, lostRace, type PlannedFile, plain, timestamp, validatePlanned, writePlan } from "./plan";
import { keptElsewhere } from "./ssh-key";
import { isDns1123Subdomain, type Problem, validationError } from "./validate";

export const SECRET_PREFIX = "secrets/";

/** One file of a cluster as the caller wants it. */
export interface DocumentEdit {
  /** `config`, `instancegroup/<name>` or `secrets/<name>`. */
  file: string;
  /** The whole document, a secret's bytes, or null to delete the file. */
  content: Document | Buffer | null;
  /**
   * The revision the caller's copy was made from (`"absent"`: made without one). When the store
   * holds another, someone changed the file since: a conflict, unless the request is forced.
   */
  basedOn?: Revision | "absent";
}

export interface DocumentsRequest {
  /** The cluster's name. */
  name: string;
  edits: readonly DocumentEdit[];
  /** Write over changes made in the store since `basedOn`. */
  force?: boolean;
  /** A request that may make the cluster's `config` (otherwise the cluster must exist). */
  mayCreate?: boolean;
}

/** The files a request may name, with the reason when it names another. */
export function editableFileProblem(file: string): string | undefined {
  if (file === CONFIG_FILE) return undefined;
  if (file.startsWith(GROUP_PREFIX)) return isDns1123Subdomain(file.slice(GROUP_PREFIX.length)) ? undefined : "an instance group's name is a DNS label (lowercase letters, digits, '-' and '.')";
  if (file.startsWith(SECRET_PREFIX)) return SECRET_NAME.test(file.slice(SECRET_PREFIX.length)) ? undefined : "a secret's name is letters, digits and . _ - :";
  return "not a document kstate writes: config, instancegroup/<name> or secrets/<name>";
}

function editProblem(edit: DocumentEdit): string | undefined {
  // A file already stored under a name kstate would not give (kops allows more) can still go.
  return edit.content === null && (edit.file.startsWith(GROUP_PREFIX) || edit.file.startsWith(SECRET_PREFIX)) && !edit.file.slice(edit.file.indexOf("/") + 1).includes("/") ? undefined : editableFileProblem(edit.file);
}

interface StoredSecret {
  revision: Revision;
  /** The secret as kops reads it (decrypted where the store encrypts it). */
  value: Buffer;
}

async function readSecret(path: VfsPath): Promise<StoredSecret | undefined> {
  const read = await readIfPresent(path);
  return read && { revision: read.revision, value: read.data };
}

/** What is wrong with a secret's bytes, as kops would read them; undefined when nothing is. */
function secretProblem(json: Buffer, url: string): string | undefined {
  try {
    decodeSecret(json.toString("utf8"), url);
  } catch (e) {
    return (e as Error).message.slice(url.length + 2);
  }
  // kops's Secret is Data alone; another key would be stored and never shown in a plan.
  const extra = Object.keys(JSON.parse(json.toString("utf8")) as object).filter((k) => k !== "Data");
  return extra.length > 0 ? `${extra.map((k) => JSON.stringify(k)).join(", ")} is not a field of a kops secret, which holds Data only` : undefined;
}

/** A secret as change lines show it: a hash of its value, never the value (a stored file kops could not read says so, so it can be replaced or deleted). */
function shownSecret(json: Buffer, url: string): Record<string, unknown> {
  if (secretProblem(json, url) !== undefined) return { Data: "(not a kops secret)" };
  return { Data: `(sha256 ${secretHash(decodeSecret(json.toString("utf8"), url))})` };
}

/** Carries over what the store keeps of a document and the caller's copy may lack or not own. */
function settle(doc: Document, stored: StoredDocument | undefined, now: Date): void {
  if (!stored) {
    if (!hasIn(doc, ["metadata", "creationTimestamp"])) setIn(doc, ["metadata", "creationTimestamp"], timestamp(now));
    return;
  }
  // The creation time and the ownership records are the store's; the generation is counted there.
  for (const key of ["creationTimestamp", "managedFields"]) {
    const kept = getIn(stored.doc, ["metadata", key]);
    if (kept !== undefined && !hasIn(doc, ["metadata", key])) setIn(doc, ["metadata", key], kept);
  }
  const generation = getIn(stored.doc, ["metadata", "generation"]);
  if (generation === undefined) doc.deleteIn(["metadata", "generation"]);
  else setIn(doc, ["metadata", "generation"], generation);
  bumpGeneration(doc, plain(stored.doc), plain(doc));
}

/** A group an etcd member still names cannot go: the member's data lives on its volumes. */
function etcdMembersOfDeleted(files: readonly PlannedFile[], stored: StoredDocument | undefined): Problem[] {
  const config = files.find((f) => f.file === CONFIG_FILE)?.after ?? plain(stored?.doc);
  const etcd = ((config?.spec as { etcdClusters?: unknown } | undefined)?.etcdClusters ?? []) as { name?: unknown; etcdMembers?: { name?: unknown; instanceGroup?: unknown }[] }[];
  const problems: Problem[] = [];
  for (const f of files) {
    if (f.doc !== null || f.data !== undefined || !f.file.startsWith(GROUP_PREFIX)) continue;
    const group = f.file.slice(GROUP_PREFIX.length);
    for (const e of Array.isArray(etcd) ? etcd : []) {
      for (const m of Array.isArray(e?.etcdMembers) ? e.etcdMembers : []) {
        if (m?.instanceGroup === group) problems.push({ file: f.file, path: "", message: `etcd member ${String(m.name)} of etcd cluster ${String(e.name)} runs in this group; move the member first (kops's etcd procedures), then delete the group` });
      }
    }
  }
  return problems;
}

/**
 * Reads the cluster (unless `read` is the cluster as already read, or being read) and the secrets
 * the edits name, all at once, and works out what the edits change, without writing anything.
 */
export async function planDocuments(store: ClusterStore, req: DocumentsRequest, now = new Date(), read?: ClusterRead | Promise<ClusterRead>): Promise<ClusterPlan> {
  const secretFiles = [...new Set(req.edits.filter((e) => e.file.startsWith(SECRET_PREFIX) && editProblem(e) === undefined).map((e) => e.file))];
  const reading = read ?? store.readCluster(req.name);
  if (reading instanceof Promise || secretFiles.length > 0) loadKopsSchemaSoon(); // checked against once the documents are read
  const [{ config: stored, groups: storedGroups }, secretsRead] = await Promise.all([
    reading,
    mapLimit(secretFiles, 16, (f) => readSecret(store.cluster(req.name).join(...f.split("/")))),
  ]);
  const storedSecrets = new Map(secretFiles.map((f, i) => [f, secretsRead[i]]));
  const problems: Problem[] = [];
  const stale: Problem[] = [];
  const files: PlannedFile[] = [];
  const seen = new Set<string>();
  // kops reads secrets where the cluster says it keeps them, as this change leaves the config: a
  // secret written here it would never see.
  const configAfter = req.edits.find((e) => e.file === CONFIG_FILE && e.content !== null && !Buffer.isBuffer(e.content))?.content as Document | undefined ?? stored?.doc;
  const secretsElsewhere = configAfter && secretFiles.length > 0 ? keptElsewhere(store, req.name, configAfter.toJS() as Record<string, unknown>, "secrets") : undefined;
  for (const edit of req.edits) {
    const wrong = editProblem(edit);
    if (wrong) {
      problems.push({ file: edit.file, path: edit.file.startsWith(GROUP_PREFIX) ? "metadata.name" : "", message: wrong });
      continue;
    }
    if (seen.has(edit.file)) {
      problems.push({ file: edit.file, path: "metadata.name", message: edit.file === CONFIG_FILE ? "given twice: a cluster has exactly one Cluster document" : "given twice: a file holds one document (two InstanceGroup documents with one name?)" });
      continue;
    }
    seen.add(edit.file);
    const path = store.cluster(req.name).join(...edit.file.split("/"));
    const isSecret = edit.file.startsWith(SECRET_PREFIX);
    const current = isSecret ? storedSecrets.get(edit.file) : edit.file === CONFIG_FILE ? stored : storedGroups.get(edit.file.slice(GROUP_PREFIX.length));
    if (edit.basedOn !== undefined && !req.force && (current?.revision ?? "absent") !== edit.basedOn) {
      stale.push({ file: edit.file, path: "", message: `${path.url} ${current ? (edit.basedOn === "absent" ? "was created" : "changed") : "was deleted"} in the store since this copy was made` });
    }
    if (edit.content === null) {
      if (edit.file === CONFIG_FILE) problems.push({ file: edit.file, path: "", message: "the config goes only with the whole cluster (kstate delete cluster)" });
      else if (current) files.push({ file: edit.file, path, base: current.revision, before: isSecret ? shownSecret((current as StoredSecret).value, path.url) : plain((current as StoredDocument).doc), doc: null, after: undefined });
      continue;
    }
    if (Buffer.isBuffer(edit.content)) {
      if (!isSecret) throw new TypeError(`${edit.file}: bytes are given only for secrets`);
      if (secretsElsewhere) {
        problems.push({ file: edit.file, path: "", message: `${secretsElsewhere}; kops reads its secrets from there` });
        continue;
      }
      const plainBytes = isEnvelope(edit.content) && isEncryptedPath(path) ? await path.open(edit.content) : edit.content;
      if (isEnvelope(plainBytes)) {
        problems.push({ file: edit.file, path: "", message: "encrypted client side, and this store is opened without that key (set KSTATE_PASSPHRASE or KSTATE_AWS_KMS_KEY_ID)" });
        continue;
      }
      const wrongSecret = secretProblem(plainBytes, edit.file);
      if (wrongSecret) {
        problems.push({ file: edit.file, path: "", message: wrongSecret });
        continue;
      }
      const after = shownSecret(plainBytes, edit.file);
      const current_ = current as StoredSecret | undefined;
      if (current_ && current_.value.equals(plainBytes)) continue;
      files.push({ file: edit.file, path, base: current_?.revision, before: current_ ? shownSecret(current_.value, path.url) : undefined, doc: null, data: plainBytes, after });
      continue;
    }
    const doc = edit.content.clone();
    const storedDoc = current as StoredDocument | undefined;
    settle(doc, storedDoc, now);
    // kops names a group's cluster when it reads one that does not (kops create ig writes none).
    if (edit.file.startsWith(GROUP_PREFIX) && storedDoc && getIn(storedDoc.doc, ["metadata", "labels", CLUSTER_LABEL]) === undefined && getIn(doc, ["metadata", "labels", CLUSTER_LABEL]) === undefined) {
      setIn(doc, ["metadata", "labels", CLUSTER_LABEL], req.name);
    }
    files.push({ file: edit.file, path, base: storedDoc?.revision, before: plain(storedDoc?.doc), doc, after: plain(doc) });
  }
  if (!stored && !files.some((f) => f.file === CONFIG_FILE && f.doc !== null) && problems.length === 0) {
    problems.push({ file: CONFIG_FILE, path: "", message: `no cluster ${req.name} in ${store.root.url}${req.mayCreate ? "; give its config too" : ""}` });
  } else if (!stored && !req.mayCreate && problems.length === 0) {
    problems.push({ file: CONFIG_FILE, path: "", message: `no cluster ${req.name} in ${store.root.url} (create it with kstate create cluster)` });
  }
  if (problems.length === 0) problems.push(...etcdMembersOfDeleted(files, stored));
  if (problems.length === 0) problems.push(...validatePlanned(req.name, stored, storedGroups, files));
  const changes = fileChanges(files);
  // A copy that is stale but says what the store says changes nothing: no conflict.
  const conflicts = stale.filter((c) => changes.some((x) => x.file === c.file));
  return { name: req.name, existed: stored !== undefined, adopted: false, files, changes, ownership: {}, problems, conflicts, secrets: [] };
}

export interface AppliedDocuments {
  plan: ClusterPlan;
  /** The revision each written file got, by file (deleted files are absent). */
  revisions: Record<string, Revision>;
}

/** A conflict naming each file that changed in the store since the caller's copy. */
export function staleCopyError(plan: ClusterPlan, url: string, advice: string): ConflictError {
  return new ConflictError(`cluster ${plan.name}: nothing was written:\n${plan.conflicts.map((c) => `  ${c.message}`).join("\n")}\n${advice}`, { url });
}

/** Throws what blocks a plan: its problems (a `ValidationError`), else its stale files (a `ConflictError`). */
export function checkPlan(store: ClusterStore, plan: ClusterPlan): void {
  if (plan.problems.length > 0) throw validationError(plan.name, plan.problems);
  if (plan.conflicts.length > 0) throw staleCopyError(plan, store.cluster(plan.name).url, "Bring the copy up to date (kstate pull) and redo the change, or --force it over the store's version.");
}

/**
 * Writes a plan made by `planDocuments`, each file only if it is still at the revision read. A
 * writer who got in between is never overwritten: the result is a `ConflictError` (the caller
 * showed this plan and asked for it, so it is not redone on other contents silently).
 */
export async function applyDocuments(store: ClusterStore, plan: ClusterPlan, written?: (f: PlannedFile, revision: Revision | undefined) => void): Promise<AppliedDocuments> {
  checkPlan(store, plan);
  // Every file is checked before the first is written (a confirmation takes time, and another
  // writer may have come in meanwhile): a plan made stale then writes nothing at all. A plan of
  // one file needs no check: its conditional write is the check.
  const changed = new Set(plan.changes.map((c) => c.file));
  const stale: string[] = [];
  const staleError = (cause?: unknown) => new ConflictError(`cluster ${plan.name}: another writer changed ${stale.sort().join(", ")} since this change was planned; nothing was written. Run the command again to plan on top of theirs (for an exported folder, kstate pull first).`, { url: store.cluster(plan.name).url, ...(cause ? { cause } : {}) });
  const only = changed.size === 1 ? plan.files.find((f) => changed.has(f.file)) : undefined;
  if (!only) {
    await mapLimit(plan.files.filter((f) => changed.has(f.file)), 8, async (f) => {
      if ((await revisionOf(f.path)) !== f.base) stale.push(f.file);
    });
  }
  if (stale.length > 0) throw staleError();
  const done: string[] = [];
  try {
    return {
      plan,
      revisions: await writePlan(plan, (f, revision) => {
        done.push(f.file);
        written?.(f, revision);
      }),
    };
  } catch (e) {
    if (!lostRace(e)) throw e;
    if (only) {
      stale.push(only.file);
      throw staleError(e);
    }
    // Within the last moment: what was written stays (each file is whole), and is named.
    throw new ConflictError(`cluster ${plan.name}: another writer changed it while this change was being written; nothing of theirs was overwritten${done.length ? `, and these files of this change were written before: ${done.join(", ")}` : ", and nothing was written"}. Run the command again to plan on top of theirs (for an exported folder, kstate pull first).`, { url: store.cluster(plan.name).url, cause: e });
  }
}

/** A file's revision now, or undefined when it is absent. */
async function revisionOf(path: VfsPath): Promise<Revision | undefined> {
  return (await statIfPresent(path))?.revision;
}

/** The text a planned document is written as (for previews of whole documents). */
export function plannedText(f: PlannedFile): string | undefined {
  return f.doc ? stringifyYaml(f.doc) : f.data?.toString("utf8");
}
