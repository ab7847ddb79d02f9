/**
 * Planning and applying a cluster's documents: the options and overlays of a program (or the
 * CLI) merged into what the store holds, validated, then written with conditional writes. The
 * Pulumi provider and the `kstate` CLI both run this code.
 */
import type { Document } from "yaml";
import { type ClusterStore, type StoredDocument, writeDocument } from "../store/cluster-store";
import { type FieldPath, formatPath, parsePath } from "../store/field-path";
import { API_VERSION, CLUSTER_LABEL } from "../store/layout";
import { getIn, hasIn, newDocument, parseYaml, setIn, stringifyYaml, toPlain } from "../store/yaml";
import { AlreadyExistsError, ConflictError, PreconditionFailedError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";
import { applyOverlay, flatten, mergeOverlay } from "./merge";
import { type ClusterOptions, configBaseFor, expandOptions } from "./options";
import { cloudOf, type Problem, validateClusterWithGroups, validationError } from "./validate";

type Doc = Record<string, unknown>;

export interface ClusterRequest {
  /** The cluster's name, e.g. dev.k8s.example.com. */
  name: string;
  /** The store URL (for `spec.configBase` and the cloud guessed from it). */
  storeUrl: string;
  options?: ClusterOptions;
  /** Merged into the Cluster's `spec`. */
  spec?: Doc;
  /** Merged into each named InstanceGroup's `spec`. */
  instanceGroups?: Record<string, Doc>;
}

/** What the program set last time, so that fields it stops setting can be removed. */
export interface Ownership {
  config: string[];
  instanceGroups: Record<string, string[]>;
  /** Groups the program created; they are deleted when the program stops asking for them. */
  createdGroups: string[];
}

export const NO_OWNERSHIP: Ownership = { config: [], instanceGroups: {}, createdGroups: [] };

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface FileChange {
  /** `config` or `instancegroup/<name>`. */
  file: string;
  action: "create" | "update" | "delete";
  fields: FieldChange[];
}

export interface PlannedFile {
  file: string;
  path: VfsPath;
  /** The revision read, or undefined for a new file. */
  base: Revision | undefined;
  before: Doc | undefined;
  /** The document to write, or null to delete the file. */
  doc: Document | null;
  after: Doc | undefined;
}

export interface ClusterPlan {
  name: string;
  /** The cluster had a `config` before. */
  existed: boolean;
  files: PlannedFile[];
  changes: FileChange[];
  ownership: Ownership;
  problems: Problem[];
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function plain(doc: Document | undefined): Doc | undefined {
  return doc ? (toPlain(doc) as Doc) : undefined;
}

function clone(doc: Document, source: string): Document {
  return parseYaml(stringifyYaml(doc), source);
}

/** The plain value at a field path of a plain object. */
export function valueAt(obj: unknown, path: FieldPath): unknown {
  let node = obj;
  for (const seg of path) {
    if (typeof seg === "string") node = typeof node === "object" && node !== null && !Array.isArray(node) ? (node as Doc)[seg] : undefined;
    else node = Array.isArray(node) ? node.find((i) => typeof i === "object" && i !== null && (i as Doc).name === seg.name) : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Field-level differences between two plain documents (named lists compared item by item). */
export function diffDocuments(before: Doc | undefined, after: Doc | undefined): FieldChange[] {
  const leaves = (d: Doc | undefined) => new Map(flatten(d ?? {}).filter((a) => a.value !== undefined).map((a) => [formatPath(a.path), a.value]));
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

/** Paths to named list items present in a document, to tell new items from old ones. */
function namedItems(doc: Document): Set<string> {
  return new Set(flatten(toPlain(doc) ?? {}).filter((a) => a.value === undefined).map((a) => formatPath(a.path)));
}

/**
 * Fills fields kops would set on create: on a new document everywhere, on an existing one only
 * inside named items (subnets, etcd members) that did not exist before this change.
 */
function applyDefaults(doc: Document, defaults: Doc, isNew: boolean, itemsBefore: Set<string>): void {
  for (const { path, value } of flatten(defaults)) {
    if (value === undefined || path.length === 0) continue;
    const itemPrefixes = path.map((_, i) => path.slice(0, i + 1)).filter((p) => typeof p[p.length - 1] !== "string");
    if (itemPrefixes.some((p) => !hasIn(doc, p))) continue; // defaults never create list items
    if (!isNew && !itemPrefixes.some((p) => !itemsBefore.has(formatPath(p)))) continue;
    if (!hasIn(doc, path)) setIn(doc, path, value);
  }
}

function bumpGeneration(doc: Document, before: Doc | undefined, after: Doc | undefined): void {
  if (!before) return;
  if (JSON.stringify(before.spec) === JSON.stringify(after?.spec)) return;
  const current = getIn(doc, ["metadata", "generation"]);
  setIn(doc, ["metadata", "generation"], (typeof current === "number" ? current : 0) + 1);
}

function roleOf(d: Doc | undefined): string | undefined {
  const r = (d?.spec as Doc | undefined)?.role;
  return typeof r === "string" ? r : undefined;
}

/** Role-wide options (sizes, images) for groups the options did not lay out (no `zones`). */
function roleOverlays(o: ClusterOptions | undefined, groups: Map<string, StoredDocument>): Record<string, Doc> {
  const out: Record<string, Doc> = {};
  if (!o || o.zones) return out;
  for (const [name, stored] of groups) {
    const role = roleOf(plain(stored.doc));
    const cp = role === "Master" || role === "ControlPlane";
    const spec: Doc = {};
    const size = cp ? o.controlPlaneSize : role === "Node" ? o.nodeSize : undefined;
    const image = cp ? o.controlPlaneImage ?? o.image : role === "Node" ? o.nodeImage ?? o.image : undefined;
    if (size) spec.machineType = size;
    if (image) spec.image = image;
    if (Object.keys(spec).length > 0) out[name] = { spec };
  }
  return out;
}

/** Reads the cluster and works out every document change, without writing anything. */
export async function planCluster(store: ClusterStore, req: ClusterRequest, previous: Ownership, now = new Date()): Promise<ClusterPlan> {
  const [stored, storedGroups] = await Promise.all([store.readConfig(req.name), store.readInstanceGroups(req.name)]);
  const expansion = req.options ? expandOptions(req.name, req.storeUrl, req.options, stored ? cloudOf(plain(stored.doc)?.spec as Record<string, unknown> | undefined) : undefined) : undefined;
  const files: PlannedFile[] = [];
  const ownership: Ownership = { config: [], instanceGroups: {}, createdGroups: [] };

  // The Cluster.
  const configSource = store.configPath(req.name).url;
  const configDoc = stored ? clone(stored.doc, configSource)
    : newDocument({ apiVersion: API_VERSION, kind: "Cluster", metadata: { creationTimestamp: timestamp(now), name: req.name }, spec: {} });
  const itemsBefore = namedItems(configDoc);
  const clusterOverlay = mergeOverlay(expansion?.owned.cluster ?? {}, req.spec ? { spec: req.spec } : {}) as Doc;
  ownership.config = applyOverlay(configDoc, clusterOverlay, previous.config).owned;
  const clusterDefaults = mergeOverlay({ spec: { configBase: configBaseFor(req.storeUrl, req.name) } }, expansion?.defaults.cluster ?? {}) as Doc;
  applyDefaults(configDoc, clusterDefaults, !stored, itemsBefore);
  const configBefore = plain(stored?.doc);
  bumpGeneration(configDoc, configBefore, plain(configDoc));
  files.push({ file: "config", path: store.configPath(req.name), base: stored?.revision, before: configBefore, doc: configDoc, after: plain(configDoc) });

  // The instance groups.
  const fromOptions = expansion?.owned.instanceGroups ?? {};
  const fromRoles = roleOverlays(req.options, storedGroups);
  const names = new Set([...Object.keys(fromOptions), ...Object.keys(req.instanceGroups ?? {})]);
  const touched = new Set([...names, ...Object.keys(fromRoles), ...Object.keys(previous.instanceGroups), ...previous.createdGroups]);
  for (const name of [...touched].sort()) {
    const existing = storedGroups.get(name);
    const path = store.instanceGroupPath(req.name, name);
    const before = plain(existing?.doc);
    const wanted = names.has(name) || name in fromRoles;
    if (!wanted && previous.createdGroups.includes(name)) {
      if (existing) files.push({ file: `instancegroup/${name}`, path, base: existing.revision, before, doc: null, after: undefined });
      continue;
    }
    if (!wanted && !existing) continue;
    const doc = existing ? clone(existing.doc, path.url)
      : newDocument({ apiVersion: API_VERSION, kind: "InstanceGroup", metadata: { creationTimestamp: timestamp(now), labels: { [CLUSTER_LABEL]: req.name }, name }, spec: {} });
    const groupItems = namedItems(doc);
    const overlay = mergeOverlay(mergeOverlay(fromOptions[name] ?? {}, fromRoles[name] ?? {}), req.instanceGroups?.[name] ? { spec: req.instanceGroups[name] } : {}) as Doc;
    const owned = applyOverlay(doc, wanted ? overlay : {}, previous.instanceGroups[name] ?? []).owned;
    if (owned.length > 0) ownership.instanceGroups[name] = owned;
    applyDefaults(doc, expansion?.defaults.instanceGroups[name] ?? {}, !existing, groupItems);
    bumpGeneration(doc, before, plain(doc));
    if (wanted && (!existing || previous.createdGroups.includes(name))) ownership.createdGroups.push(name);
    files.push({ file: `instancegroup/${name}`, path, base: existing?.revision, before, doc, after: plain(doc) });
  }

  // Validate the cluster as a whole, as it would be after the change.
  const groups: Record<string, unknown> = {};
  for (const [name, d] of storedGroups) groups[name] = plain(d.doc);
  for (const f of files) {
    if (!f.file.startsWith("instancegroup/")) continue;
    const name = f.file.slice("instancegroup/".length);
    if (f.doc === null) delete groups[name];
    else groups[name] = f.after;
  }
  const problems = validateClusterWithGroups(plain(configDoc), groups, configBefore);

  const changes: FileChange[] = [];
  for (const f of files) {
    const fields = diffDocuments(f.before, f.after ?? undefined);
    if (f.doc === null) changes.push({ file: f.file, action: "delete", fields });
    else if (f.base === undefined) changes.push({ file: f.file, action: "create", fields });
    else if (fields.length > 0) changes.push({ file: f.file, action: "update", fields });
  }
  return { name: req.name, existed: stored !== undefined, files, changes, ownership, problems };
}

export interface ApplyOptions {
  /** What to do when another writer changed a field this program owns while it was writing. */
  onConflict?: "fail" | "overwrite";
  /** Attempts at the read-merge-write cycle when other writers get in between. Default 8. */
  attempts?: number;
  now?: Date;
}

export interface AppliedCluster {
  plan: ClusterPlan;
  /** The revision each written document got, by file (deleted files are absent). */
  revisions: Record<string, Revision>;
  /** Read-merge-write cycles it took. */
  attempts: number;
}

/** The owned paths (by file) whose values differ between two readings. */
function ownedDrift(expected: Map<string, Doc | undefined>, plan: ClusterPlan, previous: Ownership): string[] {
  const drift: string[] = [];
  for (const f of plan.files) {
    if (!expected.has(f.file)) continue;
    const want = expected.get(f.file);
    const group = f.file.startsWith("instancegroup/") ? f.file.slice("instancegroup/".length) : undefined;
    const owned = new Set(group === undefined
      ? [...previous.config, ...plan.ownership.config]
      : [...(previous.instanceGroups[group] ?? []), ...(plan.ownership.instanceGroups[group] ?? [])]);
    if (want === undefined && f.before !== undefined && owned.size > 0) {
      drift.push(`${f.file} (created by another writer)`);
      continue;
    }
    for (const p of owned) {
      const path = parsePath(p);
      if (JSON.stringify(valueAt(want, path)) !== JSON.stringify(valueAt(f.before, path))) drift.push(`${f.file}: ${p}`);
    }
  }
  return drift;
}

/**
 * Plans and writes a cluster. Each document is written only if it is still at the revision read;
 * when another writer got in between, the cluster is read again and merged again. If that writer
 * changed a field this program owns, the result is a `ConflictError`, unless `onConflict` is
 * "overwrite". Instance groups are written before a new `config`, so a cluster only appears once
 * it is whole.
 */
export async function applyCluster(store: ClusterStore, req: ClusterRequest, previous: Ownership, options: ApplyOptions = {}): Promise<AppliedCluster> {
  const attempts = options.attempts ?? 8;
  const expected = new Map<string, Doc | undefined>();
  for (let attempt = 1; ; attempt++) {
    const plan = await planCluster(store, req, previous, options.now);
    if (plan.problems.length > 0) {
      throw validationError(req.name, plan.problems);
    }
    if (attempt > 1 && options.onConflict !== "overwrite") {
      const drift = ownedDrift(expected, plan, previous);
      if (drift.length > 0) {
        throw new ConflictError(`cluster ${req.name}: another writer changed fields this program sets while it was writing; nothing of theirs was overwritten:\n  ${drift.join("\n  ")}\nRe-run to apply on top of their change, or set onConflict: "overwrite".`, { url: store.cluster(req.name).url });
      }
    }
    for (const f of plan.files) expected.set(f.file, f.before);
    const revisions: Record<string, Revision> = {};
    const order = [...plan.files].sort((a, b) => rank(a, plan) - rank(b, plan));
    try {
      for (const f of order) {
        const change = plan.changes.find((c) => c.file === f.file);
        if (!change) continue;
        if (f.doc === null) await f.path.remove({ ifRevision: f.base! });
        else revisions[f.file] = await writeDocument(f.path, f.doc, f.base);
        expected.set(f.file, f.after);
      }
    } catch (e) {
      const raced = PreconditionFailedError.isInstance(e) || AlreadyExistsError.isInstance(e);
      if (!raced || attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      continue;
    }
    return { plan, revisions, attempts: attempt };
  }
}

/** Write order: groups first and the config last when creating; deletions after the config. */
function rank(f: PlannedFile, plan: ClusterPlan): number {
  if (f.doc === null) return 3;
  if (f.file === "config") return plan.existed ? 0 : 2;
  return 1;
}

/** One line per change, for previews and plans: `config: spec.kubernetesVersion: "v1.30.2" -> "v1.31.0"`. */
export function describeChanges(plan: Pick<ClusterPlan, "changes" | "existed" | "name">): string[] {
  const lines: string[] = [];
  for (const c of plan.changes) {
    if (c.action === "delete") {
      lines.push(`${c.file}: delete`);
      continue;
    }
    if (c.action === "create") lines.push(`${c.file}: create`);
    for (const f of c.fields) {
      if (f.before === undefined) lines.push(`${c.file}: + ${f.path}: ${JSON.stringify(f.after)}`);
      else if (f.after === undefined) lines.push(`${c.file}: - ${f.path}: ${JSON.stringify(f.before)}`);
      else lines.push(`${c.file}: ~ ${f.path}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`);
    }
  }
  return lines;
}

