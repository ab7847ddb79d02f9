/**
 * A path over another path that changes some of what it does (encryption, the store's policy
 * guard) and forwards the rest, optional capabilities included: old versions, bucket admin and
 * server-side copy are there exactly where the inner path has them.
 */
import type { Readable } from "node:stream";
import { type BucketAdmin, hasBucketAdmin } from "./bucket";
import {
  canServerCopy, type FileInfo, type FileVersion, hasVersions, type HasStoredPath, type ListTreeOptions, type ReadResult, type ReadStreamResult,
  type RemoveOptions, type Revision, type StreamWriteOptions, type TreeVersion, type VfsPath, type WriteOptions, type WriteResult,
} from "./path";

export abstract class ForwardingPath implements VfsPath, HasStoredPath {
  /** Present where the inner path keeps old versions (see `hasVersions`). */
  readonly listVersions?: () => Promise<FileVersion[]>;
  readonly listTreeVersions?: () => Promise<TreeVersion[]>;
  readonly readVersion?: (versionId: string) => Promise<ReadResult>;
  /** Present where the inner path has one (see `hasBucketAdmin`). */
  readonly bucketAdmin?: () => BucketAdmin;
  /** Present where the inner path can (see `canServerCopy`). */
  readonly serverCopyFrom?: (source: VfsPath, size: number, sourceRevision?: Revision) => Promise<WriteResult | undefined>;

  constructor(protected readonly inner: VfsPath) {
    if (hasVersions(inner)) {
      this.listVersions = () => inner.listVersions();
      this.listTreeVersions = () => inner.listTreeVersions();
      this.readVersion = (versionId) => this.readVersionOf(inner, versionId);
    }
    if (hasBucketAdmin(inner)) this.bucketAdmin = () => inner.bucketAdmin();
    if (canServerCopy(inner)) this.serverCopyFrom = (source, size, sourceRevision) => this.serverCopyInto(inner, source, size, sourceRevision);
  }

  abstract join(...names: string[]): VfsPath;

  /** One old version's bytes, as this path reads files. Default: as stored. */
  protected readVersionOf(inner: VfsPath & { readVersion(versionId: string): Promise<ReadResult> }, versionId: string): Promise<ReadResult> {
    return inner.readVersion(versionId);
  }

  /** A server-side copy to this path; undefined where this wrapper must see the bytes. Default: as the inner path does. */
  protected serverCopyInto(inner: VfsPath & { serverCopyFrom: NonNullable<ForwardingPath["serverCopyFrom"]> }, source: VfsPath, size: number, sourceRevision?: Revision): Promise<WriteResult | undefined> {
    return inner.serverCopyFrom(source, size, sourceRevision);
  }

  /** Default: reads forward unchanged, so the stored bytes are the inner path's. */
  storedPath(): Promise<VfsPath | undefined> {
    return Promise.resolve(this.inner);
  }

  get url(): string {
    return this.inner.url;
  }

  get base(): string {
    return this.inner.base;
  }

  toString(): string {
    return this.inner.toString();
  }

  read(): Promise<ReadResult> {
    return this.inner.read();
  }

  stat(): Promise<FileInfo & { revision: Revision }> {
    return this.inner.stat();
  }

  write(data: Buffer | string, options?: WriteOptions): Promise<WriteResult> {
    return this.inner.write(data, options);
  }

  create(data: Buffer | string): Promise<WriteResult> {
    return this.inner.create(data);
  }

  remove(options?: RemoveOptions): Promise<void> {
    return this.inner.remove(options);
  }

  list(): Promise<FileInfo[]> {
    return this.inner.list();
  }

  listFolders(): Promise<string[]> {
    return this.inner.listFolders();
  }

  listTree(options?: ListTreeOptions): Promise<FileInfo[]> {
    return this.inner.listTree(options);
  }

  readStream(): Promise<ReadStreamResult> {
    return this.inner.readStream();
  }

  writeStream(source: Readable | AsyncIterable<Uint8Array>, options?: StreamWriteOptions): Promise<WriteResult> {
    return this.inner.writeStream(source, options);
  }
}
