/**
 * Planning and applying a cluster's documents: the options and overlays of a program (or the
 * CLI) merged into what the store holds, validated, then written with conditional writes. The
 * Pulumi provider and the `kstate` CLI both run this code.
 */
import type { Document } from "yaml";
import type { ClusterRead, ClusterStore, StoredDocument } from "../store/cluster-store";
import { type FieldPath, formatPath, parsePath } from "../store/field-path";
import { API_VERSION, CLUSTER_LABEL, configBaseOf } from "../store/layout";
import { BEFORE_FIRST_APPLY, DOCUMENT, type Owners, ownersOf, readOwners, SECRETS, writeOwners } from "../store/managed-fields";
import { applyClusterKeys, type ClusterKeysRequest, planClusterKeys } from "./cluster-keys";
import { applySecrets, planSecretFiles, type SecretChange } from "./secrets";
import { keptElsewhere } from "./ssh-key";
import { getIn, hasIn, newDocument, setIn, toPlain } from "../store/yaml";
import { ConflictError } from "../vfs/errors";
import type { Revision, VfsPath } from "../vfs/path";
import { applyOverlay, flatten, mergeOverlay } from "./merge";
import { expandOptions, isOptionField } from "./expand";
import type { ClusterOptions } from "./options";
import { bumpGeneration, type ClusterPlan, type Doc, fileChanges, GROUP_PREFIX, lostRace, type Ownership, type PlannedFile, plain, timestamp, validatePlanned, writePlan } from "./plan";
import { type Problem, validationError } from "./validate";
import { loadKopsSchemaSoon } from "../schema/check";

export { describeChanges, diffDocuments, ownershipChanges, type ClusterPlan, type FieldChange, type FileChange, type Ownership, type PlannedFile } from "./plan";

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
  /**
   * The writer, recorded in each document as the owner of the fields it sets (a Pulumi resource:
   * `pulumi:<project>/<stack>/<name>`). Without one the change is an edit: it sets what it names,
   * records nothing and removes nothing.
   */
  manager?: string;
  /** Take fields another manager owns with another value, instead of a conflict. */
  takeOver?: boolean;
  /**
   * Let go of everything the manager owns (destroy): its fields are removed as an update that sets
   * nothing would remove them, and the documents it created go when nobody else owns anything in
   * them (the config only when nobody else owns anything in the whole cluster).
   */
  release?: boolean;
  /** What the manager owned by an earlier record (Pulumi state of an earlier release), used when no document names it. */
  recorded?: Ownership;
  /**
   * The kops secrets the manager keeps (`secrets/<name>`), by name, and the names it kept by an
   * earlier record. Their ownership is recorded on `config` as the `secrets` subresource.
   */
  secrets?: { desired: Record<string, string>; previous?: readonly string[] };
  /** The keys the manager keeps where kops keeps them (not let go of on release: see cluster-keys.ts). */
  keys?: ClusterKeysRequest;
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

/** Paths to named list items present in a document, to tell new items from old ones. */
function namedItems(doc: Document): Set<string> {
  return new Set(flatten(toPlain(doc) ?? {}).filter((a) => a.value === undefined).map((a) => formatPath(a.path)));
}

/**
 * Fills fields kops would set on create: on a new document everywhere, on an existing one only
 * inside named items (subnets, etcd members) that did not exist before this change.
 */
function applyDefaults(doc: Document, defaults: Doc, isNew: boolean, itemsBefore: Set<string>, removed: ReadonlySet<string> = new Set()): void {
  for (const { path, value } of flatten(defaults)) {
    if (value === undefined || path.length === 0) continue;
    // A field the request removes (`--unset`, a `null`) is not filled back in; on a new document
    // the map that held it stays, empty, as kops leaves it.
    const at = path.findIndex((_, i) => removed.has(formatPath(path.slice(0, i + 1))));
    if (at >= 0) {
      if (isNew && at >= 2 && !hasIn(doc, path.slice(0, at))) setIn(doc, path.slice(0, at), {});
      continue;
    }
    const itemPrefixes = path.map((_, i) => path.slice(0, i + 1)).filter((p) => typeof p[p.length - 1] !== "string");
    if (itemPrefixes.some((p) => !hasIn(doc, p))) continue; // defaults never create list items
    if (!isNew && !itemPrefixes.some((p) => !itemsBefore.has(formatPath(p)))) continue;
    // Nor below a value that is not a map (a program's `kubelet: "x"` is its own to answer for).
    const blocked = path.slice(0, -1).some((_, i) => {
      const at = getIn(doc, path.slice(0, i + 1));
      return at !== undefined && (typeof at !== "object" || at === null);
    });
    if (!blocked && !hasIn(doc, path)) setIn(doc, path, value);
  }
}

function sameValue(current: unknown, wanted: unknown): boolean {
  // An empty map in an overlay asks only that the map be there.
  if (typeof wanted === "object" && wanted !== null && !Array.isArray(wanted) && Object.keys(wanted).length === 0) {
    return typeof current === "object" && current !== null && !Array.isArray(current);
  }
  return JSON.stringify(current ?? null) === JSON.stringify(wanted ?? null);
}

interface Merged {
  /** The manager's owned paths after the merge (`.` included when it owns the document). */
  owned: Set<string>;
  conflicts: Problem[];
}

/**
 * Merges a manager's overlay into one document and records who owns what in it. A field another
 * manager owns is a conflict when this overlay wants another value for it (taken over instead with
 * `takeOver`); the same value is shared. A field that was there, owned by nobody, and is set to
 * the value it has is shared with `before-first-apply`, so it stays when this manager lets go.
 */
function mergeOwned(doc: Document, file: string, overlay: Doc, manager: string | undefined, previous: readonly string[], opts: { takeOver: boolean; created: boolean; keep: ReadonlySet<string> }): Merged {
  if (manager === undefined) return { owned: new Set(applyOverlay(doc, overlay, [], new Set()).owned), conflicts: [] };
  const owners = readOwners(doc);
  const mine = new Set(owners.get(manager) ?? previous);
  owners.delete(manager);
  const conflicts: Problem[] = [];
  const shared = owners.get(BEFORE_FIRST_APPLY) ?? new Set<string>();
  const ownedBySomeone = (key: string) => mine.has(key) || [...owners.values()].some((ps) => ps.has(key));
  for (const { path, value } of flatten(overlay)) {
    if (path.length === 0) continue;
    const key = formatPath(path);
    const present = hasIn(doc, path);
    if (value === undefined) {
      // A named item, owned whole: shared with whoever has it; never a conflict.
      if (present && !ownedBySomeone(key)) shared.add(key);
      continue;
    }
    const current = getIn(doc, path);
    const same = value === null ? !present : present && sameValue(current, value);
    if (same) {
      if (present && !ownedBySomeone(key)) shared.add(key);
      continue;
    }
    shared.delete(key);
    // A null or a value that is not a map replaces everything below it too.
    const replacesBelow = value === null || typeof value !== "object" || Array.isArray(value);
    const hit = (p: string) => p === key || (replacesBelow && (p.startsWith(`${key}.`) || p.startsWith(`${key}[`)));
    for (const [other, paths] of owners) {
      if (other === BEFORE_FIRST_APPLY) continue;
      for (const p of [...paths].filter(hit)) {
        if (opts.takeOver) paths.delete(p);
        else conflicts.push({ file, path: p, message: `owned by ${other} (${JSON.stringify(getIn(doc, parsePath(p)) ?? null)}); this change sets ${p === key ? (value === null ? "it absent" : JSON.stringify(value)) : `${key} to ${JSON.stringify(value)}`}` });
      }
    }
  }
  if (shared.size > 0) owners.set(BEFORE_FIRST_APPLY, shared);
  // Fields the manager lets go of that are now kops's defaults (a size once set by the options,
  // now left to the user) keep their values: letting go is not removing.
  const heldByOthers = new Set([...[...owners.values()].flatMap((ps) => [...ps]), ...opts.keep]);
  const owned = new Set(applyOverlay(doc, overlay, [...mine], heldByOthers).owned);
  if (mine.has(DOCUMENT) || opts.created) owned.add(DOCUMENT);
  owners.set(manager, owned);
  writeOwners(doc, owners, parsePath);
  return { owned, conflicts };
}

/** Managers other than `manager` with fields in a document (the shared owner of older values aside). */
function otherManagers(owners: Owners, manager: string | undefined): string[] {
  return [...owners.entries()].filter(([m, ps]) => m !== manager && m !== BEFORE_FIRST_APPLY && ps.size > 0).map(([m]) => m);
}

/**
 * Removes what a manager owns from a document. Returns true instead when the manager created the
 * document, nobody else owns anything in it and it `mayGo`: the document itself is then deleted.
 * A creator that leaves the document to others hands its creation to each manager that holds every
 * field it held (a resource renamed without `aliases` is created anew beside the old one before
 * the old one goes): that successor's own destroy then removes the document as the creator's would
 * have, instead of finding it adopted and refusing to leave it invalid. A manager that set only
 * some of the fields never becomes its creator.
 */
function releaseOwned(doc: Document, manager: string | undefined, previous: readonly string[], mayGo: boolean): boolean {
  if (manager === undefined) return false;
  const owners = readOwners(doc);
  const mine = new Set(owners.get(manager) ?? previous);
  owners.delete(manager);
  if (mayGo && mine.has(DOCUMENT) && otherManagers(owners, manager).length === 0) return true;
  if (mine.has(DOCUMENT)) {
    const fields = [...mine].filter((p) => p !== DOCUMENT);
    for (const other of otherManagers(owners, manager)) {
      const theirs = owners.get(other)!;
      if (fields.every((p) => theirs.has(p))) theirs.add(DOCUMENT);
    }
  }
  const heldByOthers = new Set([...owners.values()].flatMap((ps) => [...ps]));
  applyOverlay(doc, {}, [...mine], heldByOthers);
  writeOwners(doc, owners, parsePath);
  return false;
}

/** What a manager owned, by file: from the documents when any names it, else from the earlier record. */
function priorOwnership(manager: string | undefined, docs: Map<string, StoredDocument | undefined>, recorded: Ownership | undefined): Ownership {
  const out: Ownership = {};
  if (manager === undefined) return out;
  for (const [file, d] of docs) {
    const mine = d ? readOwners(d.doc).get(manager) : undefined;
    if (mine) out[file] = [...mine].sort();
  }
  return Object.keys(out).length > 0 ? out : { ...(recorded ?? {}) };
}

/**
 * Reads the cluster (unless `read` is the cluster as already read) and works out every document
 * change, without writing anything.
 */
export async function planCluster(store: ClusterStore, req: ClusterRequest, now = new Date(), read?: ClusterRead | Promise<ClusterRead>): Promise<ClusterPlan> {
  const reading = read ?? store.readCluster(req.name);
  if (reading instanceof Promise) loadKopsSchemaSoon(); // checked against once the documents are read
  const { config: stored, groups: storedGroups } = await reading;
  const wants = !req.release;
  const options = wants ? req.options : undefined;
  const storedCluster = stored ? { spec: (plain(stored.doc)?.spec ?? {}) as Doc, groups: new Map([...storedGroups].map(([n, d]) => [n, plain(d.doc) ?? {}] as const)) } : undefined;
  const expansion = options ? expandOptions(req.name, req.storeUrl, options, storedCluster) : undefined;
  const docs = new Map<string, StoredDocument | undefined>([["config", stored], ...[...storedGroups].map(([n, d]) => [`instancegroup/${n}`, d] as const)]);
  const prior = priorOwnership(req.manager, docs, req.recorded);
  const files: PlannedFile[] = [];
  const ownership: Ownership = {};
  const conflicts: Problem[] = [];
  const manage = (file: string, doc: Document, overlay: Doc, created: boolean, defaults: Doc) => {
    const keep = new Set(flatten(defaults).filter((a) => a.value !== undefined && a.path.length > 0).map((a) => formatPath(a.path)));
    if (options) for (const p of prior[file] ?? []) if (isOptionField(file, p)) keep.add(p);
    const merged = mergeOwned(doc, file, overlay, req.manager, prior[file] ?? [], { takeOver: req.takeOver === true, created, keep });
    conflicts.push(...merged.conflicts);
    if (req.manager !== undefined && merged.owned.size > 0) ownership[file] = [...merged.owned].sort();
  };

  // The instance groups: those the options or the program name, those options reach by role, and
  // those the manager owns something in.
  const fromOptions = expansion?.owned.instanceGroups ?? {};
  const asked = wants ? new Set([...Object.keys(fromOptions), ...(expansion?.groups ?? []), ...Object.keys(req.instanceGroups ?? {})]) : new Set<string>();
  const ownedGroups = Object.keys(prior).filter((f) => f.startsWith(GROUP_PREFIX)).map((f) => f.slice(GROUP_PREFIX.length));
  const groupFiles: PlannedFile[] = [];
  for (const name of [...new Set([...asked, ...ownedGroups])].sort()) {
    const file = `${GROUP_PREFIX}${name}`;
    const existing = storedGroups.get(name);
    const path = store.instanceGroupPath(req.name, name);
    const before = plain(existing?.doc);
    if (!asked.has(name)) {
      if (!existing) continue;
      const doc = existing.doc.clone();
      if (releaseOwned(doc, req.manager, prior[file] ?? [], true)) {
        groupFiles.push({ file, path, base: existing.revision, before, doc: null, after: undefined });
        continue;
      }
      bumpGeneration(doc, before, plain(doc));
      groupFiles.push({ file, path, base: existing.revision, before, doc, after: plain(doc) });
      continue;
    }
    const doc = existing ? existing.doc.clone()
      : newDocument({ apiVersion: API_VERSION, kind: "InstanceGroup", metadata: { creationTimestamp: timestamp(now), labels: { [CLUSTER_LABEL]: req.name }, name }, spec: {} });
    const groupItems = namedItems(doc);
    const overlay = mergeOverlay(fromOptions[name] ?? {}, req.instanceGroups?.[name] ? { spec: req.instanceGroups[name] } : {}) as Doc;
    const groupDefaults = expansion?.defaults.instanceGroups[name] ?? {};
    manage(file, doc, overlay, !existing, groupDefaults);
    applyDefaults(doc, groupDefaults, !existing, groupItems);
    bumpGeneration(doc, before, plain(doc));
    groupFiles.push({ file, path, base: existing?.revision, before, doc, after: plain(doc), ...(existing ? {} : { stamped: true }) });
  }

  // The Cluster. On release it goes only when this manager created it and nobody else owns
  // anything in the cluster, so another manager's groups are never left without their config.
  const configPath = store.configPath(req.name);
  const configBefore = plain(stored?.doc);
  let configDoc: Document | null = stored ? stored.doc.clone()
    : newDocument({ apiVersion: API_VERSION, kind: "Cluster", metadata: { creationTimestamp: timestamp(now), name: req.name }, spec: {} });
  if (!wants) {
    if (stored) {
      const groupsAfter = new Map<string, Doc | undefined>([...storedGroups].map(([n, d]) => [`${GROUP_PREFIX}${n}`, plain(d.doc)]));
      for (const f of groupFiles) groupsAfter.set(f.file, f.after);
      const othersInGroups = [...groupsAfter.values()].some((d) => otherManagers(ownersOf(d), req.manager).length > 0)
        || otherManagers(readOwners(stored.doc, SECRETS), req.manager).length > 0;
      if (releaseOwned(configDoc!, req.manager, prior.config ?? [], !othersInGroups)) configDoc = null;
    }
  } else {
    const itemsBefore = namedItems(configDoc!);
    const clusterOverlay = mergeOverlay(expansion?.owned.cluster ?? {}, req.spec ? { spec: req.spec } : {}) as Doc;
    const clusterDefaults = mergeOverlay({ spec: { configBase: configBaseOf(store.cluster(req.name).url) } }, expansion?.defaults.cluster ?? {}) as Doc;
    manage("config", configDoc!, clusterOverlay, !stored, clusterDefaults);
    const removed = new Set(flatten(clusterOverlay).filter((a) => a.value === null).map((a) => formatPath(a.path)));
    applyDefaults(configDoc!, clusterDefaults, !stored, itemsBefore, removed);
  }
  const secrets = req.secrets && req.manager !== undefined
    ? await planOwnedSecrets(store.cluster(req.name).join("secrets"), configDoc, req.manager, req.secrets, req.release ? {} : req.secrets.desired, req.takeOver === true, conflicts)
    : [];
  if (configDoc) bumpGeneration(configDoc, configBefore, plain(configDoc));
  if (stored || configDoc) {
    files.push({ file: "config", path: configPath, base: stored?.revision, before: configBefore, doc: configDoc, after: plain(configDoc ?? undefined), ...(stored ? {} : { stamped: true }) });
  }
  files.push(...groupFiles);

  // Options that cannot apply to the stored cluster come first, named as options; then the
  // cluster as a whole, as it would be after the change (unless it goes).
  const problems: Problem[] = (expansion?.problems ?? []).map((p) => ({ path: `options.${p.option}`, message: p.message }));
  if (problems.length === 0) problems.push(...validatePlanned(req.name, stored, storedGroups, files));
  // kops reads secrets where the cluster (as this change leaves it) keeps them: one written here it would never see.
  const written = secrets.filter((c) => c.action !== "delete");
  const secretsElsewhere = written.length > 0 && configDoc ? keptElsewhere(store, req.name, plain(configDoc) as Record<string, unknown>, "secrets", req.storeUrl) : undefined;
  if (secretsElsewhere) problems.push(...written.map((c) => ({ file: `secrets/${c.name}`, path: "", message: `${secretsElsewhere}; kops reads its secrets from there` })));
  const keys = req.keys && !req.release && configDoc ? await planClusterKeys(store, req.name, req.keys, plain(configDoc), req.takeOver === true, problems, conflicts, req.storeUrl) : undefined;
  const changes = fileChanges(files);
  const adopted = stored !== undefined && !(prior.config ?? []).includes(DOCUMENT);
  return { name: req.name, existed: stored !== undefined, adopted, files, changes, ownership, problems, conflicts, secrets, ...(keys ? { keys } : {}) };
}

/**
 * The secrets a manager keeps, planned as its fields are: a secret another manager keeps with
 * another value is a conflict (taken over with `takeOver`); the same value is shared; a secret
 * that was there with that value is shared with `before-first-apply`; one the manager lets go of
 * is deleted only when nobody else keeps it. The record goes on `config` (when it stays).
 */
async function planOwnedSecrets(folder: VfsPath, config: Document | null, manager: string, req: NonNullable<ClusterRequest["secrets"]>, desired: Record<string, string>, takeOver: boolean, conflicts: Problem[]): Promise<SecretChange[]> {
  const owners = config ? readOwners(config, SECRETS) : new Map<string, Set<string>>();
  const key = (name: string) => formatPath([name]);
  const mine = new Set(owners.get(manager) ?? (req.previous ?? []).map(key));
  owners.delete(manager);
  const shared = owners.get(BEFORE_FIRST_APPLY) ?? new Set<string>();
  const names = [...new Set([...Object.keys(desired), ...[...mine].map((k) => parsePath(k)[0] as string)])].sort();
  const files = await planSecretFiles(folder, desired, names);
  const held = (k: string) => [...owners.values()].some((ps) => ps.has(k));
  const changes: SecretChange[] = [];
  for (const f of files) {
    const k = key(f.name);
    if (f.name in desired) {
      if (f.stored !== undefined && f.same) {
        if (!mine.has(k) && !held(k)) shared.add(k);
      } else if (f.stored !== undefined) {
        shared.delete(k);
        for (const [other, ps] of owners) {
          if (other === BEFORE_FIRST_APPLY || !ps.has(k)) continue;
          if (takeOver) ps.delete(k);
          else conflicts.push({ file: `secrets/${f.name}`, path: "Data", message: `kept by ${other} with another value; this change sets a new one` });
        }
      }
      mine.add(k);
      if (!f.same) changes.push({ name: f.name, action: f.stored === undefined ? "create" : "update", ...(f.stored ? { base: f.stored } : {}) });
    } else {
      mine.delete(k);
      if (f.stored !== undefined && !held(k) && !shared.has(k)) changes.push({ name: f.name, action: "delete", base: f.stored });
    }
  }
  if (shared.size > 0) owners.set(BEFORE_FIRST_APPLY, shared);
  owners.set(manager, mine);
  if (config) writeOwners(config, owners, parsePath, SECRETS);
  return changes;
}

export interface ApplyOptions {
  /** What to do when another writer changed a field this program owns while it was writing. */
  onConflict?: "fail" | "overwrite";
  /** Attempts at the read-merge-write cycle when other writers get in between. Default 8. */
  attempts?: number;
  now?: Date;
  /**
   * A plan `planCluster` made for this request (the one shown): written as it is, conditional on
   * the revisions it read, so the cluster is read once. It is read again only when another writer
   * got in between.
   */
  plan?: ClusterPlan;
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
    const owned = new Set([...(previous[f.file] ?? []), ...(plan.ownership[f.file] ?? [])].filter((p) => p !== DOCUMENT));
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

/** A `ConflictError` listing fields other managers own. */
export function ownershipConflict(name: string, url: string, conflicts: Problem[]): ConflictError {
  const lines = conflicts.map((c) => `  ${c.file}: ${c.path}: ${c.message}`);
  return new ConflictError(`cluster ${name}: this change sets fields another manager owns; nothing was written:\n${lines.join("\n")}\nChange them in that manager, stop setting them here, or set onConflict: "overwrite" to take them over.`, { url });
}

/**
 * Plans (or takes `options.plan`) and writes a cluster. Each document is written only if it is
 * still at the revision read; when another writer got in between, the cluster is read again and
 * merged again. If that writer changed a field this program owns, the result is a
 * `ConflictError`, unless `onConflict` is "overwrite". Instance groups are written before a new
 * `config`, so a cluster only appears once it is whole, and deleted after a config that goes.
 */
export async function applyCluster(store: ClusterStore, req: ClusterRequest, options: ApplyOptions = {}): Promise<AppliedCluster> {
  const attempts = options.attempts ?? 8;
  const expected = new Map<string, Doc | undefined>();
  let first: Ownership | undefined;
  for (let attempt = 1; ; attempt++) {
    const plan = attempt === 1 && options.plan ? options.plan : await planCluster(store, req, options.now);
    if (plan.problems.length > 0) throw validationError(req.name, plan.problems);
    if (plan.conflicts.length > 0) throw ownershipConflict(req.name, store.cluster(req.name).url, plan.conflicts);
    first ??= plan.ownership;
    if (attempt > 1 && options.onConflict !== "overwrite") {
      const drift = ownedDrift(expected, plan, first);
      if (drift.length > 0) {
        throw new ConflictError(`cluster ${req.name}: another writer changed fields this program sets while it was writing; nothing of theirs was overwritten:\n  ${drift.join("\n  ")}\nRe-run to apply on top of their change, or set onConflict: "overwrite".`, { url: store.cluster(req.name).url });
      }
    }
    for (const f of plan.files) expected.set(f.file, f.before);
    let revisions: Record<string, Revision>;
    try {
      revisions = await writePlan(plan, (f) => expected.set(f.file, f.after));
      if (req.secrets) await applySecrets(store.cluster(req.name).join("secrets"), req.release ? {} : req.secrets.desired, plan.secrets);
      if (plan.keys) await applyClusterKeys(store, req.name, plan.keys);
    } catch (e) {
      if (!lostRace(e) || attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      continue;
    }
    return { plan, revisions, attempts: attempt };
  }
}

