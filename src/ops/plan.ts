/**
 * A plan of document changes, whichever road made it (a program's options merged by ownership,
 * or whole documents from a folder, an editor or an old revision): the files to write or delete,
 * one change line per field, the problems that block it, and the one way such a plan is written.
 */
import type { ClusterKeysPlan } from "./cluster-keys";
import type { Document } from "yaml";
import { type StoredDocument, writeDocument } from "../store/cluster-store";
import { formatPath } from "../store/field-path";
import { CONFIG_FILE, INSTANCE_GROUP_DIR } from "../store/layout";
import { ownersOf, SECRETS, withoutOwners } from "../store/managed-fields";
import { getIn, setIn, toPlain } from "../store/yaml";
import { AlreadyExistsError, PreconditionFailedError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";
import { flatten } from "./merge";
import type { SecretChange } from "./secrets";
import { type Problem, validateClusterWithGroups } from "./validate";

export type Doc = Record<string, unknown>;

/** The field paths a manager owns, by file (`config`, `instancegroup/<name>`); `.` is the document itself. */
export type Ownership = Record<string, string[]>;

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface FileChange {
  /** `config`, `instancegroup/<name>` or `secrets/<name>`. */
  file: string;
  action: "create" | "update" | "delete";
  fields: FieldChange[];
  /** Managers whose owned fields change: `[added, removed]`. */
  owners: Record<string, [number, number]>;
  /** The creation time shown is the plan's, not the one written (see PlannedFile.stamped). */
  stamped?: boolean;
}

export interface PlannedFile {
  file: string;
  path: VfsPath;
  /** The revision read, or undefined for a new file. */
  base: Revision | undefined;
  before: Doc | undefined;
  /** The document to write, or null to delete the file. */
  doc: Document | null;
  /** Bytes written in place of a document (a secret), when `doc` is null and the file stays. */
  data?: Buffer;
  /** Its creation time is the plan's own, set again when a re-planned apply writes it. */
  stamped?: boolean;
  after: Doc | undefined;
}

export interface ClusterPlan {
  name: string;
  /** The cluster had a `config` before. */
  existed: boolean;
  /** The cluster existed and its config was not created by this manager. */
  adopted: boolean;
  files: PlannedFile[];
  changes: FileChange[];
  /** What the manager owns once the plan is applied. */
  ownership: Ownership;
  /** Invalid results: nothing may be written. */
  problems: Problem[];
  /** Fields other managers own that this change would set to other values. */
  conflicts: Problem[];
  /** Secret files to write or delete, after the documents. */
  secrets: SecretChange[];
  /** The manager's keys (admin SSH key, cluster CA), written after the secrets. */
  keys?: ClusterKeysPlan;
}

export function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function plain(doc: Document | undefined): Doc | undefined {
  return doc ? (toPlain(doc) as Doc) : undefined;
}

/**
 * Field-level differences between two plain documents (named lists compared item by item). The
 * ownership records are not compared: `ownershipChanges` describes those.
 */
export function diffDocuments(before: Doc | undefined, after: Doc | undefined): FieldChange[] {
  // An absent document has no fields (not an empty root): a create lists only what it adds.
  const leaves = (d: Doc | undefined) => new Map(flatten(withoutOwners(d) ?? {}).filter((a) => a.value !== undefined && a.path.length > 0).map((a) => [formatPath(a.path), a.value]));
  const b = leaves(before);
  const a = leaves(after);
  const changes: FieldChange[] = [];
  for (const key of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(key);
    const y = a.get(key);
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    const c: FieldChange = { path: key };
    if (b.has(key)) c.before = x;
    if (a.has(key)) c.after = y;
    changes.push(c);
  }
  return changes.sort((p, q) => (p.path < q.path ? -1 : 1));
}

/** How each manager's owned fields change between two plain documents: `{ manager: [added, removed] }`. */
export function ownershipChanges(before: Doc | undefined, after: Doc | undefined): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const [sub, label] of [[undefined, ""], [SECRETS, " (secrets)"]] as const) {
    const b = ownersOf(before, sub);
    const a = ownersOf(after, sub);
    for (const m of [...new Set([...b.keys(), ...a.keys()])].sort()) {
      const was = b.get(m) ?? new Set<string>();
      const now = a.get(m) ?? new Set<string>();
      const added = [...now].filter((p) => !was.has(p)).length;
      const removed = [...was].filter((p) => !now.has(p)).length;
      if (added + removed > 0) out[`${m}${label}`] = [added, removed];
    }
  }
  return out;
}

/** One more `metadata.generation` when the spec changed, as kops counts them. */
export function bumpGeneration(doc: Document, before: Doc | undefined, after: Doc | undefined): void {
  if (!before) return;
  if (JSON.stringify(before.spec) === JSON.stringify(after?.spec)) return;
  const current = getIn(doc, ["metadata", "generation"]);
  setIn(doc, ["metadata", "generation"], (typeof current === "number" ? current : 0) + 1);
}

/** The change of each planned file that changes anything. */
export function fileChanges(files: readonly PlannedFile[]): FileChange[] {
  const changes: FileChange[] = [];
  for (const f of files) {
    const fields = diffDocuments(f.before, f.after);
    const owners = ownershipChanges(f.before, f.after);
    if (f.doc === null && f.data === undefined) {
      if (f.base !== undefined) changes.push({ file: f.file, action: "delete", fields, owners: {} });
    } else if (f.base === undefined) changes.push({ file: f.file, action: "create", fields, owners, ...(f.stamped ? { stamped: true } : {}) });
    else if (fields.length > 0 || Object.keys(owners).length > 0) changes.push({ file: f.file, action: "update", fields, owners });
  }
  return changes;
}

export const GROUP_PREFIX = `${INSTANCE_GROUP_DIR}/`;

/**
 * The whole cluster as the planned files leave it, validated as kops would: the config and every
 * group, stored or planned. No problems when the config goes.
 */
export function validatePlanned(name: string, stored: StoredDocument | undefined, storedGroups: ReadonlyMap<string, StoredDocument>, files: readonly PlannedFile[]): Problem[] {
  const config = files.find((f) => f.file === CONFIG_FILE);
  const configAfter = config ? config.after : plain(stored?.doc);
  if (configAfter === undefined) return [];
  const groupsBefore: Record<string, unknown> = {};
  for (const [g, d] of storedGroups) groupsBefore[g] = plain(d.doc);
  const groups: Record<string, unknown> = { ...groupsBefore };
  for (const f of files) {
    if (!f.file.startsWith(GROUP_PREFIX)) continue;
    const g = f.file.slice(GROUP_PREFIX.length);
    if (f.doc === null) delete groups[g];
    else groups[g] = f.after;
  }
  const after = validateClusterWithGroups(configAfter, groups, plain(stored?.doc), name, groupsBefore);
  if (!stored || after.length === 0) return after;
  // A problem the store already has, in a file this change leaves alone, is not this change's to
  // answer for: kops itself writes groups kstate would not (`kops create ig` leaves out the
  // cluster label, which kops adds on reading), and they must not block every other change.
  const changed = new Set(files.filter((f) => JSON.stringify(f.before) !== JSON.stringify(f.after) || f.doc === null).map((f) => f.file));
  const key = (p: Problem) => `${p.file ?? ""}\u0000${p.path}\u0000${p.message}`;
  const before = new Set(validateClusterWithGroups(plain(stored.doc), groupsBefore, plain(stored.doc), name, groupsBefore).map(key));
  return after.filter((p) => (p.file !== undefined && changed.has(p.file)) || !before.has(key(p)));
}

/** Whether an error is another writer getting in between a read and a conditional write. */
export function lostRace(e: unknown): boolean {
  return PreconditionFailedError.isInstance(e) || AlreadyExistsError.isInstance(e);
}

/**
 * Writes a plan's changed files, each only if it is still at the revision read (a new one only if
 * it is still absent), in the order that never shows a half-made cluster: one round of requests
 * per step of that order, the files of a step together. Returns the revision each written file
 * got; `written` hears of each file as it lands. When a write fails, the others of its step are
 * let finish (and heard of) before the first failure is thrown, and no later step starts.
 */
export async function writePlan(plan: Pick<ClusterPlan, "files" | "changes" | "existed">, written: (f: PlannedFile, revision: Revision | undefined) => void = () => {}): Promise<Record<string, Revision>> {
  const revisions: Record<string, Revision> = {};
  const changed = new Set(plan.changes.map((c) => c.file));
  const steps = new Map<number, PlannedFile[]>();
  for (const f of plan.files.filter((x) => changed.has(x.file))) steps.set(rank(f, plan), [...(steps.get(rank(f, plan)) ?? []), f]);
  for (const [, files] of [...steps].sort(([a], [b]) => a - b)) {
    const results = await Promise.allSettled(files.map(async (f) => {
      if (f.doc !== null) revisions[f.file] = await writeDocument(f.path, f.doc, f.base);
      else if (f.data !== undefined) revisions[f.file] = (f.base === undefined ? await f.path.create(f.data) : await f.path.write(f.data, { ifRevision: f.base })).revision;
      else await f.path.remove({ ifRevision: f.base! });
      written(f, revisions[f.file]);
    }));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
  return revisions;
}

/**
 * Write order: groups first and the config last when creating; when the config goes, groups
 * after it (the cluster disappears first); other deletions last.
 */
function rank(f: PlannedFile, plan: Pick<ClusterPlan, "files" | "existed">): number {
  const gone = (x: PlannedFile) => x.doc === null && x.data === undefined;
  const configGoes = plan.files.some((x) => x.file === CONFIG_FILE && gone(x));
  if (f.file === CONFIG_FILE) return gone(f) ? 0 : plan.existed ? 0 : 2;
  if (gone(f)) return configGoes ? 1 : 3;
  return 1;
}

/** The value of a change line: JSON, except the per-write creation time, which no plan can know. */
function shown(path: string, value: unknown, stamped: boolean): string {
  return stamped && path === "metadata.creationTimestamp" ? "(the time of writing)" : JSON.stringify(value);
}

/** One line per change, for previews and plans: `config: ~ spec.kubernetesVersion: "v1.30.2" -> "v1.31.0"`. */
export function describeChanges(plan: Pick<ClusterPlan, "changes">): string[] {
  const lines: string[] = [];
  for (const c of plan.changes) {
    if (c.action === "delete") {
      lines.push(`${c.file}: delete`);
      continue;
    }
    if (c.action === "create") lines.push(`${c.file}: create`);
    for (const f of c.fields) {
      if (f.before === undefined) lines.push(`${c.file}: + ${f.path}: ${shown(f.path, f.after, c.stamped === true)}`);
      else if (f.after === undefined) lines.push(`${c.file}: - ${f.path}: ${shown(f.path, f.before, c.stamped === true)}`);
      else lines.push(`${c.file}: ~ ${f.path}: ${shown(f.path, f.before, c.stamped === true)} -> ${shown(f.path, f.after, c.stamped === true)}`);
    }
    for (const [manager, [added, removed]] of Object.entries(c.owners)) {
      lines.push(`${c.file}: ~ owner ${manager}: ${[added ? `+${added}` : "", removed ? `-${removed}` : ""].filter(Boolean).join(" ")} field${added + removed === 1 ? "" : "s"}`);
    }
  }
  return lines;
}
