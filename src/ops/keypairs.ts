/**
 * A cluster's keypairs (kops's keysets under `pki/private/`): listing them, and planning then
 * writing the changes kops's `create|promote|distrust keypair` make, plus `trust` (the undoing of
 * distrust, which kops lacks). A plan holds the revision it read; applying it writes only if the
 * file is still at that revision (or still absent), so a concurrent change is a conflict.
 */
import { type ClusterStore, mapLimit } from "../store/cluster-store";
import { findPrimary, type Keyset, type KeysetItem, KEYSET_DIR, KEYSET_FILE, KEYSET_NAME, keysetFile, LEGACY_KEYSET_NAMES, parseKeyset, serializeKeyset, sortItems } from "../store/keyset";
import { isEnvelope } from "../vfs/envelope";
import { NotFoundError, RefusedError, ValidationError } from "../vfs/errors";
import type { Revision } from "../vfs/path";
import { keysKeptElsewhere } from "./ssh-key";
import { generateCa, goNameString, parseCertificatePem, parsePrivateKeyPem, pkiSerial, type ParsedCertificate, type ParsedKey } from "./certificates";

export interface StoredKeyset {
  keyset: Keyset;
  /** The file read, relative to the cluster folder (a legacy name's file when kops would read that). */
  file: string;
  /** The revision of `keysetFile(keyset.name)`; undefined when that file is absent (a legacy read). */
  revision: Revision | undefined;
}

/** Keysets kops lets `create keypair` and `promote keypair` touch. */
export function isRotatable(name: string): boolean {
  return name === "service-account" || name.includes("-ca");
}

async function readFile(store: ClusterStore, cluster: string, file: string): Promise<{ text: string; revision: Revision; url: string } | undefined> {
  const path = store.cluster(cluster).join(...file.split("/"));
  try {
    const { data, revision } = await path.read();
    if (isEnvelope(data)) throw new RefusedError(`${path.url}: encrypted client side, and this store is opened without that key; give it with --passphrase-file or KSTATE_PASSPHRASE (--kms-key-id or KSTATE_AWS_KMS_KEY_ID), or clientSideEncryption in a program`, { url: path.url });
    return { text: data.toString("utf8"), revision, url: path.url };
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
}

/**
 * A keyset as kops finds it: its own file, else (for `kubernetes-ca` and `service-account`) the
 * file of its legacy name (`ca`, `master`). Undefined when neither exists.
 */
export async function readKeyset(store: ClusterStore, cluster: string, name: string): Promise<StoredKeyset | undefined> {
  if (!KEYSET_NAME.test(name)) throw new ValidationError(`keyset name ${JSON.stringify(name)}: use letters, digits and . _ - only`);
  const own = await readFile(store, cluster, keysetFile(name));
  if (own) return { keyset: { ...parseKeyset(own.text, own.url), name }, file: keysetFile(name), revision: own.revision };
  const legacy = LEGACY_KEYSET_NAMES[name];
  if (legacy === undefined) return undefined;
  const old = await readFile(store, cluster, keysetFile(legacy));
  return old ? { keyset: { ...parseKeyset(old.text, old.url), name }, file: keysetFile(legacy), revision: undefined } : undefined;
}

/** One row of `get keypairs`, with the fields kops's `-o yaml|json` prints. */
export interface KeypairItem {
  name: string;
  id: string;
  distrustTimestamp?: string;
  isPrimary?: boolean;
  subject?: string;
  issuer?: string;
  alternateNames?: string[];
  isCA?: boolean;
  notBefore?: string;
  notAfter?: string;
  keyLength?: number;
  hasPrivateKey?: boolean;
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function describeItem(name: string, keyset: Keyset, item: KeysetItem): KeypairItem {
  const out: KeypairItem = { name, id: item.id };
  if (item.distrustTimestamp) out.distrustTimestamp = rfc3339(new Date(item.distrustTimestamp));
  if (item.id === findPrimary(keyset)?.id) out.isPrimary = true;
  if (item.publicMaterial) {
    const { x509 } = parseCertificatePem(item.publicMaterial, `${keysetFile(name)} key ${item.id}`);
    out.subject = goNameString(x509.subject);
    out.issuer = goNameString(x509.issuer);
    const names = (x509.subjectAltName ?? "").split(", ").filter((n) => n !== "").map((n) => n.replace(/^(DNS|email|IP Address):/, "")).sort();
    if (names.length > 0) out.alternateNames = names;
    if (x509.ca) out.isCA = true;
    out.notBefore = rfc3339(new Date(x509.validFrom));
    out.notAfter = rfc3339(new Date(x509.validTo));
    const bits = x509.publicKey.asymmetricKeyType === "rsa" ? x509.publicKey.asymmetricKeyDetails?.modulusLength : undefined;
    if (bits !== undefined) out.keyLength = bits;
  }
  if (item.privateMaterial) out.hasPrivateKey = true;
  return out;
}

/**
 * The keypairs of a cluster as `kops get keypairs` lists them: every keyset folder under
 * `pki/private` (legacy names as they are), optionally only `names`; distrusted keys and keys
 * without a certificate only with `distrusted`. A keyset that does not parse is left out with a
 * warning, as kops leaves it out.
 */
export async function listKeypairs(store: ClusterStore, cluster: string, options: { names?: readonly string[]; distrusted?: boolean } = {}): Promise<{ items: KeypairItem[]; warnings: string[] }> {
  const folder = store.cluster(cluster).join(...KEYSET_DIR.split("/"));
  const files = (await folder.listTree()).map((f) => f.path.split("/")).filter((t) => t.length === 2 && t[1] === KEYSET_FILE).map((t) => t[0]!).sort();
  const items: KeypairItem[] = [];
  const warnings: string[] = [];
  const wanted = files.filter((name) => !options.names || options.names.length === 0 || options.names.includes(name));
  const reads = await mapLimit(wanted, 16, (name) => readFile(store, cluster, keysetFile(name)));
  for (const [i, name] of wanted.entries()) {
    const read = reads[i];
    if (!read) continue;
    try {
      const keyset = parseKeyset(read.text, read.url);
      // As kops: a keyset with any certificate or key that does not parse is left out whole.
      for (const k of keyset.keys) {
        if (k.publicMaterial) parseCertificatePem(k.publicMaterial, `${read.url} key ${k.id}`);
        if (k.privateMaterial) parsePrivateKeyPem(k.privateMaterial, `${read.url} key ${k.id}`);
      }
      const shown = keyset.keys.filter((k) => options.distrusted || (k.distrustTimestamp === undefined && k.publicMaterial !== undefined));
      items.push(...shown.map((k) => describeItem(name, keyset, k)));
    } catch (e) {
      if (!ValidationError.isInstance(e)) throw e;
      warnings.push(`ignoring keyset ${JSON.stringify(name)}: ${e.message}`);
    }
  }
  return { items, warnings };
}

/** A planned change to one keyset: what is written where, on what revision, and how to say it. */
export interface KeypairPlan {
  cluster: string;
  keyset: string;
  /** The file written, relative to the cluster folder. */
  file: string;
  /** Revision read; undefined means the file must still be absent (create). */
  base: Revision | undefined;
  before: Keyset | undefined;
  after: Keyset;
  /** Change lines (`pki/private/kubernetes-ca/keyset.yaml: + key 77… (primary)`); empty when nothing changes. */
  lines: string[];
  /** What kops would print once written (`Created kubernetes-ca 77…`), or why nothing is to be done. */
  summary: string;
  /** The key the change concerns (created or promoted). */
  id?: string;
}

export function isNoop(plan: KeypairPlan): boolean {
  return plan.lines.length === 0;
}

/** kops's rules for a keyset it stores: a trusted primary with a certificate and a private key. */
function checkStorable(keyset: Keyset): void {
  const primary = keyset.keys.find((k) => k.id === keyset.primaryId);
  const fail = (why: string) => new RefusedError(`keyset ${keyset.name}: ${why}`);
  if (!keyset.primaryId || !primary) throw fail("must have a primary key");
  if (primary.distrustTimestamp) throw fail(`primary key ${primary.id} must not be distrusted`);
  if (!primary.privateMaterial) throw fail(`primary key ${primary.id} must have a private key`);
  if (!primary.publicMaterial) throw fail(`primary key ${primary.id} must have a certificate`);
}

function plan(cluster: string, stored: StoredKeyset | undefined, after: Keyset, changes: string[], summary: string, id?: string): KeypairPlan {
  if (changes.length > 0) checkStorable(after);
  const file = keysetFile(after.name);
  const migrated = stored && stored.file !== file ? [`${file}: create (from legacy ${stored.file}, which stays)`] : [];
  return {
    cluster, keyset: after.name, file, base: stored?.revision, before: stored?.keyset, after,
    lines: changes.length === 0 ? [] : [...migrated, ...changes.map((c) => `${file}: ${c}`)],
    summary, ...(id !== undefined ? { id } : {}),
  };
}

/** The keyset as it is read, with the primary kops would find written as primaryId. */
function current(stored: StoredKeyset): Keyset {
  const primary = findPrimary(stored.keyset);
  return { name: stored.keyset.name, keys: stored.keyset.keys.map((k) => ({ ...k })), ...(primary ? { primaryId: primary.id } : {}) };
}

function describeCert(cert: ParsedCertificate): string {
  return `${goNameString(cert.x509.subject)}, expires ${rfc3339(new Date(cert.x509.validTo)).slice(0, 10)}`;
}

export interface KeypairMaterial {
  certificate: ParsedCertificate;
  key?: ParsedKey;
}

/** A certificate and key as given (PEM texts), checked: both parse, and the key is the certificate's. */
export function readKeypairMaterial(cert: { text: string; source: string }, key?: { text: string; source: string }): KeypairMaterial {
  const certificate = parseCertificatePem(cert.text, cert.source);
  if (!key) return { certificate };
  const parsed = parsePrivateKeyPem(key.text, key.source);
  if (!certificate.x509.checkPrivateKey(parsed.key)) {
    throw new ValidationError(`${key.source}: this private key does not belong to the certificate in ${cert.source}`, { problems: [{ path: key.source, message: "key does not match the certificate" }] });
  }
  return { certificate, key: parsed };
}

/**
 * The id kops gives a new key (fi.Keyset.AddItem): a fresh clock serial, or the certificate's own
 * serial when that is not newer (and, for a primary, newer than every key held); a certificate
 * without a key that is not newer than the primary's gets the smallest unused integer.
 */
function newId(keyset: Keyset | undefined, material: KeypairMaterial, primary: boolean, now: Date): string {
  const serial = material.certificate.serial;
  const ints = (keyset?.keys ?? []).map((k) => k.id).filter((id) => /^[+-]?\d+$/.test(id)).map((id) => BigInt(id));
  const highest = ints.reduce((a, b) => (b > a ? b : a), 0n);
  let id = pkiSerial(now);
  if (serial <= id && (!primary || serial > highest)) id = serial;
  const primaryItem = keyset ? findPrimary(keyset) : undefined;
  if (!material.key && primaryItem?.publicMaterial && parseCertificatePem(primaryItem.publicMaterial, "primary").serial <= id) {
    id = 0n;
    while (keyset!.keys.some((k) => k.id === id.toString())) id++;
  }
  return id.toString();
}

/** Keysets are written where kops reads them: refused when the cluster keeps its keys elsewhere. */
async function requireKeysHere(store: ClusterStore, cluster: string): Promise<void> {
  const elsewhere = keysKeptElsewhere(store, cluster, await store.readConfigValues(cluster));
  if (elsewhere) throw new RefusedError(`${elsewhere}; kops reads its keypairs from there. Nothing was written.`, { url: store.cluster(cluster).url });
}

function requireRotatable(name: string, verb: string): void {
  if (!KEYSET_NAME.test(name)) throw new ValidationError(`keyset name ${JSON.stringify(name)}: use letters, digits and . _ - only`);
  if (!isRotatable(name)) throw new RefusedError(`${verb} keypairs for ${JSON.stringify(name)} is not supported (kops allows service-account and keysets whose name holds "-ca")`);
}

/**
 * Adds a keypair to a keyset, as `kops create keypair KEYSET --cert --key [--primary]` does. The
 * same certificate again is nothing to do (or, with `primary`, a promotion of the key that holds
 * it), so repeating an import changes nothing.
 */
export async function planImportKeypair(store: ClusterStore, cluster: string, name: string, material: KeypairMaterial, options: { primary?: boolean; now?: Date } = {}): Promise<KeypairPlan> {
  requireRotatable(name, "adding");
  await requireKeysHere(store, cluster);
  const primary = options.primary === true;
  const stored = await readKeyset(store, cluster, name);
  if (!stored && !primary) throw new RefusedError(`keyset ${name} has no keypair yet: the first keypair added to a keyset must be primary (pass --primary)`);
  if (primary && !material.key) throw new RefusedError(`a primary keypair needs its private key (--key)`);
  const keyset: Keyset = stored ? current(stored) : { name, keys: [] };
  const same = keyset.keys.find((k) => k.publicMaterial === material.certificate.pem);
  if (same) {
    if (!primary || keyset.primaryId === same.id) return plan(cluster, stored, keyset, [], `Keyset ${name} already holds this certificate as ${same.id}: nothing to do.`, same.id);
    return planPromoteIn(cluster, stored!, keyset, same.id);
  }
  const id = newId(stored ? keyset : undefined, material, primary, options.now ?? new Date());
  if (keyset.keys.some((k) => k.id === id)) throw new RefusedError(`keyset ${name} already has a key with id ${id} (the certificate's serial); give a certificate with another serial`);
  keyset.keys.push({ id, publicMaterial: material.certificate.pem, ...(material.key ? { privateMaterial: material.key.pem } : {}) });
  const lines = [`+ key ${id} (${describeCert(material.certificate)}${material.key ? "" : ", no private key"})${primary ? ", primary" : ""}`];
  if (primary) {
    if (keyset.primaryId) lines.push(`~ primary ${keyset.primaryId} -> ${id}`);
    keyset.primaryId = id;
  }
  return plan(cluster, stored, keyset, lines, `Created ${name} ${id}`, id);
}

/** A new CA keypair, as `kops create keypair KEYSET [--primary]` without --cert makes one. */
export async function planGenerateKeypair(store: ClusterStore, cluster: string, name: string, options: { primary?: boolean; now?: Date } = {}): Promise<KeypairPlan> {
  requireRotatable(name, "adding");
  const made = generateCa(name, options.now ?? new Date());
  return planImportKeypair(store, cluster, name, { certificate: made.certificate, key: made.key }, options);
}

function planPromoteIn(cluster: string, stored: StoredKeyset, keyset: Keyset, id: string): KeypairPlan {
  const from = keyset.primaryId;
  keyset.primaryId = id;
  return plan(cluster, stored, keyset, [`~ primary ${from ?? "(none)"} -> ${id}`], `Promoted ${keyset.name} ${id}`, id);
}

async function requireKeyset(store: ClusterStore, cluster: string, name: string): Promise<StoredKeyset> {
  const stored = await readKeyset(store, cluster, name);
  if (!stored) throw new NotFoundError(`keyset ${JSON.stringify(name)} not found in cluster ${cluster} (no ${keysetFile(name)})`);
  return stored;
}

/**
 * Makes a key primary, as `kops promote keypair KEYSET [ID]`: without an id, the newest trusted key
 * with a certificate and private key (nothing to do when that is the primary already).
 */
export async function planPromoteKeypair(store: ClusterStore, cluster: string, name: string, id?: string): Promise<KeypairPlan> {
  requireRotatable(name, "promoting");
  await requireKeysHere(store, cluster);
  const stored = await requireKeyset(store, cluster, name);
  const keyset = current(stored);
  if (id === undefined) {
    const candidates = keyset.keys.filter((k) => k.privateMaterial && k.publicMaterial && !k.distrustTimestamp && /^[+-]?\d+$/.test(k.id));
    const newest = candidates.reduce<KeysetItem | undefined>((a, k) => (!a || BigInt(k.id) > BigInt(a.id) ? k : a), undefined);
    if (!newest || newest.id === keyset.primaryId) return plan(cluster, stored, keyset, [], `No ${name} keypair newer than current primary ${keyset.primaryId ?? "(none)"}`);
    return planPromoteIn(cluster, stored, keyset, newest.id);
  }
  const item = keyset.keys.find((k) => k.id === id);
  if (!item) throw new RefusedError(`keyset ${name}: keypair ${id} not found`);
  if (item.distrustTimestamp) throw new RefusedError(`keyset ${name}: keypair ${id} is distrusted`);
  if (!item.privateMaterial) throw new RefusedError(`keyset ${name}: keypair ${id} has no private key`);
  if (!item.publicMaterial) throw new RefusedError(`keyset ${name}: keypair ${id} has no certificate`);
  if (id === keyset.primaryId) return plan(cluster, stored, keyset, [], `Keypair ${id} is already the primary of ${name}: nothing to do.`, id);
  return planPromoteIn(cluster, stored, keyset, id);
}

/** Time as kops records a distrust: RFC 3339 in UTC, whole seconds. */
function distrustTime(now: Date): string {
  return rfc3339(new Date(Math.floor(now.getTime() / 1000) * 1000));
}

/**
 * Distrusts keys, as `kops distrust keypair KEYSET [ID]...`: without ids, every trusted key whose
 * certificate's serial is lower than the primary's. The primary is never distrusted; kstate checks
 * every id before writing anything (kops writes those before a refused one).
 */
export async function planDistrustKeypair(store: ClusterStore, cluster: string, name: string, ids: readonly string[], options: { now?: Date } = {}): Promise<KeypairPlan> {
  await requireKeysHere(store, cluster);
  const stored = await requireKeyset(store, cluster, name);
  const keyset = current(stored);
  let chosen = [...ids];
  if (chosen.length === 0) {
    const primary = keyset.keys.find((k) => k.id === keyset.primaryId);
    const serial = (k: KeysetItem) => (k.publicMaterial ? parseCertificatePem(k.publicMaterial, `${keysetFile(name)} key ${k.id}`).serial : undefined);
    const top = primary ? serial(primary) : undefined;
    chosen = top === undefined ? [] : keyset.keys.filter((k) => !k.distrustTimestamp && (serial(k) ?? top) < top).map((k) => k.id);
    if (chosen.length === 0) return plan(cluster, stored, keyset, [], `No ${name} keypairs older than the primary.`);
  }
  for (const id of chosen) {
    if (id === keyset.primaryId) throw new RefusedError(`keyset ${name}: cannot distrust the primary keypair (${id}); promote another keypair first`);
    if (!keyset.keys.some((k) => k.id === id)) throw new RefusedError(`keyset ${name}: keypair ${id} not found`);
  }
  const at = distrustTime(options.now ?? new Date());
  const lines: string[] = [];
  const done: string[] = [];
  for (const id of [...new Set(chosen)]) {
    const item = keyset.keys.find((k) => k.id === id)!;
    if (item.distrustTimestamp) continue;
    item.distrustTimestamp = at;
    lines.push(`~ key ${id}: distrusted at ${at}`);
    done.push(`Distrusted ${name} ${id}`);
  }
  return plan(cluster, stored, keyset, lines, done.length ? done.join("\n") : `Keypair(s) ${chosen.join(", ")} of ${name} already distrusted: nothing to do.`);
}

/** Trusts distrusted keys again (kstate's own: kops has no way back from distrust). */
export async function planTrustKeypair(store: ClusterStore, cluster: string, name: string, ids: readonly string[]): Promise<KeypairPlan> {
  if (ids.length === 0) throw new ValidationError("trust keypair needs the ids of the keypairs to trust");
  await requireKeysHere(store, cluster);
  const stored = await requireKeyset(store, cluster, name);
  const keyset = current(stored);
  for (const id of ids) if (!keyset.keys.some((k) => k.id === id)) throw new RefusedError(`keyset ${name}: keypair ${id} not found`);
  const lines: string[] = [];
  const done: string[] = [];
  for (const id of [...new Set(ids)]) {
    const item = keyset.keys.find((k) => k.id === id)!;
    if (!item.distrustTimestamp) continue;
    delete item.distrustTimestamp;
    lines.push(`~ key ${id}: trusted again`);
    done.push(`Trusted ${name} ${id}`);
  }
  return plan(cluster, stored, keyset, lines, done.length ? done.join("\n") : `Keypair(s) ${ids.join(", ")} of ${name} already trusted: nothing to do.`);
}

/** Writes a plan: create-only when the file was absent, else only if it is still at the revision read. */
export async function applyKeypairPlan(store: ClusterStore, plan: KeypairPlan): Promise<void> {
  if (isNoop(plan)) return;
  const path = store.cluster(plan.cluster).join(...plan.file.split("/"));
  const text = serializeKeyset({ ...plan.after, keys: sortItems(plan.after.keys) });
  if (plan.base === undefined) await path.create(text);
  else await path.write(text, { ifRevision: plan.base });
}

/**
 * A bring-your-own cluster CA, for the Pulumi provider: the plan of importing `{ cert, key }` (PEM
 * texts) into `kubernetes-ca` as primary. Plain data in, plain data out: the plan's lines say what
 * would change; `applyCaImport` writes it.
 */
export async function planCaImport(store: ClusterStore, cluster: string, pems: { cert: string; key: string }, options: { now?: Date } = {}): Promise<KeypairPlan> {
  const material = readKeypairMaterial({ text: pems.cert, source: "cert" }, { text: pems.key, source: "key" });
  return planImportKeypair(store, cluster, "kubernetes-ca", material, { primary: true, ...options });
}

export function applyCaImport(store: ClusterStore, plan: KeypairPlan): Promise<void> {
  return applyKeypairPlan(store, plan);
}
