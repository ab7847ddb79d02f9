import { type Backend, type Condition, expectRevision, type ListOptions, type ObjectHead } from "../backend";
import type { KstateError } from "../errors";
import { listFilesOf, listFoldersOf, listTreeOf, type PagedListing } from "../paged-listing";
import type { FileInfo, ReadResult, ReadStreamResult, Revision, TreeVersion, WriteResult } from "../path";
import { type RetryPolicy, withRetry } from "../retry";
import { classifyS3, isS3Transient, s3Call } from "./answers";
import { md5OfEtag } from "./etag";
import { conditionHeaders, PART_SIZE, uploadMultipart, WRITE_ID } from "./multipart";
import { serverCopy } from "./server-copy";
import { encryptionHeaders, type S3Session } from "./session";
import { headerOf, type ListedObject, type ListPage, parseListPage, parseVersionsPage, type S3Wire } from "./wire";

/**
 * `s3://bucket/...` on AWS S3 or any S3-compatible server: the objects of one bucket. What the
 * bucket is (region, clients, credentials, encryption) is the session's.
 */
export class S3Backend implements Backend {
  readonly scheme = "s3" as const;
  readonly singleWriteLimit = PART_SIZE;
  readonly location: string;

  constructor(readonly session: S3Session, readonly retry: RetryPolicy) {
    this.location = session.bucket;
  }

  /**
   * Server-side copy from another S3 bucket on the same endpoint with the same credentials
   * (server-copy.ts). Returns undefined when the two are not on one endpoint.
   */
  async copyFrom(key: string, source: Backend, sourceKey: string, size: number, sourceRevision?: Revision): Promise<WriteResult | undefined> {
    if (!(source instanceof S3Backend) || !this.session.reaches(source.session)) return undefined;
    return serverCopy({ session: this.session, key }, { session: source.session, key: sourceKey }, size, this.retry, sourceRevision);
  }

  /** The wire path for a read; the first reads also start what a later write will need. */
  private readWire(): Promise<S3Wire> {
    this.session.prepareWrites();
    return this.session.wire();
  }

  async head(key: string): Promise<ObjectHead> {
    const wire = await this.readWire();
    const out = await s3Call(() => wire.send({ method: "HEAD", key }));
    const etag = headerOf(out.headers, "etag") ?? "";
    const head: ObjectHead = { size: Number(headerOf(out.headers, "content-length") ?? 0), revision: etag };
    const writeId = headerOf(out.headers, `x-amz-meta-${WRITE_ID}`);
    if (writeId) head.writeId = writeId;
    const hash = this.md5Of(etag);
    if (hash) head.hash = hash;
    return head;
  }

  async get(key: string): Promise<ReadResult> {
    const { stream, revision } = await this.getStream(key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { data: Buffer.concat(chunks), revision };
  }

  async getStream(key: string): Promise<ReadStreamResult> {
    return this.getObject(key, undefined);
  }

  private async getObject(key: string, versionId: string | undefined): Promise<ReadStreamResult> {
    const wire = await this.readWire();
    const out = await s3Call(() => wire.stream({ method: "GET", key, ...(versionId ? { query: { versionId } } : {}) }));
    return { stream: out.stream, revision: headerOf(out.headers, "etag") ?? "", size: Number(headerOf(out.headers, "content-length") ?? 0) };
  }

  /** One signed PUT over the wire path, with the write's condition and encryption headers. */
  async put(key: string, data: Buffer, condition: Condition, writeId: string): Promise<WriteResult> {
    const wire = await this.session.wire();
    const headers = { [`x-amz-meta-${WRITE_ID}`]: writeId, ...conditionHeaders(condition), ...encryptionHeaders(await this.session.encryptionParams()) };
    const out = await s3Call(() => wire.send({ method: "PUT", key, body: data, headers }), condition);
    return { revision: headerOf(out.headers, "etag") ?? "" };
  }

  /** A multipart upload (multipart.ts). */
  putStream(key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>, condition: Condition, writeId: string): Promise<WriteResult> {
    return uploadMultipart(this.session, this.retry, key, head, rest, condition, writeId);
  }

  async delete(key: string, ifRevision?: Revision): Promise<void> {
    const wire = await this.session.wire();
    if (ifRevision !== undefined) {
      await expectRevision(() => this.head(key), ifRevision);
    }
    const condition: Condition | undefined = ifRevision !== undefined ? { kind: "match", revision: ifRevision } : undefined;
    await s3Call(() => wire.send({ method: "DELETE", key, headers: condition ? conditionHeaders(condition) : {} }), condition);
  }

  private async *pages(prefix: string, delimiter: string | undefined): AsyncGenerator<ListPage> {
    const wire = await this.readWire();
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix, ...(delimiter ? { delimiter } : {}), ...(token ? { "continuation-token": token } : {}) };
      const out = await withRetry(this.retry, { isTransient: isS3Transient }, () => s3Call(() => wire.send({ method: "GET", query })));
      const page = parseListPage(out.body.toString("utf8"));
      yield page;
      token = page.truncated ? page.nextToken : undefined;
    } while (token);
  }

  private info(prefix: string, o: ListedObject): FileInfo {
    const info: FileInfo = { path: o.key.slice(prefix.length), size: o.size, revision: o.etag };
    const hash = this.md5Of(o.etag);
    if (hash) info.hash = hash;
    return info;
  }

  private readonly listing: PagedListing<ListedObject> = {
    pages: (prefix, delimiter) => this.pages(prefix, delimiter),
    keyOf: (o) => o.key,
    info: (prefix, o) => this.info(prefix, o),
  };

  listFiles(prefix: string): Promise<FileInfo[]> {
    return listFilesOf(this.listing, prefix);
  }

  listFolders(prefix: string): Promise<string[]> {
    return listFoldersOf(this.listing, prefix);
  }

  listTree(prefix: string, _options: ListOptions): Promise<FileInfo[]> {
    return listTreeOf(this.listing, prefix);
  }

  /** Every version and delete marker under `prefix`, newest first per file, through the wire path. */
  async listVersions(prefix: string): Promise<TreeVersion[]> {
    const wire = await this.readWire();
    const versions: TreeVersion[] = [];
    let markers: { "key-marker": string; "version-id-marker"?: string } | undefined;
    do {
      const query = { versions: "", prefix, ...markers };
      const out = await withRetry(this.retry, { isTransient: isS3Transient }, () => s3Call(() => wire.send({ method: "GET", query })));
      const page = parseVersionsPage(out.body.toString("utf8"));
      for (const v of page.versions) {
        if (v.key.endsWith("/")) continue;
        versions.push({ path: v.key.slice(prefix.length), versionId: v.versionId, modified: v.modified, size: v.size, isLatest: v.isLatest, deleted: v.deleted });
      }
      markers = page.nextKeyMarker ? { "key-marker": page.nextKeyMarker, ...(page.nextVersionIdMarker ? { "version-id-marker": page.nextVersionIdMarker } : {}) } : undefined;
    } while (markers);
    return versions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : b.modified.getTime() - a.modified.getTime()));
  }

  async readVersion(key: string, versionId: string): Promise<ReadResult> {
    const { stream } = await this.getObject(key, versionId);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { data: Buffer.concat(chunks), revision: versionId };
  }

  private md5Of(etag: string | undefined): string | undefined {
    return md5OfEtag(etag, this.session.options.encryption?.mode === "aws:kms");
  }

  classify(op: string, url: string, error: unknown): KstateError {
    return classifyS3(op, url, error);
  }

  isTransient(error: unknown): boolean {
    return isS3Transient(error);
  }
}
