import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Backend, Condition } from "./backend";
import type { BucketAdmin } from "./bucket";
import { AlreadyExistsError, BackendError, KstateError, NotFoundError, PreconditionFailedError } from "./errors";
import {
  type FileInfo, type FileVersion, hasStoredPath, type ListTreeOptions, type ReadResult, type ReadStreamResult, type RemoveOptions, type Revision,
  type StreamWriteOptions, type TreeVersion, type VfsPath, type WriteOptions, type WriteResult,
} from "./path";
import { withRetry } from "./retry";
import { formatUrl, splitNames } from "./url";

/** The `VfsPath` contract over any `Backend`: naming, retries, error wrapping. */
export class ObjectPath implements VfsPath {
  readonly url: string;

  /** Present where the backend keeps old versions (see `hasVersions`). */
  readonly listVersions?: () => Promise<FileVersion[]>;
  readonly listTreeVersions?: () => Promise<TreeVersion[]>;
  readonly readVersion?: (versionId: string) => Promise<ReadResult>;
  /** Present where the store has a bucket (or folder) to manage (see `hasBucketAdmin`). */
  readonly bucketAdmin?: () => BucketAdmin;
  /** Present where the backend can copy on the server (see `canServerCopy`). */
  readonly serverCopyFrom?: (source: VfsPath, size: number, sourceRevision?: Revision) => Promise<WriteResult | undefined>;

  /** `admin` makes the admin of the backend's bucket, where it has one (open.ts knows). */
  constructor(readonly backend: Backend, readonly key: string, private readonly admin?: () => BucketAdmin) {
    this.url = formatUrl(backend.scheme, backend.location, key);
    if (admin) this.bucketAdmin = admin;
    const { copyFrom } = backend;
    if (copyFrom) {
      this.serverCopyFrom = async (source, size, sourceRevision) => {
        const stored = await storedObjectPath(source);
        if (!stored) return undefined;
        try {
          return await copyFrom.call(backend, key, stored.backend, stored.key, size, sourceRevision);
        } catch (e) {
          throw KstateError.isInstance(e) ? e : backend.classify("copy to", this.url, e);
        }
      };
    }
    const { listVersions, readVersion } = backend;
    if (listVersions && readVersion) {
      this.listVersions = async () => {
        const versions = await this.run("list versions of", () => listVersions.call(backend, key));
        return versions.filter((v) => v.path === "").map(({ path: _, ...v }) => v);
      };
      this.listTreeVersions = () => this.run("list versions below", () => listVersions.call(backend, this.prefix()));
      this.readVersion = (id) => this.run(`read version ${id} of`, () => readVersion.call(backend, key, id));
    }
  }

  get base(): string {
    const slash = this.key.lastIndexOf("/");
    return slash < 0 ? this.key : this.key.slice(slash + 1);
  }

  toString(): string {
    return this.url;
  }

  join(...names: string[]): ObjectPath {
    const segments = splitNames(this.url, names);
    const key = this.key === "" ? segments.join("/") : `${this.key}/${segments.join("/")}`;
    return new ObjectPath(this.backend, key, this.admin);
  }

  read(): Promise<ReadResult> {
    return this.run("read", () => this.backend.get(this.key));
  }

  async stat(): Promise<FileInfo & { revision: Revision }> {
    const head = await this.run("stat", () => this.backend.head(this.key));
    const info: FileInfo & { revision: Revision } = { path: this.base, size: head.size, revision: head.revision };
    if (head.hash !== undefined) info.hash = head.hash;
    return info;
  }

  readStream(): Promise<ReadStreamResult> {
    return this.run("read", () => this.backend.getStream(this.key));
  }

  write(data: Buffer | string, options: WriteOptions = {}): Promise<WriteResult> {
    const condition: Condition = options.ifRevision === undefined ? { kind: "any" } : { kind: "match", revision: options.ifRevision };
    return this.put("write", toBuffer(data), condition);
  }

  create(data: Buffer | string): Promise<WriteResult> {
    return this.put("create", toBuffer(data), { kind: "absent" });
  }

  async writeStream(source: Readable | AsyncIterable<Uint8Array>, options: StreamWriteOptions = {}): Promise<WriteResult> {
    const condition: Condition = options.createOnly
      ? { kind: "absent" }
      : options.ifRevision === undefined ? { kind: "any" } : { kind: "match", revision: options.ifRevision };
    const op = options.createOnly ? "create" : "write";
    const iterator = source[Symbol.asyncIterator]();
    // Read up to the single-request limit: a small stream is sent as one retryable request.
    const head: Buffer[] = [];
    let size = 0;
    try {
      while (size <= this.backend.singleWriteLimit) {
        const next = await iterator.next();
        if (next.done) return await this.put(op, Buffer.concat(head, size), condition);
        const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        head.push(chunk);
        size += chunk.length;
      }
    } catch (error) {
      if (KstateError.isInstance(error)) throw error;
      throw this.backend.classify(op, this.url, error);
    }
    const writeId = randomUUID();
    return this.run(op, () => this.backend.putStream(this.key, head, iterator, condition, writeId), false);
  }

  remove(options: RemoveOptions = {}): Promise<void> {
    return this.run("remove", () => this.backend.delete(this.key, options.ifRevision));
  }

  list(): Promise<FileInfo[]> {
    return this.run("list", () => this.backend.listFiles(this.prefix()), false);
  }

  listFolders(): Promise<string[]> {
    return this.run("list", () => this.backend.listFolders(this.prefix()), false);
  }

  listTree(options: ListTreeOptions = {}): Promise<FileInfo[]> {
    return this.run("list", () => this.backend.listTree(this.prefix(), options), false);
  }

  private prefix(): string {
    return this.key === "" ? "" : `${this.key}/`;
  }

  /**
   * A write, retried on transient failures. A conditional write whose earlier attempt may have
   * reached the server can see its own success as a conflict on the retry; the write id stored
   * with the object tells the two apart.
   */
  private async put(op: string, data: Buffer, condition: Condition): Promise<WriteResult> {
    const writeId = randomUUID();
    let retried = false;
    try {
      return await withRetry(this.backend.retry, {
        isTransient: (e) => {
          const transient = this.backend.isTransient(e);
          if (transient) retried = true;
          return transient;
        },
      }, () => this.backend.put(this.key, data, condition, writeId));
    } catch (error) {
      const failure = this.backend.classify(op, this.url, error);
      const lostOwnSuccess = retried && condition.kind !== "any"
        && (AlreadyExistsError.isInstance(failure) || PreconditionFailedError.isInstance(failure));
      if (lostOwnSuccess) {
        // A retry found the object already changed: maybe by this write's own earlier attempt, whose
        // answer was lost. Only the stored write id tells; without it the outcome is unknown, and
        // saying "conflict" could be false.
        const current = await this.run("stat", () => this.backend.head(this.key)).catch((why: Error) => {
          if (NotFoundError.isInstance(why)) throw failure; // gone since: not this write's doing
          throw new BackendError(`${op} ${this.url}: the write may or may not have been applied (its answer was lost, and the object cannot be read now: ${why.message}); read it again before retrying`, { url: this.url, cause: why });
        });
        if (current.writeId === writeId) return { revision: current.revision };
      }
      throw failure;
    }
  }

  /** Runs one operation, retried unless the backend retries its own requests (`retry` false). */
  private async run<T>(op: string, fn: () => Promise<T>, retry = true): Promise<T> {
    try {
      if (!retry) return await fn();
      return await withRetry(this.backend.retry, { isTransient: (e) => this.backend.isTransient(e) }, fn);
    } catch (error) {
      throw this.backend.classify(op, this.url, error);
    }
  }
}

/** The ObjectPath whose stored bytes `p` reads unchanged, through any wrappers; undefined where none does. */
async function storedObjectPath(p: VfsPath | undefined): Promise<ObjectPath | undefined> {
  while (p && !(p instanceof ObjectPath)) p = hasStoredPath(p) ? await p.storedPath() : undefined;
  return p;
}

function toBuffer(data: Buffer | string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (Buffer.isBuffer(data)) return data;
  throw new TypeError("data must be a Buffer or a string");
}
