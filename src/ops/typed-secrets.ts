/**
 * The secrets kops gives a meaning to, each under the name kops reads it by: `dockerconfig` (the
 * nodes' registry credentials, a Docker config.json), `encryptionconfig` (kube-apiserver's
 * EncryptionConfiguration) and `ciliumpassword` (Cilium's IPsec key, pasted by kops into the
 * `cilium-ipsec-keys` Secret). kops checks only that the first is JSON and the others YAML;
 * kstate refuses as well what kops would store and then fail on later (an empty file, a
 * config of another kind, a Cilium key Cilium cannot use), naming the file.
 */
import { parseYaml } from "../store/yaml";
import { ValidationError } from "../vfs/errors";

export const TYPED_SECRETS = ["dockerconfig", "encryptionconfig", "ciliumpassword"] as const;
export type TypedSecret = (typeof TYPED_SECRETS)[number];

export function isTypedSecret(name: string): name is TypedSecret {
  return (TYPED_SECRETS as readonly string[]).includes(name);
}

function refuse(source: string, what: string, reason: string): never {
  throw new ValidationError(`${source}: not ${what}: ${reason}. Nothing was written.`, { problems: [{ path: source, message: reason }] });
}

/** A YAML mapping as kops parses it (Go's YAML 1.1, the file trimmed); refuses anything else. */
function yamlMapping(data: Buffer, source: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(data.toString("utf8").trim(), source).toJS();
  } catch (e) {
    refuse(source, what, (e as Error).message.startsWith(`${source}: `) ? (e as Error).message.slice(source.length + 2) : (e as Error).message);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) refuse(source, what, `kops reads it as a YAML mapping, and this is ${Array.isArray(value) ? "a list" : value === null ? "empty" : `a ${typeof value}`}`);
  return value as Record<string, unknown>;
}

/**
 * Where JSON.parse stopped, as line and column: its own message can quote the input, which is
 * the secret, so it is never shown.
 */
function jsonErrorAt(text: string, e: unknown): string {
  const m = /position (\d+)/.exec((e as Error).message);
  if (!m) return /end of JSON input/.test((e as Error).message) ? " (it ends too early)" : "";
  const before = text.slice(0, Number(m[1])).split("\n");
  return ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/** A word of a key line as an error may show it: never one that could be key material. */
function word(w: string): string {
  return w.length <= 20 && !/[0-9a-fA-F]{12,}/.test(w) ? JSON.stringify(w) : `a ${w.length}-character word`;
}

function dockerConfig(data: Buffer, source: string): void {
  const what = "a Docker config (JSON)";
  const text = data.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    refuse(source, what, `invalid JSON${jsonErrorAt(text, e)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) refuse(source, what, "kops reads it as a JSON object ({\"auths\": {…}})");
}

function encryptionConfig(data: Buffer, source: string): void {
  const what = "an EncryptionConfiguration";
  const doc = yamlMapping(data, source, what);
  if (doc.kind !== "EncryptionConfiguration") refuse(source, what, `kind is ${doc.kind === undefined ? "not given" : word(String(doc.kind))}; kube-apiserver takes kind: EncryptionConfiguration (apiVersion: apiserver.config.k8s.io/v1)`);
  if (typeof doc.apiVersion !== "string" || !doc.apiVersion.startsWith("apiserver.config.k8s.io/")) refuse(source, what, `apiVersion is ${doc.apiVersion === undefined ? "not given" : word(String(doc.apiVersion))}; kube-apiserver takes apiserver.config.k8s.io/v1`);
  if (!Array.isArray(doc.resources) || doc.resources.length === 0) refuse(source, what, "resources must list what to encrypt and the providers (kube-apiserver refuses a config without them)");
  for (const [i, entry] of (doc.resources as unknown[]).entries()) {
    const e = (typeof entry === "object" && entry !== null && !Array.isArray(entry) ? entry : {}) as Record<string, unknown>;
    const listed = (field: string) => Array.isArray(e[field]) && (e[field] as unknown[]).length > 0;
    if (!listed("resources")) refuse(source, what, `resources[${i}].resources must list what to encrypt (e.g. [secrets]); kube-apiserver refuses an entry without it`);
    if (!listed("providers")) refuse(source, what, `resources[${i}].providers must list at least one provider (e.g. aescbc, identity); kube-apiserver refuses an entry without it`);
  }
}

/** Key lengths in hex digits Cilium takes for each algorithm (rfc4106 keys end in a 4-byte salt). */
const AEAD_KEY_HEX: Record<string, number[]> = { "rfc4106(gcm(aes))": [40, 56, 72] };
const CBC_KEY_HEX = [32, 48, 64];

/** Cilium's IPsec key line: `SPI[+] rfc4106(gcm(aes)) KEY ICV` or `SPI[+] hmac(HASH) KEY cbc(aes) KEY`. */
function ciliumKeyProblem(line: string): string | undefined {
  const words = line.trim().split(/\s+/);
  const spi = words[0] ?? "";
  const m = /^(\d+)\+?$/.exec(spi);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 15) return `the first word is the SPI, a number from 1 to 15 (optionally followed by +), not ${word(spi)}`;
  const hex = (w: string | undefined) => (w ?? "").replace(/^0x/i, "");
  const isHex = (w: string) => /^[0-9a-fA-F]+$/.test(w);
  if (words.length === 4) {
    const [, algo, key, icv] = words as [string, string, string, string];
    const lengths = AEAD_KEY_HEX[algo];
    if (!lengths) return `unknown algorithm ${word(algo)}: Cilium takes rfc4106(gcm(aes)) KEY ICV, or hmac(HASH) KEY cbc(aes) KEY`;
    if (!isHex(hex(key))) return `the ${algo} key is not hexadecimal`;
    if (!lengths.includes(hex(key).length)) return `the ${algo} key is ${hex(key).length} hex digits; Cilium needs ${lengths.join(", ").replace(/, (\d+)$/, " or $1")} (16, 24 or 32 bytes of AES key and a 4-byte salt)`;
    if (!["64", "96", "128"].includes(icv)) return `the ICV length is ${word(icv)}; Cilium takes 64, 96 or 128 bits`;
    return undefined;
  }
  if (words.length === 5) {
    const [, auth, authKey, enc, encKey] = words as [string, string, string, string, string];
    if (!/^hmac\((md5|sha1|sha256|sha384|sha512)\)$/.test(auth)) return `unknown authentication ${word(auth)}: Cilium takes hmac(sha256) and the like`;
    if (!isHex(hex(authKey)) || hex(authKey).length < 32) return `the ${auth} key must be at least 16 bytes in hex (32 digits), and is ${hex(authKey).length} digits`;
    if (enc !== "cbc(aes)") return `unknown encryption ${word(enc)}: Cilium takes cbc(aes)`;
    if (!isHex(hex(encKey)) || !CBC_KEY_HEX.includes(hex(encKey).length)) return `the cbc(aes) key must be 32, 48 or 64 hex digits, and is ${hex(encKey).length}`;
    return undefined;
  }
  return `Cilium's key is "SPI rfc4106(gcm(aes)) KEY ICV" (4 words), or "SPI hmac(HASH) KEY cbc(aes) KEY" (5 words); this has ${words.length}`;
}

function ciliumPassword(data: Buffer, source: string): void {
  const what = "a Cilium IPsec key (keys: SPI ALGORITHM KEY ICV)";
  const text = data.toString("utf8").trim();
  const doc = yamlMapping(data, source, what);
  // kops pastes the file, as it is, under the Secret's stringData at one indent: a second line falls out of it.
  if (text.includes("\n")) refuse(source, what, "kops pastes the file into the cilium-ipsec-keys Secret as one line; give one line, keys: …");
  const extra = Object.keys(doc).filter((k) => k !== "keys");
  if (extra.length > 0) refuse(source, what, `${extra.map((k) => JSON.stringify(k)).join(", ")} is not a field Cilium reads; the file holds keys: … only`);
  if (typeof doc.keys !== "string") refuse(source, what, "keys must be the key line, e.g. keys: 3+ rfc4106(gcm(aes)) <40 hex digits> 128");
  const problem = ciliumKeyProblem(doc.keys);
  if (problem) refuse(source, what, problem);
}

const CHECKS: Record<TypedSecret, (data: Buffer, source: string) => void> = {
  dockerconfig: dockerConfig,
  encryptionconfig: encryptionConfig,
  ciliumpassword: ciliumPassword,
};

/** Refuses (a `ValidationError` naming `source`) contents that kops, or what kops feeds, cannot use. */
export function checkTypedSecret(name: TypedSecret, data: Buffer, source: string): void {
  if (data.toString("utf8").trim() === "") refuse(source, `a ${name} secret`, "the file is empty");
  CHECKS[name](data, source);
}
