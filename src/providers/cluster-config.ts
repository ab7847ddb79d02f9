import { createHash, randomBytes } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { applyCluster, type ClusterPlan, type ClusterRequest, describeChanges, type Ownership, planCluster, valueAt } from "../ops/cluster";
import { type ClusterKeysRequest, type KeysFound, samePem, sshFingerprint } from "../ops/cluster-keys";
import { clearFailedUpdate } from "../ops/failed-update";
import { readKeyset } from "../ops/keypairs";
import { readAdminSshKeys } from "../ops/admin-ssh-key";
import { checkOptions, type ClusterOptions } from "../ops/options";
import { describeSecretChanges } from "../ops/secrets";
import { isDns1123Subdomain, validationError } from "../ops/validate";
import { checkPart } from "../schema/check";
import { ClusterStore } from "../store/cluster-store";
import { stringifyYaml } from "../store/yaml";
import { parsePath } from "../store/field-path";
import { configBaseOf, isKopsFile, isKopsManagedState } from "../store/layout";
import { CA_KEYSET, findPrimary, keysetFile } from "../store/keyset";
import { DOCUMENT, readOwners } from "../store/managed-fields";
import { checkWritable, guardStore, type KeyHint } from "../store/policy-guard";
import { type ClusterEncryption, decodeSecret, encryptionProblems, keyedSecretHash, SECRET_NAME } from "../store/secrets";
import { canonicalUrl, openPath, parseUrl, SCHEMES, type SchemeFacts } from "../vfs";
import { KstateError, NotFoundError, RefusedError, ValidationError } from "../vfs/errors";
import { containsUnknown, isUnknown, outputNames, type ProviderImpl, sealedFailures } from "./serialize";
import { configureFromStack } from "./stack-config";
import { forgetPlanned, rememberPlanned } from "./planned-documents";
import { report } from "./report";
import { accessOf, accessProblems, isMissingBucket, SECRET_ACCESS_KEYS, type StoreAccess, STORE_ACCESS_KEYS, storeSettingsOf, withKmsDefaults } from "./store-access";

/** 1: ownership in outputs (`ownedPaths`). 2: ownership in the documents (`metadata.managedFields`). */
export const CLUSTER_CONFIG_SCHEMA_VERSION = 2;

/** How the store is reached (endpoint, region, credentials) is StoreAccess's, as for a StateStore. */
export interface ClusterConfigInputs extends StoreAccess {
  /** The state store URL: `s3://bucket`, `gs://bucket`, `file:///dir`. */
  store: string;
  /** The cluster name, e.g. dev.k8s.example.com. */
  name: string;
  /** Set by the resource: the owner recorded in the documents, `pulumi:<project>/<stack>/<resource>`. */
  manager?: string;
  /** `kops create cluster` flags, expanded as kops expands them. */
  options?: ClusterOptions;
  /** Merged into the stored Cluster's `spec`; `null` removes a field. */
  spec?: Record<string, unknown>;
  /** Merged into each named InstanceGroup's `spec` (a new name creates the group). */
  instanceGroups?: Record<string, Record<string, unknown>>;
  /**
   * When a field this program sets is owned by another manager, or changed by another writer while
   * this one writes: "fail" (default) or "overwrite" (take it over).
   */
  onConflict?: "fail" | "overwrite";
  /** On delete, also remove the state kops keeps for the cluster (pki/, secrets/, addons/, …). */
  deleteClusterState?: boolean;
  /**
   * kops secrets to keep in `secrets/<name>` (`{"Data":"<base64>"}`), by name; names may hold `:`.
   * Marked secret by the resource, so Pulumi state holds them encrypted; outputs carry only hashes.
   */
  secrets?: Record<string, string>;
  /** Encrypt matching files on the client before they are stored (passphrase marked secret). */
  clientSideEncryption?: ClusterEncryption;
  /**
   * The admin SSH public key (an OpenSSH public key line), kept where kops keeps it
   * (`pki/ssh/public/admin/<fingerprint>`); kops takes exactly one.
   */
  sshPublicKey?: string;
  /** A cluster CA of your own (PEM certificate and private key; marked secret), made the primary of the `kubernetes-ca` keyset. */
  ca?: { cert: string; key: string };
  /**
   * Set by `check` before the outputs became its one record (state written then still has it):
   * the value of every field the resource owns once applied, by `file: path`. Ignored.
   */
  ownedValues?: Record<string, unknown>;
  /** Set by `check`: which keys were stored already (another writer's, shared) rather than written by the resource. */
  keysFound?: KeysFound;
}

export interface ClusterConfigOutputs extends StoreAccess {
  store: string;
  name: string;
  manager: string;
  options?: ClusterOptions;
  spec?: Record<string, unknown>;
  instanceGroups?: Record<string, Record<string, unknown>>;
  onConflict: "fail" | "overwrite";
  deleteClusterState: boolean;
  /** `{store}/{name}`, as `spec.configBase`. */
  configBase: string;
  /**
   * Revision of each document after the last write, by file; a refresh that finds an owned field
   * changed keeps these, so the next `diff` sees the documents moved and plans the change back.
   */
  revisions: Record<string, string>;
  /** The stored value of every field the resource owns, by `file: path`; refresh shows hand edits here. */
  ownedValues: Record<string, unknown>;
  /** The cluster existed before this resource first wrote it. */
  adopted: boolean;
  schemaVersion: number;
  /** A keyed hash of each secret's stored value, by name (the key is `secretHashKey`, a secret output). */
  secretHashes: Record<string, string>;
  /** The key of `secretHashes`; a secret output, made with the first secret. */
  secretHashKey?: string;
  /** As given; a secret output. */
  clientSideEncryption?: ClusterEncryption;
  /** As given. */
  sshPublicKey?: string;
  /** The admin SSH key's fingerprint (`aa:bb:…`, as `kops get sshpublickeys` lists it), when it is stored. */
  sshKeyFingerprint?: string;
  /** The certificate of the CA given as `ca`, when it is the cluster CA's primary (PEM). */
  caCertificate?: string;
  /** Which keys were stored already, by another writer, when the resource first set them: those it never replaces or deletes. */
  keysFound?: KeysFound;
}

/** Output names, in one place for the provider and the resource class. */
export const CLUSTER_CONFIG_OUTPUTS = outputNames<ClusterConfigOutputs>()(
  "store", "name", "manager", "options", "spec", "instanceGroups", "onConflict", "deleteClusterState", "configBase", "revisions",
  "ownedValues", "adopted", "schemaVersion", "secretHashes", "secretHashKey", "clientSideEncryption", "sshPublicKey", "sshKeyFingerprint",
  "caCertificate", "keysFound", ...STORE_ACCESS_KEYS,
);

/** Inputs as the provider works with them: the store in its one spelling, defaults filled in. */
type Normalized = ClusterConfigInputs & { manager: string; onConflict: "fail" | "overwrite"; deleteClusterState: boolean };

/**
 * The manager a resource records: the resource's own name, kept from one run to the next. When a
 * new cluster `name` replaces the resource, the replacement gets a name of its own, so the old
 * instance's delete never lets go of what the new one owns (even when a name goes back and forth).
 */
function managerFor(news: Partial<ClusterConfigInputs>, olds: Partial<ClusterConfigInputs>): string | undefined {
  const base = news.manager;
  if (base === undefined || olds.manager === undefined || olds.name === undefined) return base;
  // The same resource keeps the owner it wrote under, whatever its name now (a rename with
  // `aliases`, a renamed project or stack): a new owner would find every field held by the old one.
  if (olds.name === news.name) return olds.manager;
  return `${base}@${createHash("sha256").update(`${olds.manager}\0${String(news.name)}`).digest("hex").slice(0, 8)}`;
}

/** The manager of a resource made before managers were named (state schema 1). */
function legacyManager(name: string): string {
  return `pulumi:(unnamed)/${name}`;
}

function normalize(i: ClusterConfigInputs): Normalized {
  const out: Normalized = { ...i, store: canonicalUrl(i.store), manager: i.manager ?? legacyManager(i.name), onConflict: i.onConflict ?? "fail", deleteClusterState: i.deleteClusterState ?? false };
  delete out.ownedValues;
  return out;
}

/** The keys a resource kept last time, from its old inputs (check) or old outputs (update). */
function previousKeys(olds: Partial<ClusterConfigInputs & ClusterConfigOutputs> | undefined): NonNullable<ClusterKeysRequest["previous"]> {
  const out: NonNullable<ClusterKeysRequest["previous"]> = {};
  let ssh = olds?.sshKeyFingerprint;
  if (ssh === undefined && typeof olds?.sshPublicKey === "string") {
    try {
      ssh = sshFingerprint(olds.sshPublicKey);
    } catch {
      // not a key: nothing of it was stored
    }
  }
  if (ssh !== undefined) out.sshFingerprint = ssh;
  const ca = olds?.caCertificate ?? olds?.ca?.cert;
  if (typeof ca === "string") out.caCert = ca;
  if (olds?.keysFound?.ssh) out.sshFound = true;
  if (olds?.keysFound?.ca) out.caFound = true;
  return out;
}

function request(i: Normalized, recorded?: Ownership, previousSecrets: readonly string[] = [], previous: ClusterKeysRequest["previous"] = {}): ClusterRequest {
  const req: ClusterRequest = {
    name: i.name, storeUrl: i.store, manager: i.manager, takeOver: i.onConflict === "overwrite",
    secrets: { desired: i.secrets ?? {}, previous: previousSecrets },
  };
  if (i.sshPublicKey !== undefined || i.ca !== undefined) {
    req.keys = { previous };
    if (i.sshPublicKey !== undefined) req.keys.sshPublicKey = i.sshPublicKey;
    if (i.ca !== undefined) req.keys.ca = i.ca;
  }
  if (i.options) req.options = i.options;
  if (i.spec) req.spec = i.spec;
  if (i.instanceGroups) req.instanceGroups = i.instanceGroups;
  if (recorded) req.recorded = recorded;
  return req;
}

/** The store, guarded by its recorded encryption policy: a write without the key it names is refused. */
/** A missing key, as a ClusterConfig takes it. */
const PULUMI_KEY_HINT: KeyHint = {
  passphrase: "give the ClusterConfig clientSideEncryption: { passphrase } (e.g. clientSideEncryption: store.clientSideEncryption)",
  awsKms: "give the ClusterConfig clientSideEncryption: { awsKmsKeyId } (e.g. clientSideEncryption: store.clientSideEncryption)",
};

function storeOf(i: Pick<ClusterConfigInputs, "store" | "clientSideEncryption"> & StoreAccess): ClusterStore {
  return new ClusterStore(guardStore(openPath(i.store, storeSettingsOf(accessOf(i))), withKmsDefaults(i.clientSideEncryption), PULUMI_KEY_HINT));
}

/** Input problems that need no I/O, each naming its property. */
export function checkInputs(news: Partial<ClusterConfigInputs>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  let scheme: SchemeFacts | undefined;
  if (typeof news.store !== "string" || news.store === "") fail("store", "required: the state store URL (s3://bucket, gs://bucket, file:///dir)");
  else if (!containsUnknown(news.store)) {
    try {
      scheme = SCHEMES[parseUrl(news.store).scheme];
    } catch (e) {
      fail("store", KstateError.isInstance(e) ? e.message : String(e));
    }
  }
  if (!containsUnknown(accessOf(news))) failures.push(...accessProblems(news, scheme));
  if (typeof news.name !== "string" || news.name === "") fail("name", "required: the cluster name, e.g. dev.k8s.example.com");
  else if (!containsUnknown(news.name) && !isDns1123Subdomain(news.name)) fail("name", `${JSON.stringify(news.name)} is not a valid cluster name (lowercase letters, digits, '-' and '.')`);
  if (news.options !== undefined && !containsUnknown(news.options)) {
    if (typeof news.options !== "object" || news.options === null) fail("options", "must be an object of kops create-cluster options");
    else for (const p of checkOptions(news.options)) fail(`options.${p.option}`, p.message);
  }
  if (news.spec === undefined || isUnknown(news.spec)) {
    // Nothing to check yet.
  } else if (typeof news.spec !== "object" || news.spec === null || Array.isArray(news.spec)) fail("spec", "must be an object (the fields of the Cluster spec to set)");
  else for (const p of checkPart("Cluster", ["spec"], news.spec, { skip: isUnknown })) fail(p.path, p.message);
  if (news.instanceGroups !== undefined && !isUnknown(news.instanceGroups)) {
    if (typeof news.instanceGroups !== "object" || news.instanceGroups === null) fail("instanceGroups", "must map group names to spec fields");
    else for (const [n, g] of Object.entries(news.instanceGroups)) {
      if (!isDns1123Subdomain(n)) fail(`instanceGroups.${n}`, "is not a valid instance group name");
      if (isUnknown(g)) continue;
      if (typeof g !== "object" || g === null || Array.isArray(g)) fail(`instanceGroups.${n}`, "must be an object (the fields of the group's spec to set)");
      else for (const p of checkPart("InstanceGroup", ["spec"], g, { skip: isUnknown })) fail(`instanceGroups.${n}${p.path.slice("spec".length)}`, p.message);
    }
  }
  if (news.onConflict !== undefined && news.onConflict !== "fail" && news.onConflict !== "overwrite") fail("onConflict", 'must be "fail" or "overwrite"');
  if (news.sshPublicKey !== undefined && !containsUnknown(news.sshPublicKey) && (typeof news.sshPublicKey !== "string" || news.sshPublicKey.trim() === "")) fail("sshPublicKey", "must be an OpenSSH public key line (e.g. the contents of ~/.ssh/id_ed25519.pub)");
  if (news.ca !== undefined && !containsUnknown(news.ca)) {
    const ca = news.ca as { cert?: unknown; key?: unknown } | null;
    if (typeof ca !== "object" || ca === null || typeof ca.cert !== "string" || typeof ca.key !== "string") fail("ca", "must be { cert, key }: a PEM certificate and its PEM private key");
  }
  if (news.secrets !== undefined && !containsUnknown(news.secrets)) {
    if (typeof news.secrets !== "object" || news.secrets === null) fail("secrets", "must map secret names to values");
    else for (const [n, v] of Object.entries(news.secrets)) {
      if (!SECRET_NAME.test(n)) fail(`secrets.${n}`, "is not a valid secret name (letters, digits and . _ - : only)");
      if (typeof v !== "string" || v === "") fail(`secrets.${n}`, "must be a non-empty string");
    }
  }
  const cse = news.clientSideEncryption;
  if (cse !== undefined && !containsUnknown(cse)) {
    for (const f of encryptionProblems(cse)) fail(f.property, f.reason);
  }
  return failures;
}

/** `file: path` -> value for each field a manager owns in some documents (the document markers aside). */
function ownedValuesOf(ownership: Ownership, docs: Record<string, Record<string, unknown> | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const file of Object.keys(ownership).sort()) {
    const paths = ownership[file]!.filter((p) => p !== DOCUMENT);
    for (const p of paths) {
      // A named item is shown through its fields; alone, as its value.
      if (p.endsWith("]") && paths.some((q) => q !== p && q.startsWith(p))) continue;
      const v = valueAt(docs[file], parsePath(p));
      out[`${file}: ${p}`] = v === undefined ? null : v;
    }
  }
  return out;
}

/** What one plan of the resource holds: the documents' change and the secrets'. */
interface Planned {
  cluster: ClusterPlan;
  /** The store's bucket does not exist (yet): planned as an empty store. */
  bucketMissing: boolean;
  lines: string[];
}

/** The previous names of the secrets this resource kept, from old inputs or old outputs. */
function previousSecretNames(olds: Partial<ClusterConfigInputs & ClusterConfigOutputs> | undefined): string[] {
  return Object.keys(olds?.secrets ?? olds?.secretHashes ?? {});
}

/** Ownership recorded by state schema 1, as documents would record it. */
function legacyOwnership(olds: unknown): Ownership | undefined {
  const o = (olds as { ownedPaths?: { config?: string[]; instanceGroups?: Record<string, string[]>; createdGroups?: string[] }; adopted?: boolean } | undefined);
  if (!o?.ownedPaths || !Array.isArray(o.ownedPaths.config)) return undefined;
  const out: Ownership = { config: [...o.ownedPaths.config, ...(o.adopted ? [] : [DOCUMENT])] };
  for (const [g, paths] of Object.entries(o.ownedPaths.instanceGroups ?? {})) out[`instancegroup/${g}`] = [...paths];
  for (const g of o.ownedPaths.createdGroups ?? []) out[`instancegroup/${g}`] = [...(out[`instancegroup/${g}`] ?? []), DOCUMENT];
  return out;
}

/**
 * What a resource made by state schema 1 owns, worked out from its old inputs (check sees inputs,
 * not the outputs that recorded it): the fields its options, spec and groups set. Whether it
 * created the documents is only in the old outputs, which `update` reads.
 */
async function ownershipOfLegacyInputs(olds: Partial<ClusterConfigInputs>): Promise<Ownership | undefined> {
  if (olds.manager !== undefined || typeof olds.store !== "string" || typeof olds.name !== "string" || containsUnknown(olds)) return undefined;
  const old = normalize(olds as ClusterConfigInputs);
  const plan = await planCluster(storeOf(old), request({ ...old, manager: "legacy" }));
  return Object.fromEntries(Object.entries(plan.ownership).map(([f, paths]) => [f, paths.filter((p) => p !== DOCUMENT)]));
}

/**
 * Plans `check` made in this provider process, taken (once) by `diff` of the same inputs, so one
 * `preview` or `up` reads the store once. `check` always reads afresh, and every write or `read`
 * forgets them all: a plan is only ever reused between a check and the diff that follows it.
 */
const plans = new Map<string, Planned>();

function planKey(i: Normalized, previous: readonly string[], recorded: Ownership | undefined): string {
  // Key order is the engine's: inputs come back from check to diff through a protobuf Struct.
  return stableJson([i, previous, recorded ?? null]);
}

/**
 * Works out what applying `i` would change: documents and secrets, read from the store. A store
 * whose bucket does not exist yet (created by the same program) plans as an empty store.
 */
async function planResource(i: Normalized, previous: readonly string[], recorded: Ownership | undefined, use: "remember" | "take", keysBefore: ClusterKeysRequest["previous"] = {}): Promise<Planned> {
  const key = `${planKey(i, previous, recorded)}\0${JSON.stringify(keysBefore)}`;
  if (use === "take") {
    const cached = plans.get(key);
    plans.delete(key);
    if (cached) return cached;
  }
  let store = storeOf(i);
  let bucketMissing = false;
  let cluster: ClusterPlan;
  try {
    cluster = await planCluster(store, request(i, recorded, previous, keysBefore));
  } catch (e) {
    if (await isMissingBucket(openPath(i.store, storeSettingsOf(accessOf(i))), e)) {
      bucketMissing = true;
      const empty = `memfs://kstate-plan-${randomBytes(6).toString("hex")}`;
      store = new ClusterStore(openPath(empty));
      cluster = await planCluster(store, request(i, recorded, [], keysBefore));
    } else throw e;
  }
  const lines = [...describeChanges(cluster), ...describeSecretChanges(cluster.secrets), ...(cluster.keys?.lines ?? [])];
  // What the store's encryption policy would refuse at up is refused here, in the preview.
  if (lines.length > 0 && !bucketMissing) await checkWritable(store.root, i.name);
  const planned: Planned = { cluster, bucketMissing, lines };
  // A ClusterUpdate of this cluster planned next in the same preview reads the documents as they will be.
  if (lines.length > 0) rememberPlanned(i.store, i.name, { documents: documentTexts(cluster), keys: cluster.keys?.lines ?? [] });
  else forgetPlanned(i.store, i.name);
  if (use === "remember") {
    if (plans.size > 64) plans.clear();
    plans.set(key, planned);
  }
  return planned;
}

function summary(i: Normalized, p: Planned): string {
  const where = `${i.name} in ${i.store}`;
  if (p.bucketMissing) return `${where}: the bucket does not exist yet (this program creates it, or it must exist before up); creating the cluster`;
  if (!p.cluster.existed) return `${where}: creating the cluster`;
  if (p.cluster.adopted && !Object.keys(p.cluster.ownership).length) return `${where}: adopting the existing cluster`;
  return `${where}: ${p.lines.length === 0 ? "no changes" : `${p.lines.length} change${p.lines.length === 1 ? "" : "s"}`}`;
}

/** The documents kops reads (config, instance groups) as the plan leaves them. */
function documentTexts(plan: ClusterPlan): Map<string, string | null> {
  const texts = new Map<string, string | null>();
  for (const f of plan.files) {
    if (f.file === "config" || f.file.startsWith("instancegroup/")) texts.set(f.file, f.doc ? stringifyYaml(f.doc) : null);
  }
  return texts;
}

/** The plan, as `pulumi preview` shows it: each line on the provider's output, which the engine prints. */
function show(i: Normalized, p: Planned, adopting: boolean): void {
  if (p.lines.length === 0) return;
  const head = adopting && p.cluster.existed && !p.bucketMissing ? `${i.name} in ${i.store}: merging into the existing cluster (${p.lines.length} changes)` : summary(i, p);
  report([head, ...p.lines.map((l) => `${i.name}: ${l}`)].join("\n"));
}

/** A store problem as a check failure: what failed, on which URL, and what to do. */
function storeFailure(i: Normalized, e: unknown): pulumi.dynamic.CheckFailure {
  const message = e instanceof Error ? e.message : String(e);
  if (/credential/i.test(message) && !/invalid|signature/i.test(message)) {
    return { property: "store", reason: `cannot read ${i.store}: no credentials were found for it. Give accessKeyId and secretAccessKey, or set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE) for s3://, GOOGLE_APPLICATION_CREDENTIALS for gs:// (${message.split("\n")[0]})` };
  }
  return { property: "store", reason: message };
}

/** The keys the resource keeps, as stored now: the SSH key's fingerprint, and its CA when that is the primary. */
async function observeKeys(store: ClusterStore, i: Normalized): Promise<Pick<ClusterConfigOutputs, "sshPublicKey" | "sshKeyFingerprint" | "caCertificate">> {
  const out: Pick<ClusterConfigOutputs, "sshPublicKey" | "sshKeyFingerprint" | "caCertificate"> = {};
  if (i.sshPublicKey !== undefined) {
    out.sshPublicKey = i.sshPublicKey;
    const fingerprint = sshFingerprint(i.sshPublicKey);
    if ((await readAdminSshKeys(store, i.name)).some((k) => k.fingerprint === fingerprint)) out.sshKeyFingerprint = fingerprint;
  }
  if (i.ca !== undefined) {
    const stored = await readKeyset(store, i.name, CA_KEYSET);
    const primary = stored ? findPrimary(stored.keyset) : undefined;
    if (primary?.publicMaterial && samePem(primary.publicMaterial, i.ca.cert)) out.caCertificate = primary.publicMaterial;
  }
  return out;
}

/** Reads what the resource owns in the store now: its outputs. */
async function observe(i: Normalized, secretHashKey: string | undefined, secretNames: readonly string[]): Promise<ClusterConfigOutputs | undefined> {
  const store = storeOf(i);
  const config = await store.readConfig(i.name);
  if (!config) return undefined;
  const groups = await store.readInstanceGroups(i.name);
  const revisions: Record<string, string> = { config: config.revision };
  const docs: Record<string, Record<string, unknown> | undefined> = { config: config.doc.toJS() as Record<string, unknown> };
  const ownership: Ownership = {};
  const mine = readOwners(config.doc).get(i.manager);
  if (mine) ownership.config = [...mine].sort();
  for (const [n, d] of groups) {
    revisions[`instancegroup/${n}`] = d.revision;
    docs[`instancegroup/${n}`] = d.doc.toJS() as Record<string, unknown>;
    const owned = readOwners(d.doc).get(i.manager);
    if (owned) ownership[`instancegroup/${n}`] = [...owned].sort();
  }
  const spec = docs.config?.spec as Record<string, unknown> | undefined;
  const folder = store.cluster(i.name).join("secrets");
  const secretHashes: Record<string, string> = {};
  for (const name of secretHashKey === undefined ? [] : [...secretNames].sort()) {
    try {
      const file = folder.join(name);
      secretHashes[name] = keyedSecretHash(secretHashKey!, name, decodeSecret((await file.read()).data.toString("utf8"), file.url));
    } catch (e) {
      if (!NotFoundError.isInstance(e)) throw e;
    }
  }
  const keys = await observeKeys(store, i);
  const out: ClusterConfigOutputs = {
    ...keys,
    ...(i.keysFound && (i.keysFound.ssh || i.keysFound.ca) ? { keysFound: i.keysFound } : {}),
    ...accessOf(i),
    store: i.store,
    name: i.name,
    manager: i.manager,
    onConflict: i.onConflict,
    deleteClusterState: i.deleteClusterState,
    configBase: typeof spec?.configBase === "string" ? spec.configBase : configBaseOf(`${i.store.replace(/\/$/, "")}/${i.name}`),
    revisions,
    ownedValues: ownedValuesOf(ownership, docs),
    adopted: !(ownership.config ?? []).includes(DOCUMENT),
    schemaVersion: CLUSTER_CONFIG_SCHEMA_VERSION,
    secretHashes,
    ...(secretHashKey === undefined ? {} : { secretHashKey }),
  };
  if (i.options) out.options = i.options;
  if (i.spec) out.spec = i.spec;
  if (i.instanceGroups) out.instanceGroups = i.instanceGroups;
  if (i.clientSideEncryption) out.clientSideEncryption = i.clientSideEncryption;
  return out;
}

/** Outputs of any schema as the inputs they were made from. */
function inputsOfOutputs(o: ClusterConfigOutputs): Normalized {
  const i = normalize({ ...accessOf(o), store: o.store, name: o.name, manager: o.manager ?? legacyManager(o.name), onConflict: o.onConflict, deleteClusterState: o.deleteClusterState });
  if (o.options) i.options = o.options;
  if (o.spec) i.spec = o.spec;
  if (o.instanceGroups) i.instanceGroups = o.instanceGroups;
  if (o.clientSideEncryption) i.clientSideEncryption = o.clientSideEncryption;
  if (o.sshPublicKey !== undefined) i.sshPublicKey = o.sshPublicKey;
  return i;
}

async function apply(i: Normalized, olds: Partial<ClusterConfigOutputs> | undefined): Promise<ClusterConfigOutputs> {
  const store = storeOf(i);
  await applyCluster(store, request(i, legacyOwnership(olds), previousSecretNames(olds), previousKeys(olds)), { onConflict: i.onConflict });
  const key = olds?.secretHashKey ?? (Object.keys(i.secrets ?? {}).length > 0 ? randomBytes(32).toString("hex") : undefined);
  const outs = await observe(i, key, Object.keys(i.secrets ?? {}));
  if (!outs) throw new NotFoundError(`${i.store}/${i.name}/config was written but cannot be read back`, { url: `${i.store}/${i.name}/config` });
  return outs;
}

/**
 * The key files the resource put there itself, which go with a cluster it deletes: its admin SSH
 * key, and the `kubernetes-ca` keyset whose primary is its CA.
 */
async function keyFilesOf(store: ClusterStore, props: ClusterConfigOutputs): Promise<string[]> {
  const files: string[] = [];
  if (props.sshKeyFingerprint !== undefined && !props.keysFound?.ssh) {
    const mine = (await readAdminSshKeys(store, props.name)).find((k) => k.fingerprint === props.sshKeyFingerprint);
    if (mine) files.push(mine.file);
  }
  if (props.caCertificate !== undefined && !props.keysFound?.ca) {
    const stored = await readKeyset(store, props.name, CA_KEYSET);
    // Its CA is the primary: the older keys are ones it rotated out, or kops's (and then kops's other state refuses the delete).
    if (stored?.file === keysetFile(CA_KEYSET) && findPrimary(stored.keyset)?.publicMaterial === props.caCertificate) files.push(stored.file);
  }
  return files;
}

/** What `delete` would leave: refusals decided before anything is removed. */
async function planDelete(props: ClusterConfigOutputs): Promise<{ lines: string[]; run(): Promise<void> }> {
  const i = inputsOfOutputs(props);
  const store = storeOf(i);
  const folder = store.cluster(i.name);
  const req: ClusterRequest = { ...request(i, legacyOwnership(props), previousSecretNames(props)), release: true };
  const plan = await planCluster(store, req);
  if (plan.problems.length > 0) {
    throw new RefusedError(`refusing to delete ClusterConfig of ${i.name}: letting go of its fields would leave the cluster invalid, and nothing was changed:\n${validationError(i.name, plan.problems).message.split("\n").slice(1).join("\n")}\nKeep the resource (or set the fields elsewhere first), or protect the cluster with the resource option retainOnDelete.`, { url: folder.url });
  }
  const secrets = plan.secrets.filter((c) => c.action === "delete");
  const configGoes = plan.files.some((f) => f.file === "config" && f.doc === null);
  let wipe: string[] = [];
  if (configGoes) {
    const files = (await folder.listTree()).map((f) => f.path);
    const unknown = files.filter((f) => !isKopsFile(f));
    if (unknown.length > 0) {
      throw new RefusedError(`refusing to delete cluster ${i.name}: ${folder.url} holds files kops does not know (${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ", …" : ""}); move them away first. Nothing was changed.`, { url: folder.url });
    }
    const ours = new Set([...secrets.map((s) => `secrets/${s.name}`), ...await keyFilesOf(store, props)]);
    const kopsState = files.filter((f) => isKopsManagedState(f) && !ours.has(f));
    const going = new Set(plan.files.filter((f) => f.doc === null).map((f) => f.file));
    const strays = files.filter((f) => f.startsWith("instancegroup/") && !going.has(f));
    if (strays.length > 0 && !i.deleteClusterState) {
      throw new RefusedError(`refusing to delete cluster ${i.name}: instance groups this resource did not create would be left without their cluster (${strays.slice(0, 5).join(", ")}${strays.length > 5 ? ", …" : ""}). Delete them first (kops delete ig), or set deleteClusterState: true to remove them too. Nothing was changed.`, { url: folder.url });
    }
    if (kopsState.length > 0 && !i.deleteClusterState) {
      throw new RefusedError(`refusing to delete cluster ${i.name}: kops still keeps state for it in ${folder.url} (${kopsState.slice(0, 5).join(", ")}${kopsState.length > 5 ? ", …" : ""}). Delete the cluster with kops first, or set deleteClusterState: true to remove that state too. Nothing was changed.`, { url: folder.url });
    }
    wipe = [...(i.deleteClusterState ? [...kopsState, ...strays] : []), ...[...ours].filter((f) => f.startsWith("pki/") && files.includes(f))];
  }
  return {
    lines: [...describeChanges(plan), ...describeSecretChanges(plan.secrets), ...wipe.map((f) => `${f}: delete`)],
    async run() {
      await applyCluster(store, req);
      for (const f of wipe) await folder.join(f).remove();
      // A failed update kstate recorded for the cluster goes with it (kstate's own file, outside the folder).
      if (configGoes) await clearFailedUpdate(store.root, i.name);
    },
  };
}

/** JSON with object keys sorted, so two spellings of the same inputs compare equal. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/** Inputs as compared between runs: what `check` and the engine add (`ownedValues`, `keysFound`, `__provider`) left out. */
function given(i: Partial<ClusterConfigInputs>): string {
  const { ownedValues: _owned, keysFound: _found, __provider: _provider, ...rest } = i as Partial<ClusterConfigInputs> & { __provider?: unknown };
  return stableJson(rest);
}

/**
 * A resource that keeps only documents (no secrets, keys or legacy ownership): what it plans is
 * decided by its inputs and the documents' bytes alone, so when neither changed it need not plan.
 */
function documentsOnly(i: Partial<ClusterConfigInputs>): boolean {
  return i.secrets === undefined && i.sshPublicKey === undefined && i.ca === undefined && i.keysFound === undefined && i.manager !== undefined;
}

/** Whether the documents are at exactly the revisions the last write or refresh left (the same files, none added or gone). */
async function documentsUnchanged(i: Normalized, recorded: Record<string, string> | undefined): Promise<boolean> {
  if (!recorded) return false;
  try {
    const now = await storeOf(i).documentRevisions(i.name);
    return now !== undefined && stableJson(now) === stableJson(recorded);
  } catch {
    return false;
  }
}

/** Inputs that hold secrets: a check failure never names them where the engine would print their value. */
const SECRET_INPUTS = ["secrets", "ca", "sshPublicKey", "clientSideEncryption", ...SECRET_ACCESS_KEYS];

/** What blocks a plan (an invalid result, a field another manager owns), each naming its property. */
function planFailures(cluster: ClusterPlan): pulumi.dynamic.CheckFailure[] {
  const property = (file: string | undefined, path: string) => (path === "sshPublicKey" || path === "ca" ? path
    : file === undefined || file === "config" ? (path.startsWith("metadata.name") ? "name" : "spec") : file.startsWith("secrets/") ? "secrets" : "instanceGroups");
  return [
    ...cluster.problems.map((p) => ({ property: property(p.file, p.path), reason: `${p.file ? `${p.file}: ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}` })),
    ...cluster.conflicts.map((c) => ({ property: property(c.file, c.path), reason: `${c.file}: ${c.path}: ${c.message}. Change it in that manager, stop setting it here, or set onConflict: "overwrite" to take it over.` })),
  ];
}

/**
 * Checks the inputs and, when they are known, reads the cluster and works out the change: an
 * invalid result or a field another manager owns fails here, so `preview` shows it and nothing
 * is written. The change is printed line by line (the engine shows the lines with the preview);
 * the owned values it leads to are recorded once, in the outputs, after `up`.
 */
async function checkResource(olds: ClusterConfigInputs, news: ClusterConfigInputs): Promise<pulumi.dynamic.CheckResult<ClusterConfigInputs>> {
  const failures = checkInputs(news);
  if (failures.length > 0) return { failures };
  if (containsUnknown(news)) {
    const inputs = { ...news };
    delete inputs.ownedValues;
    return { inputs };
  }
  const previous = olds as Partial<ClusterConfigInputs>;
  const i = normalize({ ...news, manager: managerFor(news, previous) });
  if (documentsOnly(i) && previous.store !== undefined && previous.manager !== undefined && !containsUnknown(previous) && given(normalize(previous as ClusterConfigInputs)) === given(i)) {
    // The inputs are the ones planned last time. Whether the documents moved since (drift,
    // another writer) is `diff`'s to find, against the revisions in the outputs.
    return { inputs: i };
  }
  if (previous.store !== undefined && previous.name === i.name && !containsUnknown(previous.store)) {
    const from = canonicalUrl(previous.store);
    if (from !== i.store) {
      const moved = await storeOf(i).readConfig(i.name).then((c) => c !== undefined, () => false);
      if (!moved) {
        return { failures: [{ property: "store", reason: `${i.name} is kept in ${from}; changing store to ${i.store} would not move it. Move it with a StateStoreMigration (or \`kstate migrate\`) first, then point store at ${i.store}.` }] };
      }
    }
  }
  let planned: Planned;
  let legacy: Ownership | undefined;
  try {
    legacy = await ownershipOfLegacyInputs(previous);
    planned = await planResource(i, previousSecretNames(previous), legacy, "remember", previousKeys(previous));
  } catch (e) {
    return { failures: [storeFailure(i, e)] };
  }
  const { cluster } = planned;
  if (legacy) {
    // State from kstate 0.1 records which documents the resource created only in its outputs,
    // which `check` does not see: this one preview is approximate, and `update` decides.
    report(`${i.name} in ${i.store}: upgrading state written by kstate 0.1; this preview cannot tell which documents the resource created, so the update works the change out again from the old state and checks it before writing`);
  } else if (cluster.problems.length > 0 || cluster.conflicts.length > 0) {
    return { failures: planFailures(cluster) };
  }
  show(i, planned, previous.store === undefined);
  const found = cluster.keys?.found;
  const inputs: ClusterConfigInputs = { ...i };
  delete inputs.keysFound;
  if (found && (found.ssh || found.ca)) inputs.keysFound = found;
  return { inputs };
}

export const provider: ProviderImpl<ClusterConfigInputs, ClusterConfigOutputs> = {
  async configure(req) {
    configureFromStack(req);
  },

  async check(olds, news) {
    const checked = await checkResource(olds, news);
    return checked.failures ? { ...checked, failures: sealedFailures(checked.failures, SECRET_INPUTS) } : checked;
  },

  async diff(_id, olds, news) {
    const i = normalize(news);
    const replaces = olds.name !== i.name ? ["name"] : [];
    if (replaces.length > 0) {
      // The old cluster is let go of once the new one is written: what that removes shows now, and
      // what destroy would refuse fails the preview instead of the up half way.
      const release = await planDelete(olds as ClusterConfigOutputs);
      report([`${olds.name} in ${olds.store}: replaced by ${i.name}; letting go of ${olds.name} ${release.lines.length === 0 ? "changes nothing" : `makes ${release.lines.length} change${release.lines.length === 1 ? "" : "s"}`}`, ...release.lines.map((l) => `${olds.name}: ${l}`)].join("\n"));
      return { changes: true, replaces, deleteBeforeReplace: false };
    }
    const o = olds as Partial<ClusterConfigOutputs>;
    const settingsChanged = o.schemaVersion !== CLUSTER_CONFIG_SCHEMA_VERSION || o.manager !== i.manager || canonicalUrl(o.store ?? i.store) !== i.store
      || (o.onConflict ?? "fail") !== i.onConflict || (o.deleteClusterState ?? false) !== i.deleteClusterState
      || JSON.stringify(accessOf(o)) !== JSON.stringify(accessOf(i))
      || JSON.stringify(o.clientSideEncryption ?? null) !== JSON.stringify(i.clientSideEncryption ?? null)
      || JSON.stringify(Object.keys(o.secretHashes ?? {}).sort()) !== JSON.stringify(Object.keys(i.secrets ?? {}).sort())
      || (o.sshPublicKey ?? null) !== (i.sshPublicKey ?? null) || (o.caCertificate === undefined) !== (i.ca === undefined)
      || JSON.stringify(o.keysFound ?? {}) !== JSON.stringify(i.keysFound ?? {});
    if (settingsChanged) return { changes: true, replaces, deleteBeforeReplace: false };
    const checked = plans.has(`${planKey(i, previousSecretNames(o), legacyOwnership(o))}\0${JSON.stringify(previousKeys(o))}`);
    if (!checked && documentsOnly(i) && given(i) === given(inputsOfOutputs(o as ClusterConfigOutputs)) && await documentsUnchanged(i, o.revisions)) {
      // The inputs are as last planned and the documents have not moved since the last write:
      // nothing to do. (A refresh that found an owned field edited keeps the revisions of the
      // last write, so the edit still counts as a move and the next up restores it.)
      forgetPlanned(i.store, i.name);
      return { changes: false, replaces, deleteBeforeReplace: false };
    }
    // The documents or secrets differ from what the inputs ask: a change, or drift to undo.
    const planned = await planResource(i, previousSecretNames(o), legacyOwnership(o), "take", previousKeys(o));
    if (!checked) {
      // `check` did not plan (its inputs were unchanged): what it would have refused or shown, diff does.
      const failures = planFailures(planned.cluster);
      if (failures.length > 0) throw new ValidationError(failures.map((f) => `${f.property}: ${f.reason}`).join("\n"));
      show(i, planned, false);
    }
    return { changes: planned.lines.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    plans.clear();
    forgetPlanned();
    const i = normalize(inputs);
    const outs = await apply(i, undefined);
    return { id: `${i.store}/${i.name}`, outs };
  },

  /** Reads the documents back: owned fields edited by hand show in `ownedValues`. */
  async read(id, props) {
    plans.clear();
    forgetPlanned();
    const i = inputsOfOutputs(props!);
    const outs = await observe(i, props!.secretHashKey, Object.keys(props!.secretHashes ?? {}));
    if (outs && props!.revisions && stableJson(outs.ownedValues) !== stableJson(props!.ownedValues ?? null)) outs.revisions = props!.revisions;
    return outs ? { id, props: outs } : {};
  },

  async update(_id, olds, news) {
    plans.clear();
    forgetPlanned();
    return { outs: await apply(normalize(news), olds) };
  },

  /**
   * Lets go of what the resource owns: its fields go (as an update that sets nothing would remove
   * them), its secrets too, and the documents it created when nobody else owns anything in them.
   * Every refusal is decided before anything is removed.
   */
  async delete(_id, props) {
    plans.clear();
    forgetPlanned();
    await (await planDelete(props)).run();
  },
};

