/**
 * kops secrets (`secrets/<name>` holding `{"Data":"<base64>"}`) and which files of a cluster are
 * sealed by client-side encryption. The VFS matches patterns against paths under the root it was
 * opened at; a store's root holds one folder per cluster, so cluster-relative patterns are
 * prefixed here with the cluster segment.
 */
import { createHash, createHmac } from "node:crypto";
import { type ClientSideEncryption, globToRegExp, keyringOf } from "../vfs/encrypted";
import { CONFIG_FILE, INSTANCE_GROUP_DIR } from "./layout";
import { ValidationError } from "../vfs/errors";

/** Client-side encryption settings as users give them: patterns relative to a cluster's folder. */
export type ClusterEncryption = Omit<ClientSideEncryption, "patterns"> & {
  /** Default `secrets/**` and `pki/private/**`, so kops still reads `config` and instance groups. */
  patterns?: string[];
  /**
   * Seal files kops or its nodes read (`config`, `instancegroup/**`, `secrets/**`, `pki/**`,
   * `igconfig/**`) on clusters kops manages, which breaks kops's own reads of them. Default off:
   * such settings are refused there.
   */
  allowEncryptingKopsReads?: boolean;
};

export const DEFAULT_ENCRYPTED_PATTERNS: readonly string[] = ["secrets/**", "pki/private/**"];

/** The VFS settings for a store root: each cluster-relative pattern under any cluster folder. */
export function storeEncryption(settings: ClusterEncryption): ClientSideEncryption {
  const { allowEncryptingKopsReads: _allow, ...rest } = settings;
  return { ...rest, patterns: (settings.patterns ?? DEFAULT_ENCRYPTED_PATTERNS).map((p) => `*/${p}`) };
}

/**
 * What is wrong with client-side encryption settings as a resource input, each problem under the
 * property it concerns (`clientSideEncryption.passphrase`, `…fallback.awsKmsKeyId`, …). The rules
 * are the VFS's own (keyringOf); nothing is contacted.
 */
export function encryptionProblems(settings: unknown, property = "clientSideEncryption"): { property: string; reason: string }[] {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) return [{ property, reason: "must be an object: { passphrase | awsKmsKeyId, fallback?, patterns?, enforce?, awsKms? }" }];
  const s = settings as ClusterEncryption;
  if (s.patterns !== undefined && (!Array.isArray(s.patterns) || s.patterns.some((p) => typeof p !== "string" || p === ""))) {
    return [{ property: `${property}.patterns`, reason: "must be a list of non-empty path patterns" }];
  }
  if (s.allowEncryptingKopsReads !== undefined && typeof s.allowEncryptingKopsReads !== "boolean") {
    return [{ property: `${property}.allowEncryptingKopsReads`, reason: "must be true or false" }];
  }
  try {
    keyringOf(storeEncryption(s));
    return [];
  } catch (e) {
    if (!ValidationError.isInstance(e)) throw e;
    // keyringOf names each problem from the settings' root, `clientSideEncryption…`.
    return e.problems.map((p) => ({ property: `${property}${p.path.slice("clientSideEncryption".length)}`, reason: e.message }));
  }
}

/** The documents kops itself must read that these settings would encrypt ("config", "instance groups"). */
export function unreadableByKops(settings: ClusterEncryption): string[] {
  const patterns = (settings.patterns ?? DEFAULT_ENCRYPTED_PATTERNS).map(globToRegExp);
  const sealed = (file: string) => patterns.some((p) => p.test(file));
  return [...(sealed(CONFIG_FILE) ? ["config"] : []), ...(sealed(`${INSTANCE_GROUP_DIR}/nodes`) ? ["instance groups"] : [])];
}

/** Of `files` (paths in a cluster's folder), those kops opens (secrets/, pki/) that these settings seal. */
export function sealedFromKops(settings: ClusterEncryption, files: readonly string[]): string[] {
  const patterns = (settings.patterns ?? DEFAULT_ENCRYPTED_PATTERNS).map(globToRegExp);
  return files.filter((f) => /^(secrets|pki)\//.test(f) && patterns.some((p) => p.test(f)));
}

/** Names kops gives secrets: letters, digits and `. _ - :` (as in `system:dns`). */
export const SECRET_NAME = /^[A-Za-z0-9._:-]+$/;

export function encodeSecret(value: Buffer | string): string {
  return JSON.stringify({ Data: Buffer.from(value).toString("base64") });
}

/** The value of a stored kops secret; `url` names the file in errors. */
export function decodeSecret(text: string, url: string): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError(`${url}: not a kops secret ({"Data":"<base64>"})`, { url });
  }
  const data = (parsed as { Data?: unknown } | null)?.Data;
  if (typeof data !== "string") throw new ValidationError(`${url}: not a kops secret (no Data field)`, { url });
  // As kops decodes it (Go's standard encoding, padded; line breaks skipped): no lenient reading.
  const compact = data.replace(/[\r\n]/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new ValidationError(`${url}: Data is not base64 (padded, A-Z a-z 0-9 + /) as kops reads it`, { url });
  return Buffer.from(compact, "base64");
}

/** What listings show of a value: a SHA-256 prefix. */
export function secretHash(value: Buffer | string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 16);
}

/**
 * What Pulumi state shows of a value: an HMAC-SHA-256 prefix under a key that state keeps only as
 * a secret, so a reader of the state cannot check guesses against it.
 */
export function keyedSecretHash(key: string, name: string, value: Buffer | string): string {
  return createHmac("sha256", Buffer.from(key, "hex")).update(name).update("\0").update(value).digest("hex").slice(0, 16);
}
