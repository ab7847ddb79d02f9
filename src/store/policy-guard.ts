/**
 * The one way kstate opens a state store for its writers (CLI commands and the cluster
 * provider): a VfsPath over the store root that honours the store's recorded encryption policy
 * (encryption-policy.ts) on every write.
 *
 * - With a policy recorded, every write into a cluster's folder needs a key: without one the write
 *   is refused, naming the policy's key. The rule holds for every file of the folder, not only the
 *   sealed ones, so the first write of a many-file change is the refused one and the store stays
 *   as it was. Another key than the policy's (one AWS KMS key per cluster, say) is taken: what the
 *   policy forbids is plaintext.
 * - With the key, files are sealed by the policy's patterns (the writer's own patterns apply only
 *   where no policy is recorded).
 * - Under a passphrase policy, the writer's passphrase (or its fallback) must open a file the
 *   cluster already keeps sealed with a passphrase: a mistyped one would seal new files under a
 *   key nobody holds, beside the old ones.
 * - Patterns that take in files kops or nodes read are refused for a cluster kops manages unless
 *   the policy (or, with none, the writer's settings) carries `allowEncryptingKopsReads`.
 *
 * Reads are not guarded: files written in plaintext before the policy still read. Nor are
 * deletions (`delete ig`, `delete secret`, `delete cluster`): they put no bytes in the store, and
 * what the policy forbids is plaintext.
 */
import { Readable } from "node:stream";
import { encryptedPath, globToRegExp, isEncryptedPath, keyringOf, type Keyring } from "../vfs/encrypted";
import { sealedWith } from "../vfs/envelope";
import { RefusedError } from "../vfs/errors";
import { ForwardingPath } from "../vfs/forwarding-path";
import { canServerCopy, hasStoredPath, hasVersions } from "../vfs/path";
import type { ReadResult, ReadStreamResult, StreamWriteOptions, VfsPath, WriteOptions, WriteResult } from "../vfs/path";
import { describePolicy, type EncryptionPolicy, isKopsManaged, kopsReadPatterns, POLICY_FILE, POLICY_FOLDER, readPolicy } from "./encryption-policy";
import { type ClusterEncryption, DEFAULT_ENCRYPTED_PATTERNS, storeEncryption } from "./secrets";

/** How the missing key is given, in the words of the face that opens the store (CLI flags, resource inputs): named in refusals. */
export interface KeyHint {
  passphrase: string;
  awsKms: string;
}

/** What one opening of the store shares between its paths: the policy (read once) and what it decided. */
interface Shared {
  raw: VfsPath;
  writer: ClusterEncryption | undefined;
  hint: KeyHint;
  /** Read keyring: the writer's own settings (decrypting needs no patterns). */
  readKeyring: Keyring | undefined;
  policy?: Promise<EncryptionPolicy | undefined>;
  writeKeyring?: Promise<Keyring | undefined>;
  clusters: Map<string, Promise<void>>;
}

/**
 * The store at `raw` (opened without encryption) for a writer holding `writer` (or no key).
 * `hint` says how to give a missing key in refusals.
 */
export function guardStore(raw: VfsPath, writer: ClusterEncryption | undefined, hint: KeyHint): VfsPath {
  const shared: Shared = { raw, writer, hint, readKeyring: writer ? keyringOf(storeEncryption(writer)) : undefined, clusters: new Map() };
  return guarded(raw, shared, []);
}

/**
 * Refuses, as the first write into `cluster`'s folder would, when the store's policy (or the
 * kops-managed rule) does not let this writer write there; nothing is written. For a preview that
 * must fail where `up` would.
 */
export async function checkWritable(root: VfsPath, cluster: string): Promise<void> {
  if (root instanceof GuardedPath) await root.checkWrite(cluster);
}

/**
 * Starts reading the store's policy, which the first write needs, beside the reads a command makes
 * before it writes, so the write does not wait for it. A failure shows where it did: at the write.
 */
export function readPolicyAhead(root: VfsPath): void {
  if (root instanceof GuardedPath) policyOf(root.shared).catch(() => {});
}

/**
 * `root` as stored, past the guard (and any sealing): for kstate's own files in .kstate/, which
 * writers never reach through it. A root that is not guarded is returned as it is.
 */
export function pastGuard(root: VfsPath): VfsPath {
  return root instanceof GuardedPath ? root.shared.raw.join(...root.segments) : root;
}

function guarded(inner: VfsPath, shared: Shared, segments: string[]): VfsPath {
  return new GuardedPath(inner, shared, segments);
}

function policyOf(shared: Shared): Promise<EncryptionPolicy | undefined> {
  shared.policy ??= readPolicy(shared.raw).then((r) => r?.policy);
  return shared.policy;
}

function writeKeyringOf(shared: Shared): Promise<Keyring | undefined> {
  shared.writeKeyring ??= policyOf(shared).then((policy) => {
    if (!shared.writer) return undefined;
    return keyringOf(storeEncryption({ ...shared.writer, patterns: policy?.patterns ?? shared.writer.patterns ?? [...DEFAULT_ENCRYPTED_PATTERNS] }));
  });
  return shared.writeKeyring;
}

/** Refuses, before anything is written, a write into `cluster`'s folder that the policy does not allow. */
async function checkCluster(shared: Shared, cluster: string): Promise<void> {
  const store = shared.raw.url;
  const policy = await policyOf(shared);
  if (policy) {
    const why = `store ${store} keeps ${describePolicy(policy)} (recorded in ${POLICY_FILE})`;
    if (!shared.writer) {
      throw new RefusedError(`${why}; ${policy.keyProvider === "aws-kms" ? shared.hint.awsKms : shared.hint.passphrase}; nothing was written`, { url: `${store}/${cluster}` });
    }
  }
  if (policy?.keyProvider === "passphrase" && shared.writer?.passphrase !== undefined) await checkPassphraseOpens(shared, cluster, policy);
  const patterns = policy?.patterns ?? (shared.writer ? shared.writer.patterns ?? [...DEFAULT_ENCRYPTED_PATTERNS] : []);
  const allowed = policy ? policy.allowEncryptingKopsReads : shared.writer?.allowEncryptingKopsReads === true;
  const breaking = kopsReadPatterns(patterns);
  if (breaking.length > 0 && !allowed && (await isKopsManaged(shared.raw.join(cluster)))) {
    throw new RefusedError(
      `cluster ${cluster} in ${store} is managed by kops (it has kops-version.txt or cluster-completed.spec), and ${breaking.join(", ")} would encrypt files kops or its nodes read, which breaks kops's next update and node boot; nothing was written. `
        + `Encrypt other files, use SSE-KMS instead, or accept it with --encrypt-breaks-kops (allowEncryptingKopsReads: true)`,
      { url: `${store}/${cluster}` },
    );
  }
}

/** How many of a cluster's files the passphrase check reads, at most, looking for one sealed with a passphrase. */
const PASSPHRASE_CHECK_READS = 8;

/**
 * Refuses, naming the file, a passphrase (and fallback) that does not open a file of `cluster`
 * sealed with a passphrase. The files the policy names are read, a few at once, until one is
 * sealed with a passphrase; with none (a new cluster, or plaintext from before the policy) there
 * is nothing to check against.
 */
async function checkPassphraseOpens(shared: Shared, cluster: string, policy: EncryptionPolicy): Promise<void> {
  const folder = shared.raw.join(cluster);
  const named = policy.patterns.map(globToRegExp);
  const candidates = (await folder.listTree()).filter((f) => named.some((p) => p.test(f.path))).slice(0, PASSPHRASE_CHECK_READS);
  const read = await Promise.all(candidates.map((f) => folder.join(...f.path.split("/")).read().then((r) => ({ path: f.path, data: r.data }), () => undefined)));
  const sealed = read.find((r) => r !== undefined && sealedWith(r.data) === "passphrase");
  if (!sealed) return;
  const file = encryptedPath(folder.join(...sealed.path.split("/")), shared.readKeyring!, `${cluster}/${sealed.path}`);
  try {
    if (isEncryptedPath(file)) await file.open(sealed.data);
  } catch (e) {
    throw new RefusedError(`the passphrase given does not open ${file.url}, which the cluster keeps sealed with a passphrase (${(e as Error).message.replace(`${file.url}: `, "")}): a mistyped passphrase would seal new files that the store's passphrase cannot open. Nothing was written. Give the store's passphrase (to change it, give the old one as KSTATE_FALLBACK_PASSPHRASE and run kstate rekey)`, { url: file.url });
  }
}

/** Reads through the reader (decrypting with the writer's key), writes through the policy check; the rest as stored. */
class GuardedPath extends ForwardingPath {
  constructor(inner: VfsPath, readonly shared: Shared, readonly segments: string[]) {
    super(inner);
  }

  join(...names: string[]): VfsPath {
    return guarded(this.inner.join(...names), this.shared, [...this.segments, ...names.flatMap((n) => n.split("/")).filter((s) => s !== "")]);
  }

  private get relative(): string {
    return this.segments.join("/");
  }

  /** An old version as the reader sees it: decrypted with the writer's key, when one is given. */
  protected override readVersionOf(...args: Parameters<ForwardingPath["readVersionOf"]>): Promise<ReadResult> {
    const r = this.reader();
    return hasVersions(r) ? r.readVersion(args[1]) : super.readVersionOf(...args);
  }

  /** A server-side copy here is a write: checked against the policy, then made as the writer would (not where it seals). */
  protected override async serverCopyInto(...args: Parameters<ForwardingPath["serverCopyInto"]>): Promise<WriteResult | undefined> {
    const [, source, size, sourceRevision] = args;
    const w = await this.writer();
    return canServerCopy(w) ? w.serverCopyFrom(source, size, sourceRevision) : undefined;
  }

  /** The stored bytes are what the reader hands out where it does not decrypt them. */
  override storedPath(): Promise<VfsPath | undefined> {
    const r = this.reader();
    return r !== this.inner && hasStoredPath(r) ? r.storedPath() : Promise.resolve(this.inner);
  }

  /** This path as the reader sees it: decrypting with the writer's key, when one is given. */
  protected reader(): VfsPath {
    return this.shared.readKeyring ? encryptedPath(this.inner, this.shared.readKeyring, this.relative) : this.inner;
  }

  /** This path for a write: checked against the policy, then sealing by its patterns. */
  private async writer(): Promise<VfsPath> {
    const cluster = this.segments[0];
    if (cluster === POLICY_FOLDER) throw new RefusedError(`${this.url}: ${POLICY_FOLDER}/ holds the store's encryption policy; change it with kstate encryption set|clear`, { url: this.url });
    if (cluster !== undefined && this.segments.length > 1) {
      let check = this.shared.clusters.get(cluster);
      if (!check) {
        check = checkCluster(this.shared, cluster);
        this.shared.clusters.set(cluster, check);
      }
      await check;
    }
    const keyring = await writeKeyringOf(this.shared);
    return keyring ? encryptedPath(this.inner, keyring, this.relative) : this.inner;
  }

  /** Refuses as a write into `cluster`'s folder would be refused, writing nothing (for previews). */
  async checkWrite(cluster: string): Promise<void> {
    let check = this.shared.clusters.get(cluster);
    if (!check) {
      check = checkCluster(this.shared, cluster);
      this.shared.clusters.set(cluster, check);
    }
    await check;
  }

  /** Opens stored bytes read elsewhere (decrypts an envelope with the key given). */
  async open(data: Buffer): Promise<Buffer> {
    const r = this.reader();
    return isEncryptedPath(r) ? r.open(data) : data;
  }

  /** Re-encrypts this file by the policy's patterns under the current key (see EncryptedPath.rekey). */
  async rekey(): Promise<boolean> {
    const w = await this.writer();
    return isEncryptedPath(w) ? w.rekey() : false;
  }

  /** True when this writer holds a key (so reads decrypt and writes seal). */
  get holdsKey(): boolean {
    return this.shared.readKeyring !== undefined;
  }

  override read(): Promise<ReadResult> {
    return this.reader().read();
  }

  override async write(data: Buffer | string, options?: WriteOptions): Promise<WriteResult> {
    return (await this.writer()).write(data, options);
  }

  override async create(data: Buffer | string): Promise<WriteResult> {
    return (await this.writer()).create(data);
  }

  override async listFolders(): Promise<string[]> {
    // The policy's folder holds no cluster.
    const names = await this.inner.listFolders();
    return this.segments.length === 0 ? names.filter((n) => n !== POLICY_FOLDER) : names;
  }

  override readStream(): Promise<ReadStreamResult> {
    return this.reader().readStream();
  }

  override async writeStream(source: Readable | AsyncIterable<Uint8Array>, options?: StreamWriteOptions): Promise<WriteResult> {
    return (await this.writer()).writeStream(source, options);
  }
}
