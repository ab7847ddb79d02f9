import type * as pulumi from "@pulumi/pulumi";
import { bucketAdmin, type BucketAdmin, type BucketEncryption, canonicalUrl, hasVersions, openPath, parseUrl, SCHEMES, type SchemeFacts, type StoreSettings } from "../vfs";
import { listSchemes, schemesWhere } from "../vfs/schemes";
import { type ClusterEncryption, encryptionProblems, storeEncryption } from "../store/secrets";
import { clearEncryptionPolicy, clustersBrokenBy, setEncryptionPolicy } from "../ops/encryption-policy";
import { describePolicy, POLICY_FOLDER, policyOf, policyText, readPolicy } from "../store/encryption-policy";
import { keyringOf, probeKeys } from "../vfs/encrypted";
import { BackendError, KstateError, PermissionError, RefusedError, ValidationError } from "../vfs/errors";
import { configureFromStack, stackConfig } from "./stack-config";
import { containsUnknown, outputNames, type ProviderImpl, sealedFailures } from "./serialize";
import { accessOf, accessProblems, SECRET_ACCESS_KEYS, STORE_ACCESS_KEYS, type StoreAccess, storeSettingsOf, withKmsDefaults } from "./store-access";
import { report } from "./report";

export const STATE_STORE_SCHEMA_VERSION = 1;

export type EncryptionType = BucketEncryption["type"];

/**
 * What a StateStore is asked for. Every field but `url` has a default that depends on the scheme;
 * how the bucket is reached (endpoint, region, credentials) is StoreAccess's.
 */
export interface StateStoreInputs extends StoreAccess {
  /** `s3://bucket`, `gs://bucket` or `file:///abs/dir`. */
  url: string;
  /** Keep old versions of every file (default on for s3:// and gs://; file:// keeps none). */
  versioning?: boolean;
  /** Default encryption: `AES256` or `aws:kms` on S3, `google-managed` or `cloud-kms` on GCS. */
  encryption?: EncryptionType;
  /** The KMS key for `aws:kms` (key id or ARN) or `cloud-kms` (key name). */
  kmsKeyId?: string;
  /** Delete the store with everything in it on destroy (default off: a non-empty store is refused). */
  forceDestroy?: boolean;
  /** Take over a bucket that already exists instead of failing (default off). */
  adoptExisting?: boolean;
  /**
   * Client-side encryption for the store's clusters (a Pulumi secret): the key (passphrase or AWS
   * KMS key) is proved to work on create and update, and the policy (the kind of key, the AWS KMS
   * key's id, the patterns; never the key) is recorded in the store at `.kstate/encryption.json`.
   * Every writer then needs the key: pass `clientSideEncryption: store.clientSideEncryption` to each
   * ClusterConfig (one without it fails, naming the key), and give the CLI the same key
   * (--passphrase-file / KSTATE_PASSPHRASE, --kms-key-id / KSTATE_AWS_KMS_KEY_ID). Removing it
   * clears the recorded policy. Patterns that take in files kops reads are refused while kops
   * manages a cluster of the store, unless `allowEncryptingKopsReads: true`.
   */
  clientSideEncryption?: ClusterEncryption;
}

export interface StateStoreOutputs extends StoreAccess {
  url: string;
  bucket: string;
  scheme: string;
  versioning: boolean;
  encryption: EncryptionType;
  kmsKeyId?: string;
  forceDestroy: boolean;
  adoptExisting: boolean;
  /** True when the bucket existed before and was adopted; destroy then leaves it unless forceDestroy. */
  adopted: boolean;
  publicAccessBlocked?: boolean;
  clientSideEncryption?: ClusterEncryption;
  schemaVersion: number;
}

/** Output names, in one place for the provider and the resource class. */
export const STATE_STORE_OUTPUTS = outputNames<StateStoreOutputs>()(
  "url", "bucket", "scheme", ...STORE_ACCESS_KEYS, "versioning", "encryption", "kmsKeyId", "forceDestroy", "adoptExisting",
  "adopted", "publicAccessBlocked", "clientSideEncryption", "schemaVersion",
);

type Normalized = Required<Pick<StateStoreInputs, "url" | "versioning" | "encryption" | "forceDestroy" | "adoptExisting">>
  & Pick<StateStoreInputs, "kmsKeyId" | "clientSideEncryption"> & StoreAccess;

/** The schemes a StateStore can live on. */
function stateStoreSchemes(): SchemeFacts[] {
  return schemesWhere((s) => s.stateStore === true);
}

/** Checks and completes the inputs; each problem names its property. */
export function checkStateStore(news: Partial<StateStoreInputs>): { inputs?: Normalized; failures: pulumi.dynamic.CheckFailure[] } {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  if (typeof news.url !== "string" || news.url === "") {
    fail("url", `required: ${listSchemes(stateStoreSchemes(), (s) => s.example)}`);
    return { failures };
  }
  let scheme: SchemeFacts;
  try {
    const parsed = parseUrl(news.url);
    scheme = SCHEMES[parsed.scheme];
    if (scheme.stateStore !== true) {
      // Nothing else about such a store is worth saying (its encryption, its versions).
      fail("url", `${scheme.stateStore}; a StateStore needs ${listSchemes(stateStoreSchemes())}`);
      return { failures };
    }
    if (scheme.wholeBucket && parsed.key !== "") {
      fail("url", `a StateStore is a whole bucket: use ${scheme.scheme}://${parsed.location} (clusters go below it)`);
    }
  } catch (e) {
    fail("url", KstateError.isInstance(e) ? e.message : String(e));
    return { failures };
  }
  for (const flag of ["versioning", "forceDestroy", "adoptExisting"] as const) {
    if (news[flag] !== undefined && typeof news[flag] !== "boolean") fail(flag, "must be true or false");
  }
  const versioning = news.versioning ?? scheme.versioning;
  if (versioning && !scheme.versioning) {
    fail("versioning", `${scheme.scheme}:// stores keep no old versions; use ${listSchemes(schemesWhere((s) => s.versioning && s.stateStore === true))} for history, or set versioning: false`);
  }
  const allowed = scheme.serverEncryption;
  const encryption = news.encryption ?? allowed[0] ?? "none";
  if (!allowed.includes(encryption)) fail("encryption", `${JSON.stringify(encryption)} is not available on ${scheme.scheme}://; choose ${allowed.map((a) => JSON.stringify(a)).join(" or ")}`);
  if ((encryption === "aws:kms" || encryption === "cloud-kms") && !news.kmsKeyId) fail("kmsKeyId", `required with encryption ${JSON.stringify(encryption)}`);
  if (news.kmsKeyId && encryption !== "aws:kms" && encryption !== "cloud-kms") fail("kmsKeyId", `only used with encryption "aws:kms" or "cloud-kms"`);
  failures.push(...accessProblems(news, scheme));
  if (news.clientSideEncryption !== undefined) for (const f of encryptionProblems(news.clientSideEncryption)) fail(f.property, f.reason);
  if (failures.length > 0) return { failures };
  const inputs: Normalized = {
    url: canonicalUrl(news.url),
    versioning,
    encryption,
    forceDestroy: news.forceDestroy ?? false,
    adoptExisting: news.adoptExisting ?? false,
  };
  if (news.kmsKeyId) inputs.kmsKeyId = news.kmsKeyId;
  Object.assign(inputs, accessOf(news));
  if (news.clientSideEncryption) inputs.clientSideEncryption = news.clientSideEncryption;
  return { inputs, failures };
}

/** How the bucket is reached: the inputs, then the stack's config (its `aws:region` is the bucket's region), then the environment. */
function storeSettings(i: Normalized): StoreSettings {
  const region = i.region ?? stackConfig().awsRegion;
  return storeSettingsOf({ ...accessOf(i), ...(region ? { region } : {}) });
}

function adminFor(i: Normalized): BucketAdmin {
  return bucketAdmin(openPath(i.url, storeSettings(i)));
}

function encryptionOf(i: Normalized): BucketEncryption {
  switch (i.encryption) {
    case "aws:kms": return { type: "aws:kms", kmsKeyId: i.kmsKeyId! };
    case "cloud-kms": return { type: "cloud-kms", kmsKeyName: i.kmsKeyId! };
    case "AES256": return { type: "AES256" };
    case "google-managed": return { type: "google-managed" };
    case "none": return { type: "none" };
  }
}

/** The outputs: what was asked, with versioning and encryption as the server reports them. */
async function observe(i: Normalized, admin: BucketAdmin, adopted: boolean): Promise<StateStoreOutputs | undefined> {
  const s = await admin.settings();
  if (!s.exists) return undefined;
  const parsed = parseUrl(i.url);
  const out: StateStoreOutputs = {
    url: i.url,
    bucket: parsed.location,
    scheme: parsed.scheme,
    versioning: s.versioning,
    encryption: s.encryption.type,
    forceDestroy: i.forceDestroy,
    adoptExisting: i.adoptExisting,
    adopted,
    schemaVersion: STATE_STORE_SCHEMA_VERSION,
  };
  const key = s.encryption.type === "aws:kms" ? s.encryption.kmsKeyId : s.encryption.type === "cloud-kms" ? s.encryption.kmsKeyName : undefined;
  if (key) out.kmsKeyId = key;
  if (s.publicAccessBlocked !== undefined) out.publicAccessBlocked = s.publicAccessBlocked;
  Object.assign(out, accessOf(i));
  if (i.clientSideEncryption) out.clientSideEncryption = i.clientSideEncryption;
  return out;
}

/** Client-side encryption keys that do not work fail the step before anything is written with them. */
async function proveKeys(i: Normalized, url: string): Promise<void> {
  if (!i.clientSideEncryption) return;
  try {
    await probeKeys(keyringOf(storeEncryption(withKmsDefaults(i.clientSideEncryption))));
  } catch (e) {
    throw new ValidationError(`${url}: clientSideEncryption: ${(e as Error).message}`, { url, cause: e });
  }
}

/** The store root, without client-side encryption: where the policy file lives. */
function rootOf(i: Normalized) {
  return openPath(i.url, storeSettings(i));
}

/** Refuses (before anything changes) a policy that would seal files kops reads on a cluster kops manages. */
async function checkPolicy(i: Normalized): Promise<void> {
  if (!i.clientSideEncryption) return;
  const policy = policyOf(i.clientSideEncryption);
  const { clusters, patterns } = await clustersBrokenBy(rootOf(i), policy);
  if (clusters.length > 0) {
    throw new RefusedError(`${i.url}: clientSideEncryption: refusing to record ${describePolicy(policy)}: kops manages ${clusters.join(", ")} (kops-version.txt or cluster-completed.spec), and ${patterns.join(", ")} would encrypt files kops or its nodes read, which breaks kops's next update and node boot. Nothing was changed. Encrypt other files (patterns), use encryption: "aws:kms" instead, or set allowEncryptingKopsReads: true`, { url: i.url });
  }
}

/**
 * Records the client-side encryption policy in the store (ops/encryption-policy.ts), or clears
 * it when the input was removed (`hadOne`): the store's encryption is a property of the store.
 */
async function recordPolicy(i: Normalized, hadOne: boolean): Promise<void> {
  const root = rootOf(i);
  if (i.clientSideEncryption) {
    try {
      await setEncryptionPolicy(root, i.clientSideEncryption);
    } catch (e) {
      throw new ValidationError(`${i.url}: clientSideEncryption: ${(e as Error).message}`, { url: i.url, cause: e });
    }
  } else if (hadOne && (await readPolicy(root))) {
    await clearEncryptionPolicy(root);
  }
}

/**
 * True when the store holds nothing but kstate's own files (its encryption policy, records of
 * failed updates of clusters deleted since; and old versions of them): no cluster state.
 */
async function onlyKstateFiles(i: Normalized): Promise<boolean> {
  const root = rootOf(i);
  const own = (path: string) => path.startsWith(`${POLICY_FOLDER}/`);
  const files = await root.listTree();
  if (files.length === 0 || !files.every((f) => own(f.path))) return false;
  return !hasVersions(root) || (await root.listTreeVersions()).every((v) => own(v.path));
}

/** Brings an existing bucket's versioning and encryption to what the inputs ask. */
async function reconcile(i: Normalized, admin: BucketAdmin): Promise<void> {
  const s = await admin.settings();
  if (s.versioning !== i.versioning) await admin.setVersioning(i.versioning);
  const want = encryptionOf(i);
  if (JSON.stringify(s.encryption) !== JSON.stringify(want)) await admin.setEncryption(want);
}

function normalizedFromOutputs(o: StateStoreOutputs): Normalized {
  const n: Normalized = { url: o.url, versioning: o.versioning, encryption: o.encryption, forceDestroy: o.forceDestroy, adoptExisting: o.adoptExisting };
  if (o.kmsKeyId) n.kmsKeyId = o.kmsKeyId;
  Object.assign(n, accessOf(o));
  if (o.clientSideEncryption) n.clientSideEncryption = o.clientSideEncryption;
  return n;
}

/**
 * A change of inputs that would not keep the same bucket as asked: another bucket while the old
 * one holds state (the replace would delete it with its clusters), or a region the existing
 * bucket is not in (buckets do not move).
 */
async function identityProblem(previous: Partial<StateStoreInputs>, i: Normalized): Promise<pulumi.dynamic.CheckFailure | undefined> {
  const from = canonicalUrl(previous.url!);
  if (from !== i.url) {
    const old = normalizedFromOutputs({ ...(previous as StateStoreOutputs), url: from });
    const oldAdmin = adminFor(old);
    const held = await oldAdmin.settings().then(async (s) => s.exists && !(await oldAdmin.isEmpty()), () => false);
    if (held) {
      return { property: "url", reason: `${from} holds cluster state; changing url to ${i.url} would replace the store and delete ${from} with it. Add a new StateStore for ${i.url}, move each cluster there with a StateStoreMigration, then remove this one.` };
    }
    return undefined;
  }
  if (i.region && i.region !== previous.region) {
    const s = await adminFor(i).settings().catch(() => undefined);
    if (s?.exists && s.location && s.location !== i.region.toLowerCase()) {
      return { property: "region", reason: `${i.url} is in ${s.location}, and a bucket cannot move to ${i.region}. Set region: "${s.location}" (or leave it out), or move the state to a new StateStore with StateStoreMigration.` };
    }
  }
  return undefined;
}

/**
 * Why the bucket cannot be inspected as the inputs reach it: a region it is not in, keys it
 * refuses, an endpoint that does not answer. Undefined when it can (or is simply not there yet).
 */
async function reachProblem(i: Normalized, isNew: boolean): Promise<pulumi.dynamic.CheckFailure | undefined> {
  try {
    const admin = adminFor(i);
    const found = await admin.settings();
    // A new StateStore on a store that is there is refused at up; the preview says so first.
    if (isNew && found.exists && !i.adoptExisting) return { property: "adoptExisting", reason: alreadyThere(admin.url) };
    return undefined;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (ValidationError.isInstance(e) && /\bregion\b/.test(message)) return { property: "region", reason: message };
    if (PermissionError.isInstance(e)) return { property: "url", reason: `${message} (the keys: accessKeyId and secretAccessKey, else the environment's)` };
    return { property: SCHEMES[parseUrl(i.url).scheme].endpoint && i.endpoint ? "endpoint" : "url", reason: message };
  }
}

function alreadyThere(url: string): string {
  return `${url} already exists. Set adoptExisting: true to manage it with this StateStore; its objects are kept.`;
}

export const provider: ProviderImpl<StateStoreInputs, StateStoreOutputs> = {
  async configure(req) {
    configureFromStack(req);
  },

  async check(olds, news) {
    const { inputs, failures } = checkStateStore(news);
    // The engine prints the value of a property a failure names: never a passphrase's.
    if (failures.length > 0) return { failures: sealedFailures(failures, ["clientSideEncryption", ...SECRET_ACCESS_KEYS]) };
    const i = inputs!;
    const previous = olds as Partial<StateStoreInputs>;
    if (typeof previous.url === "string" && !containsUnknown(previous.url)) {
      const problem = await identityProblem(previous, i);
      if (problem) return { failures: [problem] };
    }
    // New, or reached another way: a bucket that is there must be reachable as given (the preview
    // fails where up would). One that is not there yet is made at up.
    const reachedAs = (x: Partial<StateStoreInputs>) => JSON.stringify([x.url, ...STORE_ACCESS_KEYS.map((k) => x[k] ?? null)]);
    if (reachedAs(previous) !== reachedAs(i) && !containsUnknown(i)) {
      const problem = await reachProblem(i, previous.url === undefined);
      if (problem) return { failures: sealedFailures([problem], ["clientSideEncryption", ...SECRET_ACCESS_KEYS]) };
    }
    return { inputs: i };
  },

  /**
   * The bucket is the identity: a store spelled another way, or reached with a region or endpoint
   * given where there was none, is the same store and never replaced.
   */
  async diff(_id, olds, news) {
    const n = checkStateStore(news).inputs ?? (news as Normalized);
    const replaces = canonicalUrl(olds.url) !== canonicalUrl(n.url) ? ["url"] : [];
    const changed = (["versioning", "encryption", "kmsKeyId", "forceDestroy", "adoptExisting", "clientSideEncryption", ...STORE_ACCESS_KEYS] as const)
      .filter((k) => JSON.stringify(olds[k] ?? "") !== JSON.stringify(n[k] ?? ""));
    return { changes: replaces.length + changed.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const i = inputs as Normalized;
    const admin = adminFor(i);
    await proveKeys(i, admin.url);
    const existing = await admin.settings();
    if (existing.exists) await checkPolicy(i);
    let adopted = false;
    if (existing.exists) {
      if (!i.adoptExisting) {
        throw new RefusedError(alreadyThere(admin.url), { url: admin.url });
      }
      await reconcile(i, admin);
      adopted = true;
    } else {
      try {
        await admin.create({ versioning: i.versioning, encryption: encryptionOf(i), ...(i.region ? { region: i.region } : {}) });
      } catch (e) {
        // Made, but not as asked (encryption refused, say): tell the engine the bucket exists, so
        // the next `up` finishes the job on it instead of failing with "already exists".
        const made = await admin.settings().then((s) => s.exists, () => false);
        if (!made) throw e;
        const props = await observe(i, admin, false).catch(() => undefined);
        throw { id: admin.url, properties: props ?? { url: i.url }, message: `${admin.url} was created, but ${(e as Error).message}`, reasons: [(e as Error).message] };
      }
    }
    await recordPolicy(i, false);
    const outs = await observe(i, admin, adopted);
    if (!outs) throw new BackendError(`${admin.url} was created but cannot be found`, { url: admin.url });
    return { id: admin.url, outs };
  },

  /**
   * Reads the bucket's real settings. When they differ from what was asked (versioning suspended
   * behind Pulumi's back, say), the stored inputs take the observed values too, so the next
   * `preview` shows the repair as a property change (`versioning: false => true`). The
   * client-side key is never handed back as an input: state would hold it in plain text.
   */
  async read(id, props) {
    const i = normalizedFromOutputs(props!);
    const outs = await observe(i, adminFor(i), props!.adopted);
    // No id: the bucket is gone, and refresh drops the resource.
    if (!outs) return {};
    // A policy cleared or changed behind the resource's back (kstate encryption clear|set) is drift
    // too: without the settings in the observed inputs, the next up records the policy again.
    const recorded = i.clientSideEncryption ? await readPolicy(rootOf(i)).catch(() => undefined) : undefined;
    const policyDrift = i.clientSideEncryption !== undefined && (!recorded || policyText(recorded.policy) !== policyText(policyOf(i.clientSideEncryption)));
    if (policyDrift) delete outs.clientSideEncryption;
    const drifted = policyDrift || outs.versioning !== i.versioning || outs.encryption !== i.encryption || (outs.kmsKeyId ?? "") !== (i.kmsKeyId ?? "");
    if (!drifted) return { id, props: outs };
    const observed: StateStoreInputs = { url: i.url, versioning: outs.versioning, encryption: outs.encryption, forceDestroy: i.forceDestroy, adoptExisting: i.adoptExisting };
    if (i.clientSideEncryption && !policyDrift) observed.clientSideEncryption = i.clientSideEncryption;
    if (outs.kmsKeyId) observed.kmsKeyId = outs.kmsKeyId;
    Object.assign(observed, accessOf(i));
    // (The SDK types `inputs` as the outputs type; it takes the inputs.)
    return { id, props: outs, inputs: observed as unknown as StateStoreOutputs };
  },

  async update(_id, olds, news) {
    const i = news as Normalized;
    const admin = adminFor(i);
    await proveKeys(i, admin.url);
    await checkPolicy(i);
    await reconcile(i, admin);
    await recordPolicy(i, olds.clientSideEncryption !== undefined);
    const outs = await observe(i, admin, olds.adopted);
    if (!outs) throw new RefusedError(`${admin.url} no longer exists; run \`pulumi refresh\` to forget it, then \`pulumi up\` to create it again`);
    return { outs };
  },

  async delete(_id, props) {
    const i = normalizedFromOutputs(props);
    const admin = adminFor(i);
    if (!(await admin.settings()).exists) return;
    if (props.adopted && !props.forceDestroy) {
      // An adopted bucket held state before this stack; it outlives the stack unless told otherwise.
      report(`${admin.url} was adopted, not created, by this stack: leaving it and its objects in place (set forceDestroy: true to delete it).`);
      return;
    }
    if (!props.forceDestroy && !(await admin.isEmpty()) && !(await onlyKstateFiles(i))) {
      throw new RefusedError(`${admin.url} is not empty (it holds cluster state or old versions of it). Refusing to delete it; move the state elsewhere first, or set forceDestroy: true on the StateStore to delete it with everything in it.`);
    }
    // A store holding only kstate's own files is empty of state: they go with it.
    await admin.delete({ force: props.forceDestroy || (await onlyKstateFiles(i)) });
  },
};
