/**
 * A store whose matching files are encrypted on the client (envelope.ts) before they reach the
 * backend. Wraps any VfsPath: reads decrypt whatever carries the envelope header (whichever
 * pattern wrote it), writes encrypt the files the patterns name. Listings and stats see the stored
 * (encrypted) bytes; a copy through it is made by the server only for a plaintext file it would
 * not seal, and otherwise streamed, decrypted and sealed again (see copy.ts).
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { decrypt, encrypt, isDamagedEnvelope, isEnvelope, type KeyProvider, MAGIC, passphraseProvider } from "./envelope";
import { IntegrityError, RefusedError, ValidationError } from "./errors";
import { ForwardingPath } from "./forwarding-path";
import { awsKmsProvider, type AwsKmsOptions } from "./kms";
import type { ReadResult, ReadStreamResult, StreamWriteOptions, VfsPath, WriteOptions, WriteResult } from "./path";
import { DEFAULT_VFS_CONTEXT, type VfsContext } from "./vfs-context";

/** One key: a passphrase or an AWS KMS key. */
export interface KeySettings {
  /** A passphrase (at least 12 characters); keys are derived with scrypt. */
  passphrase?: string;
  /** An AWS KMS key (id, ARN or `alias/…`) that wraps each file's data key. */
  awsKmsKeyId?: string;
}

/** The current key (`passphrase` or `awsKmsKeyId`, one of them) writes; it and `fallback` read. */
export interface ClientSideEncryption extends KeySettings {
  /** A key tried for reading after the current one (the old key during a rotation). */
  fallback?: KeySettings;
  /** Where the AWS KMS keys are (region, endpoint, credentials); default the AWS SDK's settings. */
  awsKms?: AwsKmsOptions;
  /**
   * Which files to encrypt, as paths relative to the opened root (`*` within a segment, `**`
   * across). Files that match none are stored as they are.
   */
  patterns: string[];
  /** Refuse to read a plaintext file that the patterns say should be encrypted. Default off. */
  enforce?: boolean;
}

/** A path pattern: `*` and `?` within one segment, `**` across segments. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export interface Keyring {
  current: KeyProvider;
  all: KeyProvider[];
  matches(relative: string): boolean;
  enforce: boolean;
}

function providerOf(key: KeySettings, where: string, kms: AwsKmsOptions | undefined, context: VfsContext): KeyProvider | undefined {
  if (key.passphrase !== undefined && key.awsKmsKeyId !== undefined) {
    throw new ValidationError(`client-side encryption: ${where} gives both a passphrase and awsKmsKeyId; give one`, { problems: [{ path: `${where}.awsKmsKeyId`, message: "give a passphrase or awsKmsKeyId, not both" }] });
  }
  try {
    if (key.passphrase !== undefined) return passphraseProvider(key.passphrase);
    if (key.awsKmsKeyId !== undefined) return awsKmsProvider(key.awsKmsKeyId, kms, context);
    return undefined;
  } catch (e) {
    // The providers name the field alone (`passphrase`); every problem here names it from the settings' root.
    if (!ValidationError.isInstance(e)) throw e;
    throw new ValidationError(e.message, { problems: e.problems.map((p) => ({ ...p, path: `${where}.${p.path}` })), cause: e });
  }
}

/** The keys and patterns of `settings`; AWS KMS clients are kept in `context`. */
export function keyringOf(settings: ClientSideEncryption, context: VfsContext = DEFAULT_VFS_CONTEXT): Keyring {
  const current = providerOf(settings, "clientSideEncryption", settings.awsKms, context);
  if (!current) throw new ValidationError("client-side encryption: give a passphrase or awsKmsKeyId", { problems: [{ path: "clientSideEncryption.passphrase", message: "a passphrase or awsKmsKeyId is required" }] });
  const fallback = settings.fallback ? providerOf(settings.fallback, "clientSideEncryption.fallback", settings.awsKms, context) : undefined;
  const all = [current, ...(fallback ? [fallback] : [])];
  for (const pattern of settings.patterns) {
    // Anything else would match no path, so files meant to be sealed would be stored in plaintext.
    if (/[{}[\]\\]/.test(pattern) || pattern.split("/").some((seg) => seg === "" || seg === "." || seg === "..")) {
      const shown = pattern.replace(/^\*\//, "");
      throw new ValidationError(`client-side encryption: the pattern ${JSON.stringify(shown)} would match no file: patterns are paths relative to a cluster's folder, with *, ? and ** only (no leading ./ or /, no {a,b} or [abc])`, { problems: [{ path: "clientSideEncryption.patterns", message: `${JSON.stringify(shown)} matches no file` }] });
    }
  }
  const patterns = settings.patterns.map(globToRegExp);
  return { current, all, matches: (relative) => patterns.some((p) => p.test(relative)), enforce: settings.enforce === true };
}

/**
 * Proves each key of the ring works now: wraps a random data key and unwraps it again (for AWS KMS
 * keys, one Encrypt and one Decrypt call). Throws naming the key that does not.
 */
export async function probeKeys(keyring: Keyring): Promise<void> {
  const probe = randomBytes(32);
  const aad = Buffer.from("kstate-probe", "utf8");
  for (const [i, k] of keyring.all.entries()) {
    const which = i === 0 ? "the current key" : "the fallback key";
    const back = await k.unwrap(await k.wrap(probe, aad), aad);
    if (!back?.equals(probe)) throw new ValidationError(`client-side encryption: ${which} (${k.id}) did not give back what it wrapped`, { problems: [{ path: i === 0 ? "clientSideEncryption" : "clientSideEncryption.fallback", message: "key does not work" }] });
  }
}

/** `inner` with client-side encryption; `relative` is this path's place under the opened root. */
export function encryptedPath(inner: VfsPath, keyring: Keyring, relative = ""): VfsPath {
  return new EncryptedPath(inner, keyring, relative);
}

/** How many leading bytes tell an envelope (or a damaged one) from plaintext. */
const PEEK_BYTES = MAGIC.length + 2;

class EncryptedPath extends ForwardingPath {
  constructor(inner: VfsPath, private readonly keyring: Keyring, readonly relative: string) {
    super(inner);
  }

  join(...names: string[]): VfsPath {
    return encryptedPath(this.inner.join(...names), this.keyring, [this.relative, ...names].filter((s) => s !== "").join("/"));
  }

  /** The plaintext of this file's stored bytes `data` (read elsewhere): decrypted, or as they are. */
  async open(data: Buffer): Promise<Buffer> {
    if (isEnvelope(data)) return (await decrypt(data, this.relative, this.keyring.all, this.url)).plain;
    if (isDamagedEnvelope(data)) {
      throw new IntegrityError(`${this.url}: the encrypted file is damaged (its header marker was changed)`, { url: this.url });
    }
    if (this.keyring.enforce && this.keyring.matches(this.relative)) {
      throw new RefusedError(`${this.url}: stored in plaintext where the settings require it encrypted (rekey it to encrypt it)`, { url: this.url });
    }
    return data;
  }

  private async sealed(data: Buffer | string): Promise<Buffer> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    return this.keyring.matches(this.relative) ? encrypt(bytes, this.relative, this.keyring.current) : bytes;
  }

  /**
   * Re-encrypts this file under the current key (and per the current patterns), conditional on
   * the revision read. Returns false when it already is as the settings want it.
   */
  async rekey(): Promise<boolean> {
    const raw = await this.inner.read();
    const wanted = this.keyring.matches(this.relative);
    let plain = raw.data;
    if (isEnvelope(raw.data)) {
      const opened = await decrypt(raw.data, this.relative, this.keyring.all, this.url);
      if (wanted && opened.provider === this.keyring.current) return false;
      plain = opened.plain;
    } else if (!wanted) {
      return false;
    }
    await this.inner.write(wanted ? await encrypt(plain, this.relative, this.keyring.current) : plain, { ifRevision: raw.revision });
    return true;
  }

  /** A file the patterns seal is written here only through this process; others are copied by the server as they are. */
  protected override serverCopyInto(...args: Parameters<ForwardingPath["serverCopyInto"]>): Promise<WriteResult | undefined> {
    if (this.keyring.matches(this.relative)) return Promise.resolve(undefined);
    return super.serverCopyInto(...args);
  }

  /**
   * The stored bytes read unchanged only for a plaintext file this path would hand out as it is:
   * the first bytes tell (an envelope, or a damaged one, is opened or refused on the way).
   */
  override async storedPath(): Promise<VfsPath | undefined> {
    if (this.keyring.enforce && this.keyring.matches(this.relative)) return undefined;
    const { stream } = await this.inner.readStream();
    const head: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        head.push(chunk);
        length += chunk.length;
        if (length >= PEEK_BYTES) break;
      }
    } finally {
      stream.destroy();
    }
    const first = Buffer.concat(head, length);
    return isEnvelope(first) || isDamagedEnvelope(first) ? undefined : this.inner;
  }

  protected override async readVersionOf(...args: Parameters<ForwardingPath["readVersionOf"]>): Promise<ReadResult> {
    const r = await super.readVersionOf(...args);
    return { ...r, data: await this.open(r.data) };
  }

  override async read(): Promise<ReadResult> {
    const r = await this.inner.read();
    return { ...r, data: await this.open(r.data) };
  }

  override async write(data: Buffer | string, options?: WriteOptions): Promise<WriteResult> {
    return this.inner.write(await this.sealed(data), options);
  }

  override async create(data: Buffer | string): Promise<WriteResult> {
    return this.inner.create(await this.sealed(data));
  }

  /** Streams plaintext files as they are; a file with the envelope header is read whole and opened. */
  override async readStream(): Promise<ReadStreamResult> {
    const r = await this.inner.readStream();
    const it = (r.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let length = 0;
    let done = false;
    while (length < MAGIC.length) {
      const next = await it.next();
      if (next.done) {
        done = true;
        break;
      }
      head.push(next.value);
      length += next.value.length;
    }
    const first = Buffer.concat(head);
    if (isEnvelope(first) || done) {
      const rest: Buffer[] = [first];
      for (let next = done ? undefined : await it.next(); next && !next.done; next = await it.next()) rest.push(next.value);
      const plain = await this.open(Buffer.concat(rest));
      return { stream: Readable.from([plain]), revision: r.revision, size: plain.length };
    }
    await this.open(first); // refuses plaintext where encryption is enforced
    return {
      ...r,
      stream: Readable.from((async function* () {
        yield first;
        for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
      })()),
    };
  }

  override async writeStream(source: Readable | AsyncIterable<Uint8Array>, options?: StreamWriteOptions): Promise<WriteResult> {
    if (!this.keyring.matches(this.relative)) return this.inner.writeStream(source, options);
    // Encrypted files are secrets and keys: small, and sealed whole (one GCM tag over the file).
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(Buffer.from(c));
    const sealed = await this.sealed(Buffer.concat(chunks));
    return options?.createOnly ? this.inner.create(sealed) : this.inner.write(sealed, options);
  }
}

/**
 * True for a path opened with client-side encryption, or a wrapper over one that opens and rekeys
 * as it does and says so with `holdsKey: true` (the store's policy guard).
 */
export function isEncryptedPath(p: VfsPath): p is VfsPath & Pick<EncryptedPath, "rekey" | "open"> {
  return p instanceof EncryptedPath || (p as { holdsKey?: unknown }).holdsKey === true;
}
