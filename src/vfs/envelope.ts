/**
 * Client-side envelope encryption of single files. Each write makes a fresh 256-bit data key and
 * a fresh nonce, encrypts the bytes with AES-256-GCM, and stores the data key wrapped by a key
 * provider. The file's name (its path under the store) is bound in as associated data, so an
 * encrypted file copied to another name does not decrypt.
 *
 * Format (all integers big-endian):
 *
 *     "KSTATE-ENC" (10 bytes) | version 0x01 | provider id length (1) | provider id (UTF-8)
 *     | wrapped key length (2) | wrapped key | nonce (12) | ciphertext | GCM tag (16)
 *
 * The associated data is everything before the ciphertext followed by the file's path, so a
 * change to any header byte fails authentication too. Passphrase provider ("passphrase"): the
 * wrapped key is salt (16) | nonce (12) | AES-256-GCM(data key) (32) | tag (16), under a key
 * derived with scrypt (N = 2^15, r = 8, p = 1, 32 bytes) from the passphrase and the per-file salt.
 * AWS KMS provider ("awskms", kms.ts): the wrapped key is the KMS ciphertext blob of the data key,
 * encrypted under the configured key with the same associated data as its encryption context.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from "node:crypto";
import { IntegrityError, RefusedError, ValidationError } from "./errors";

export const MAGIC = Buffer.from("KSTATE-ENC");
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** Wraps and unwraps data keys. `id` goes into each file's header. */
export interface KeyProvider {
  readonly id: string;
  wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer>;
  /**
   * The data key, or undefined when this provider's key did not wrap it (a wrong passphrase or
   * key). Throws only when it cannot tell (a key service that does not answer, say).
   */
  unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer | undefined>;
}

function scrypt(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(passphrase, salt, 32, SCRYPT, (e, key) => (e ? reject(e) : resolve(key))));
}

function seal(key: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < NONCE + TAG) throw new IntegrityError("truncated");
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, NONCE));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]);
}

/** A key derived from a passphrase with scrypt and a fresh salt per file. */
export function passphraseProvider(passphrase: string): KeyProvider {
  if (passphrase.length < 12) throw new ValidationError("client-side encryption: the passphrase must be at least 12 characters", { problems: [{ path: "passphrase", message: "at least 12 characters" }] });
  return {
    id: "passphrase",
    async wrap(dataKey, aad) {
      const salt = randomBytes(16);
      return Buffer.concat([salt, seal(await scrypt(passphrase, salt), dataKey, aad)]);
    },
    async unwrap(wrapped, aad) {
      try {
        return open(await scrypt(passphrase, wrapped.subarray(0, 16)), wrapped.subarray(16), aad);
      } catch {
        return undefined;
      }
    },
  };
}

/** True when the bytes start like a file this module wrote. */
export function isEnvelope(data: Buffer): boolean {
  return data.length >= MAGIC.length && data.subarray(0, MAGIC.length).equals(MAGIC);
}

/**
 * True when the bytes start almost like an envelope (one or two bytes of the marker changed):
 * a damaged encrypted file, to be refused rather than read as plaintext. Plaintext kops files
 * (`{"Data":…`, `apiVersion: …`) are nowhere near the marker.
 */
export function isDamagedEnvelope(data: Buffer): boolean {
  if (data.length < MAGIC.length + 2 || isEnvelope(data)) return false;
  let differ = 0;
  for (let i = 0; i < MAGIC.length; i++) if (data[i] !== MAGIC[i]) differ++;
  return differ <= 2;
}

interface Parsed {
  providerId: string;
  wrapped: Buffer;
  header: Buffer;
  body: Buffer;
}

function parse(data: Buffer, label: string): Parsed {
  const fail = (why: string) => new IntegrityError(`${label}: not a readable kstate-encrypted file (${why})`);
  if (!isEnvelope(data)) throw fail("no header");
  let at = MAGIC.length;
  if (data[at] !== VERSION) throw fail(`format version ${data[at]}, this kstate reads ${VERSION}`);
  at += 1;
  const idLength = data[at]!;
  at += 1;
  const providerId = data.subarray(at, at + idLength).toString("utf8");
  at += idLength;
  if (at + 2 > data.length) throw fail("truncated header");
  const wrappedLength = data.readUInt16BE(at);
  at += 2;
  const wrapped = data.subarray(at, at + wrappedLength);
  at += wrappedLength;
  if (at + NONCE + TAG > data.length) throw fail("truncated");
  return { providerId, wrapped, header: data.subarray(0, at), body: data.subarray(at) };
}

/** The id of the key an envelope was sealed with ("passphrase", or the KMS key's), or undefined when unreadable. */
export function sealedWith(data: Buffer): string | undefined {
  try {
    return parse(data, "").providerId;
  } catch {
    return undefined;
  }
}

function aadOf(header: Buffer, name: string): Buffer {
  return Buffer.concat([header, Buffer.from(`\0${name}`, "utf8")]);
}

/** Encrypts `plain` for the file `name` (its path under the store) with `provider`. */
export async function encrypt(plain: Buffer, name: string, provider: KeyProvider): Promise<Buffer> {
  const dataKey = randomBytes(32);
  const id = Buffer.from(provider.id, "utf8");
  // The wrapped key's own associated data: the provider and the file's name.
  const wrapped = await provider.wrap(dataKey, Buffer.from(`${provider.id}\0${name}`, "utf8"));
  const header = Buffer.alloc(MAGIC.length + 2 + id.length + 2 + wrapped.length);
  let at = MAGIC.copy(header, 0);
  header[at++] = VERSION;
  header[at++] = id.length;
  at += id.copy(header, at);
  header.writeUInt16BE(wrapped.length, at);
  wrapped.copy(header, at + 2);
  return Buffer.concat([header, seal(dataKey, plain, aadOf(header, name))]);
}

/**
 * Decrypts a file written by `encrypt` for the same `name`, trying each provider in turn (the
 * current key first, then fallbacks). Returns the plaintext and the provider that opened it.
 * Errors name the file by `label` (its URL, say), default `name`.
 */
export async function decrypt(data: Buffer, name: string, providers: KeyProvider[], label = name): Promise<{ plain: Buffer; provider: KeyProvider }> {
  const refuse = (message: string) => new RefusedError(`${label}: ${message}`, { url: label });
  const p = parse(data, label);
  const candidates = providers.filter((k) => k.id === p.providerId);
  if (candidates.length === 0) {
    throw refuse(`encrypted with a "${p.providerId}" key, and no such key is configured`);
  }
  for (const k of candidates) {
    const dataKey = await k.unwrap(p.wrapped, Buffer.from(`${p.providerId}\0${name}`, "utf8"));
    if (!dataKey) continue;
    try {
      return { plain: open(dataKey, p.body, aadOf(p.header, name)), provider: k };
    } catch {
      throw new IntegrityError(`${label}: the encrypted file is damaged or was moved from another name (authentication failed)`, { url: label });
    }
  }
  throw refuse("cannot decrypt: wrong passphrase or key (or the file was moved from another name, or damaged)");
}
