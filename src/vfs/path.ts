import type { Readable } from "node:stream";

/**
 * An opaque token naming one stored version of a file: an ETag on S3, a generation on GCS,
 * inode, mtime and size on a local disk, a counter in memory. Only compare it for equality
 * and hand it back to `write`/`remove` as `ifRevision`.
 */
export type Revision = string;

export interface ReadResult {
  data: Buffer;
  revision: Revision;
}

export interface ReadStreamResult {
  /** The file's bytes; consume or destroy it. */
  stream: Readable;
  revision: Revision;
  size: number;
}

export interface WriteResult {
  revision: Revision;
}

export interface WriteOptions {
  /** Write only if the file is still at this revision, else `PreconditionFailedError`. */
  ifRevision?: Revision;
}

export interface StreamWriteOptions extends WriteOptions {
  /** Write only if the file does not exist yet, else `AlreadyExistsError`. */
  createOnly?: boolean;
}

export interface RemoveOptions {
  /** Remove only if the file is still at this revision, else `PreconditionFailedError`. */
  ifRevision?: Revision;
}

export interface FileInfo {
  /** Path relative to the folder that was listed, `/`-separated. */
  path: string;
  size: number;
  /** Lowercase hex MD5 of the content, where the backend knows it without reading the file. */
  hash?: string;
  revision?: Revision;
}

export interface ListTreeOptions {
  /** Compute `hash` where the backend does not store one (reads every file on `file://`). */
  hashes?: boolean;
}

/**
 * A file or folder in a store. A `VfsPath` is a cheap value: making one does no I/O, and
 * backend clients are created on the first operation.
 *
 * Every method that fails throws a `KstateError` whose message names the operation and URL.
 */
export interface VfsPath {
  /** `s3://bucket/a/b`, `gs://…`, `file:///abs/dir`, `memfs://name/…`. */
  readonly url: string;
  /** The last segment of the path ("" at a bucket or store root). */
  readonly base: string;

  toString(): string;

  /** A path below this one. Pure; `..`, `.`, empty segments and NUL are `InvalidPathError`. */
  join(...names: string[]): VfsPath;

  /** The file's bytes and revision. Throws `NotFoundError` if the file is absent. */
  read(): Promise<ReadResult>;

  /** The file's size and revision, without its bytes. Throws `NotFoundError` if absent. */
  stat(): Promise<FileInfo & { revision: Revision }>;

  /**
   * Creates or overwrites the file atomically: readers see the old or the new bytes, never a mix.
   * With `ifRevision`, writes only if the file is still at that revision (an absent file does not
   * match), else throws `PreconditionFailedError`; the check and the write are one atomic step.
   */
  write(data: Buffer | string, options?: WriteOptions): Promise<WriteResult>;

  /** Writes only if the file is absent, atomically; else throws `AlreadyExistsError`. */
  create(data: Buffer | string): Promise<WriteResult>;

  /**
   * Removes the file. Removing an absent file succeeds. With `ifRevision`, removes only if the
   * file is at that revision, else throws `PreconditionFailedError`.
   */
  remove(options?: RemoveOptions): Promise<void>;

  /** The files directly in this folder. A missing folder is an empty list. */
  list(): Promise<FileInfo[]>;

  /** The names of the folders directly in this folder. A missing folder is an empty list. */
  listFolders(): Promise<string[]>;

  /** Every file below this folder. A missing folder is an empty list. */
  listTree(options?: ListTreeOptions): Promise<FileInfo[]>;

  /** Streams the file's bytes; memory does not grow with the file's size. `NotFoundError` if absent. */
  readStream(): Promise<ReadStreamResult>;

  /** Writes the file from a stream, with the guarantees of `write` (or `create` with `createOnly`). */
  writeStream(source: Readable | AsyncIterable<Uint8Array>, options?: StreamWriteOptions): Promise<WriteResult>;
}

/** One stored version of a file, for backends that keep old versions (bucket versioning). */
export interface FileVersion {
  versionId: string;
  /** When this version was written. */
  modified: Date;
  size: number;
  /** True for the version a plain `read()` returns. */
  isLatest: boolean;
  /** A delete marker: the file was removed at this point. */
  deleted: boolean;
  /**
   * When this version stopped being the current one (written over or removed), where the backend
   * records it (GCS's `timeDeleted`; S3 records a removal as a delete marker instead).
   */
  until?: Date;
}

/** A version of one of the files below a listed folder. */
export interface TreeVersion extends FileVersion {
  /** Path relative to the folder that was listed, `/`-separated. */
  path: string;
}

/** Optional capability: list and read old versions of a file. */
export interface HasVersions {
  /** This file's versions, newest first, delete markers included. */
  listVersions(): Promise<FileVersion[]>;
  /** Every version of every file below this folder, removed files included; newest first per file. */
  listTreeVersions(): Promise<TreeVersion[]>;
  /** One version's bytes. A delete marker has none: `NotFoundError` or `BackendError`, by backend. */
  readVersion(versionId: string): Promise<ReadResult>;
}

export function hasVersions(p: VfsPath): p is VfsPath & HasVersions {
  const candidate = p as Partial<HasVersions>;
  return typeof candidate.listVersions === "function" && typeof candidate.listTreeVersions === "function" && typeof candidate.readVersion === "function";
}

/**
 * Optional capability: a copy made by the server, the bytes never passing through this process.
 * `copyFile` asks for it and streams where it is missing or declines.
 */
export interface CanServerCopy {
  /**
   * Copies `source`'s stored bytes here on the server, only `sourceRevision` of it when given.
   * Undefined when this pair cannot be copied so (another endpoint, credentials or kind of store,
   * or a file a wrapper must transform on the way): the caller then streams it.
   */
  serverCopyFrom(source: VfsPath, size: number, sourceRevision?: Revision): Promise<WriteResult | undefined>;
}

export function canServerCopy(p: VfsPath): p is VfsPath & CanServerCopy {
  return typeof (p as Partial<CanServerCopy>).serverCopyFrom === "function";
}

/** A path over another one (encryption, the store's policy guard), for the other end of a server-side copy. */
export interface HasStoredPath {
  /** The path whose stored bytes this one reads unchanged; undefined where reading transforms them (decrypts). */
  storedPath(): Promise<VfsPath | undefined>;
}

export function hasStoredPath(p: VfsPath): p is VfsPath & HasStoredPath {
  return typeof (p as Partial<HasStoredPath>).storedPath === "function";
}
