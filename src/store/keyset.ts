/**
 * kops keysets: `pki/private/<keyset>/keyset.yaml`, a `Keyset` document (kops.k8s.io/v1alpha2)
 * whose keys carry a PEM certificate (`publicMaterial`) and PEM private key (`privateMaterial`),
 * both base64 as Go writes `[]byte`. Written as kops writes them: keys sorted as fields are, keys
 * ordered oldest id first, no creationTimestamp.
 */
import { ValidationError } from "../vfs/errors";
import { API_VERSION, LEGACY_API_VERSION } from "./layout";
import { newDocument, parseYamlValues, stringifyYaml } from "./yaml";

export const KEYSET_DIR = "pki/private";
export const KEYSET_FILE = "keyset.yaml";
/** The cluster CA's keyset, and the names kops reads for keysets written before it renamed them. */
export const CA_KEYSET = "kubernetes-ca";
export const LEGACY_KEYSET_NAMES: Readonly<Record<string, string>> = { "kubernetes-ca": "ca", "service-account": "master" };

/** A keyset's file, relative to its cluster's folder. */
export function keysetFile(name: string): string {
  return `${KEYSET_DIR}/${name}/${KEYSET_FILE}`;
}

export interface KeysetItem {
  id: string;
  /** RFC 3339, seconds, UTC, as kops writes it; absent when trusted. */
  distrustTimestamp?: string;
  /** PEM certificate. */
  publicMaterial?: string;
  /** PEM private key. */
  privateMaterial?: string;
}

export interface Keyset {
  name: string;
  primaryId?: string;
  keys: KeysetItem[];
}

/** Names kops gives keysets: folder names, so no slashes. */
export const KEYSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function material(value: unknown, where: string, source: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) {
    throw new ValidationError(`${source}: ${where} is not base64 (padded, A-Z a-z 0-9 + /) as kops writes it`, { url: source, problems: [{ path: where, message: "must be base64" }] });
  }
  return Buffer.from(value, "base64").toString("utf8");
}

/**
 * Whether id `a` is older than `b`, as kops orders keyset items: integers by value, before any
 * id that is not an integer; those by their text.
 */
export function idOlder(a: string, b: string): boolean {
  const [ai, bi] = [/^[+-]?\d+$/.test(a), /^[+-]?\d+$/.test(b)];
  if (ai && bi) return BigInt(a) < BigInt(b);
  if (ai !== bi) return ai;
  return a < b;
}

export function sortItems(keys: readonly KeysetItem[]): KeysetItem[] {
  return [...keys].sort((x, y) => (idOlder(x.id, y.id) ? -1 : idOlder(y.id, x.id) ? 1 : 0));
}

/** A stored keyset document; `source` (the file's URL) names the file in errors. */
export function parseKeyset(text: string, source: string): Keyset {
  const bad = (path: string, message: string) => new ValidationError(`${source}: ${path ? `${path} ` : ""}${message}`, { url: source, problems: [{ path, message }] });
  const values = parseYamlValues(text, source) as Record<string, any> | null;
  if (typeof values !== "object" || values === null || Array.isArray(values)) throw bad("", "is not a Keyset document (no mapping)");
  if (values.kind !== "Keyset") throw bad("kind", `must be Keyset (found ${JSON.stringify(values.kind)})`);
  if (values.apiVersion !== API_VERSION && values.apiVersion !== LEGACY_API_VERSION) throw bad("apiVersion", `must be ${API_VERSION} (found ${JSON.stringify(values.apiVersion)})`);
  const name = values.metadata?.name;
  if (typeof name !== "string" || name === "") throw bad("metadata.name", "must be the keyset's name");
  const spec = (values.spec ?? {}) as Record<string, unknown>;
  if (spec.type !== undefined && spec.type !== "Keypair") throw bad("spec.type", `must be Keypair (found ${JSON.stringify(spec.type)})`);
  if (spec.keys !== undefined && spec.keys !== null && !Array.isArray(spec.keys)) throw bad("spec.keys", "must be a list");
  const keys = ((spec.keys ?? []) as unknown[]).map((k, i): KeysetItem => {
    const at = `spec.keys[${i}]`;
    if (typeof k !== "object" || k === null) throw bad(at, "must be a mapping");
    const item = k as Record<string, unknown>;
    if (typeof item.id !== "string" || item.id === "") throw bad(`${at}.id`, "must be a non-empty string");
    const distrust = item.distrustTimestamp;
    if (distrust !== undefined && distrust !== null && (typeof distrust !== "string" || Number.isNaN(Date.parse(distrust)))) throw bad(`${at}.distrustTimestamp`, "must be an RFC 3339 time");
    const publicMaterial = material(item.publicMaterial, `${at}.publicMaterial`, source);
    const privateMaterial = material(item.privateMaterial, `${at}.privateMaterial`, source);
    return { id: item.id, ...(typeof distrust === "string" ? { distrustTimestamp: distrust } : {}), ...(publicMaterial ? { publicMaterial } : {}), ...(privateMaterial ? { privateMaterial } : {}) };
  });
  const ids = new Set<string>();
  for (const [i, k] of keys.entries()) {
    if (ids.has(k.id)) throw bad(`spec.keys[${i}].id`, `${JSON.stringify(k.id)} is given twice`);
    ids.add(k.id);
  }
  const primaryId = typeof spec.primaryId === "string" && spec.primaryId !== "" ? spec.primaryId : undefined;
  return { name, keys, ...(primaryId ? { primaryId } : {}) };
}

/** The keyset document as kops writes it (byte for byte). */
export function serializeKeyset(keyset: Keyset): string {
  const keys = sortItems(keyset.keys).map((k) => ({
    ...(k.distrustTimestamp ? { distrustTimestamp: k.distrustTimestamp } : {}),
    id: k.id,
    ...(k.privateMaterial ? { privateMaterial: Buffer.from(k.privateMaterial).toString("base64") } : {}),
    ...(k.publicMaterial ? { publicMaterial: Buffer.from(k.publicMaterial).toString("base64") } : {}),
  }));
  return stringifyYaml(newDocument({
    apiVersion: API_VERSION,
    kind: "Keyset",
    metadata: { name: keyset.name },
    spec: { ...(keys.length > 0 ? { keys } : {}), ...(keyset.primaryId ? { primaryId: keyset.primaryId } : {}), type: "Keypair" },
  }));
}

/**
 * The primary key as kops finds it: the trusted key named by `primaryId`, else the trusted key
 * with the highest integer id; keys whose id is not an integer are never primary.
 */
export function findPrimary(keyset: Keyset): KeysetItem | undefined {
  let best: KeysetItem | undefined;
  for (const k of keyset.keys) {
    if (k.distrustTimestamp !== undefined || !/^[+-]?\d+$/.test(k.id)) continue;
    if (k.id === keyset.primaryId) return k;
    if (!best || BigInt(k.id) > BigInt(best.id)) best = k;
  }
  return best;
}
