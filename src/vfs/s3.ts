import type * as S3 from "@aws-sdk/client-s3";
import {
  answerSignal, type Backend, classifyHttp, type Condition, env, expectRevision, type ListOptions, type ObjectHead,
} from "./backend";
import { InvalidPathError, type KstateError } from "./errors";
import type { FileInfo, ReadResult, ReadStreamResult, Revision, TreeVersion, WriteResult } from "./path";
import { isTransientNetworkError, type RetryPolicy, withRetry } from "./retry";
import type { BucketAdmin } from "./bucket";
import { S3BucketAdmin } from "./s3-bucket";
import { S3Wire, type WireCredentials, xmlText } from "./s3-wire";

/** How objects are encrypted at rest by the server. */
export type S3Encryption =
  /** As kops does: nothing if the bucket has default encryption, else `AES256`. */
  | { mode: "auto" }
  | { mode: "AES256" }
  | { mode: "aws:kms"; kmsKeyId: string }
  /** Send no encryption header at all. */
  | { mode: "none" };

export interface S3Options {
  /** An S3-compatible endpoint; default `S3_ENDPOINT`. Implies path-style addressing. */
  endpoint?: string;
  /** The bucket's region; default `S3_REGION` with an endpoint, else discovered and cached per bucket. */
  region?: string;
  /** Static credentials; default `S3_ACCESS_KEY_ID`/`S3_SECRET_ACCESS_KEY`, else the AWS SDK's chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  forcePathStyle?: boolean;
  encryption?: S3Encryption;
}

export interface S3BackendConfig {
  options: S3Options;
  retry: RetryPolicy;
  /** Per request: longest wait for a connection, and longest silence on an open one. */
  timeoutMs: number;
}

const WRITE_ID = "kstate-write-id";
// Small parts keep memory low (a part is held until S3 has it; at 10,000 parts an object
// can be 60 GiB, far beyond any state store file); on loopback larger parts were no faster.
const PART_SIZE = 6 * 1024 * 1024;
const PART_CONCURRENCY = 3;

type S3Module = typeof import("@aws-sdk/client-s3");
let sdk: S3Module | undefined;
export function loadSdk(): S3Module {
  // Loaded on first use only: the CLI must not pay for SDKs of schemes it does not touch.
  // The SDK's notice about future Node versions is noise for kstate's users, who do not pick it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  sdk ??= require("@aws-sdk/client-s3") as S3Module;
  return sdk;
}

const clients = new Map<string, S3.S3Client>();
const bucketRegions = new Map<string, Promise<string>>();
const bucketDefaultEncryption = new Map<string, Promise<boolean>>();

/** `s3://bucket/...` on AWS S3 or any S3-compatible server. */
export class S3Backend implements Backend {
  readonly scheme = "s3" as const;
  readonly retry: RetryPolicy;
  readonly singleWriteLimit = PART_SIZE;
  readonly endpoint: string | undefined;
  readonly options: S3Options;
  private readonly timeoutMs: number;

  constructor(readonly location: string, config: S3BackendConfig) {
    this.options = config.options;
    this.retry = config.retry;
    this.timeoutMs = config.timeoutMs;
    this.endpoint = config.options.endpoint ?? env("S3_ENDPOINT");
    if (this.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(this.endpoint)) {
      throw new InvalidPathError(`s3://${location}: endpoint ${JSON.stringify(this.endpoint)} is not an http(s) URL`);
    }
  }

  private async region(): Promise<string> {
    if (this.options.region) return this.options.region;
    if (this.endpoint !== undefined) return env("S3_REGION") ?? "us-east-1";
    let region = bucketRegions.get(this.location);
    if (!region) {
      region = this.discoverRegion();
      bucketRegions.set(this.location, region);
      region.catch(() => bucketRegions.delete(this.location));
    }
    return region;
  }

  /** As kops does: GetBucketLocation, and where that is denied, the region HeadBucket reports. */
  private async discoverRegion(): Promise<string> {
    const { GetBucketLocationCommand, HeadBucketCommand } = loadSdk();
    const probe = this.clientFor(env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1");
    try {
      const out = await probe.send(new GetBucketLocationCommand({ Bucket: this.location }));
      const c = out.LocationConstraint as string | undefined;
      return !c ? "us-east-1" : c === "EU" ? "eu-west-1" : c;
    } catch (first) {
      try {
        const out = await probe.send(new HeadBucketCommand({ Bucket: this.location }));
        if (out.BucketRegion) return out.BucketRegion;
      } catch (e) {
        const header = (e as { $response?: { headers?: Record<string, string> } }).$response?.headers?.["x-amz-bucket-region"];
        if (header) return header;
      }
      throw first;
    }
  }

  /** @internal A client for a region (clients are shared per endpoint, region and credentials). */
  clientFor(region: string): S3.S3Client {
    const o = this.options;
    const credentials = this.staticCredentials();
    const forcePathStyle = o.forcePathStyle ?? this.endpoint !== undefined;
    const cacheKey = JSON.stringify([this.endpoint, region, credentials, forcePathStyle, this.timeoutMs]);
    let client = clients.get(cacheKey);
    if (!client) {
      const { S3Client } = loadSdk();
      client = new S3Client({
        region,
        forcePathStyle,
        ...(this.endpoint !== undefined ? { endpoint: this.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        maxAttempts: 1, // retries happen in ObjectPath, which can tell a lost success from a conflict
        requestHandler: {
          connectionTimeout: Math.min(this.timeoutMs, 10_000),
          requestTimeout: this.timeoutMs,
          throwOnRequestTimeout: true, // otherwise a silent server only logs a warning and the call hangs
          httpAgent: { keepAlive: true, maxSockets: 64 },
          httpsAgent: { keepAlive: true, maxSockets: 64 },
        },
      });
      clients.set(cacheKey, client);
    }
    return client;
  }

  /** @internal The client for this bucket's region. */
  async client(): Promise<S3.S3Client> {
    return this.clientFor(await this.region());
  }

  /**
   * Credentials given in the options, kops's S3_* variables (with an endpoint) or AWS_* variables,
   * if any; otherwise the SDK's chain (profiles, SSO, instance roles, …) finds them.
   */
  private staticCredentials(): WireCredentials | undefined {
    const o = this.options;
    const id = o.accessKeyId ?? (this.endpoint !== undefined ? env("S3_ACCESS_KEY_ID") : undefined);
    const secret = o.secretAccessKey ?? (this.endpoint !== undefined ? env("S3_SECRET_ACCESS_KEY") : undefined);
    if (id && secret) return { accessKeyId: id, secretAccessKey: secret, ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}) };
    const envId = env("AWS_ACCESS_KEY_ID");
    const envSecret = env("AWS_SECRET_ACCESS_KEY");
    const token = env("AWS_SESSION_TOKEN");
    if (envId && envSecret) return { accessKeyId: envId, secretAccessKey: envSecret, ...(token ? { sessionToken: token } : {}) };
    return undefined;
  }

  private wireOnce: Promise<S3Wire> | undefined;

  /** @internal The lean request path (s3-wire.ts) for this bucket: reads, heads, listings, copies. */
  wire(): Promise<S3Wire> {
    this.wireOnce ??= this.region().then((region) => {
      const fixed = this.staticCredentials();
      // Without static credentials, the SDK's chain supplies (and refreshes) them.
      const credentials = fixed ? () => Promise.resolve(fixed) : async () => ((await this.client()).config.credentials as () => Promise<WireCredentials>)();
      return new S3Wire({
        endpoint: this.endpoint, region, bucket: this.location, pathStyle: this.options.forcePathStyle ?? this.endpoint !== undefined,
        credentials, timeoutMs: this.timeoutMs,
      });
    });
    this.wireOnce.catch(() => (this.wireOnce = undefined)); // a failed region lookup is tried again
    return this.wireOnce;
  }

  /** Headers for a write: kops's rule (AES256 unless the bucket encrypts by default) unless told otherwise. */
  private async encryptionParams(): Promise<{ ServerSideEncryption?: S3.ServerSideEncryption; SSEKMSKeyId?: string }> {
    const enc = this.options.encryption ?? { mode: "auto" };
    switch (enc.mode) {
      case "none":
        return {};
      case "AES256":
        return { ServerSideEncryption: "AES256" };
      case "aws:kms":
        return { ServerSideEncryption: "aws:kms", SSEKMSKeyId: enc.kmsKeyId };
      case "auto": {
        let known = bucketDefaultEncryption.get(this.location);
        if (!known) {
          known = this.hasDefaultEncryption();
          bucketDefaultEncryption.set(this.location, known);
        }
        return (await known) ? {} : { ServerSideEncryption: "AES256" };
      }
    }
  }

  private async hasDefaultEncryption(): Promise<boolean> {
    const { GetBucketEncryptionCommand } = loadSdk();
    try {
      const out = await (await this.client()).send(new GetBucketEncryptionCommand({ Bucket: this.location }));
      return (out.ServerSideEncryptionConfiguration?.Rules ?? []).some((r) => r.ApplyServerSideEncryptionByDefault);
    } catch {
      return false; // no default, or not allowed to ask: send AES256, as kops does
    }
  }

  bucketAdmin(): BucketAdmin {
    return new S3BucketAdmin(this);
  }

  /**
   * Server-side copy from another S3 bucket on the same endpoint with the same credentials.
   * Copies only the revision that was listed, when given. A multipart source is copied part by
   * part with the same part sizes, so the copy's ETag equals the source's and verifies without
   * reading either. Returns undefined when the two are not on one endpoint.
   */
  async copyFrom(key: string, source: Backend, sourceKey: string, size: number, sourceRevision?: Revision): Promise<WriteResult | undefined> {
    if (!(source instanceof S3Backend) || source.endpoint !== this.endpoint || source.staticCredentials()?.accessKeyId !== this.staticCredentials()?.accessKeyId) return undefined;
    const wire = await this.wire();
    // Only the revision that was listed: what the copy is verified against.
    const from: Record<string, string> = {
      "x-amz-copy-source": `/${source.location}/${sourceKey.split("/").map(encodeURIComponent).join("/")}`,
      ...(sourceRevision ? { "x-amz-copy-source-if-match": sourceRevision } : {}),
    };
    const encryption = encryptionHeaders(await this.encryptionParams());
    const parts = MULTIPART_ETAG.exec(sourceRevision ?? "");
    if (parts || size > 5 * 1024 ** 3) {
      const partSize = await source.partSize(sourceKey, size, parts ? Number(parts[1]) : undefined);
      return this.copyParts(wire, key, from, encryption, size, partSize);
    }
    // A copy can fail after its 200 status line (an <Error> body): that too is retried.
    const revision = await withRetry(this.retry, { isTransient: (e) => this.isTransient(e) }, () => this.call(async () => {
      const out = await wire.send({ method: "PUT", key, headers: { ...from, ...encryption, "x-amz-metadata-directive": "COPY" } });
      return copyResultEtag(out.body, out.headers);
    }));
    return { revision };
  }

  /** The part size of a multipart object (HEAD with partNumber=1), or 64 MiB parts for others. */
  private async partSize(key: string, size: number, count: number | undefined): Promise<number> {
    if (count !== undefined && count > 1) {
      const wire = await this.wire();
      const out = await this.call(() => wire.send({ method: "HEAD", key, query: { partNumber: "1" } }));
      const first = Number(out.headers["content-length"]);
      if (first > 0 && Math.ceil(size / first) === count) return first;
    }
    if (count === 1) return Math.max(size, 1);
    return Math.max(64 * 1024 * 1024, Math.ceil(size / 10_000));
  }

  /** UploadPartCopy of each range, four at a time, each retried; aborted on failure. */
  private async copyParts(wire: S3Wire, key: string, from: Record<string, string>, encryption: Record<string, string>, size: number, partSize: number): Promise<WriteResult> {
    const retryHooks = { isTransient: (e: unknown) => this.isTransient(e) };
    const created = await withRetry(this.retry, retryHooks, () => this.call(() => wire.send({ method: "POST", key, query: { uploads: "" }, headers: encryption })));
    const uploadId = xmlText(created.body.toString("utf8"), "UploadId")!;
    const count = Math.max(1, Math.ceil(size / partSize));
    const etags: string[] = new Array<string>(count);
    let next = 0;
    try {
      await Promise.all(Array.from({ length: Math.min(4, count) }, async () => {
        while (next < count) {
          const i = next++;
          const range: Record<string, string> = size > 0 ? { "x-amz-copy-source-range": `bytes=${i * partSize}-${Math.min(size, (i + 1) * partSize) - 1}` } : {};
          etags[i] = await withRetry(this.retry, retryHooks, () => this.call(async () => {
            const out = await wire.send({ method: "PUT", key, query: { partNumber: String(i + 1), uploadId }, headers: { ...from, ...range } });
            return copyResultEtag(out.body, out.headers);
          }));
        }
      }));
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
      const done = await this.call(() => wire.send({ method: "POST", key, query: { uploadId }, body: Buffer.from(xml), headers: { "content-type": "application/xml" } }));
      return { revision: copyResultEtag(done.body, done.headers) };
    } catch (e) {
      await wire.send({ method: "DELETE", key, query: { uploadId } }).catch(() => undefined);
      throw e;
    }
  }

  /** Forgets what was learnt about this bucket (region, default encryption), after its settings change. */
  forgetBucketDetails(): void {
    bucketRegions.delete(this.location);
    bucketDefaultEncryption.delete(this.location);
  }

  async head(key: string): Promise<ObjectHead> {
    const wire = await this.wire();
    const out = await this.call(() => wire.send({ method: "HEAD", key }));
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
    const wire = await this.wire();
    const out = await this.call(() => wire.stream({ method: "GET", key, ...(versionId ? { query: { versionId } } : {}) }));
    return { stream: out.stream, revision: headerOf(out.headers, "etag") ?? "", size: Number(headerOf(out.headers, "content-length") ?? 0) };
  }

  async put(key: string, data: Buffer, condition: Condition, writeId: string): Promise<WriteResult> {
    const { PutObjectCommand } = loadSdk();
    const client = await this.client();
    const out = await this.call(async () => client.send(new PutObjectCommand({
      Bucket: this.location,
      Key: key,
      Body: data,
      ContentLength: data.length,
      Metadata: { [WRITE_ID]: writeId },
      ...conditionParams(condition),
      ...(await this.encryptionParams()),
    })), condition);
    return { revision: out.ETag ?? "" };
  }

  /**
   * A multipart upload: parts of 6 MiB, three in flight, each retried; the condition is checked
   * on completion. The part buffers come from a fixed pool, so memory stays bounded whatever the
   * object's size.
   */
  async putStream(key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>, condition: Condition, writeId: string): Promise<WriteResult> {
    const s3 = loadSdk();
    const client = await this.client();
    const retryHooks = { isTransient: (e: unknown) => this.isTransient(e) };
    const created = await withRetry(this.retry, retryHooks, () => this.call(async () => client.send(new s3.CreateMultipartUploadCommand({
      Bucket: this.location, Key: key, Metadata: { [WRITE_ID]: writeId }, ...(await this.encryptionParams()),
    }))));
    const uploadId = created.UploadId!;
    const pool = new BufferPool(PART_CONCURRENCY + 1, PART_SIZE);
    const parts: S3.CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const upload = (partNumber: number, buffer: Buffer, length: number): void => {
      const body = buffer.subarray(0, length);
      const p: Promise<void> = withRetry(this.retry, retryHooks, () => this.call(() => client.send(new s3.UploadPartCommand({
        Bucket: this.location, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length,
      })))).then((out) => {
        parts.push({ PartNumber: partNumber, ETag: out.ETag! });
      }, (e: unknown) => {
        failure ??= e;
      }).finally(() => {
        pool.release(buffer);
        inFlight.delete(p);
      });
      inFlight.add(p);
    };
    try {
      let part = await pool.take();
      let filled = 0;
      let partNumber = 0;
      const chunks = (async function* () {
        yield* head;
        for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
      })();
      for await (const chunk of chunks) {
        let offset = 0;
        while (offset < chunk.byteLength) {
          const n = Math.min(PART_SIZE - filled, chunk.byteLength - offset);
          part.set(chunk.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
          if (filled === PART_SIZE) {
            upload(++partNumber, part, filled);
            part = await pool.take();
            filled = 0;
            if (failure !== undefined) throw failure;
          }
        }
      }
      if (filled > 0 || partNumber === 0) upload(++partNumber, part, filled);
      else pool.release(part);
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      const done = await this.call(() => client.send(new s3.CompleteMultipartUploadCommand({
        Bucket: this.location, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...conditionParams(condition),
      })), condition);
      return { revision: done.ETag ?? "" };
    } catch (e) {
      await Promise.allSettled(inFlight);
      await client.send(new s3.AbortMultipartUploadCommand({ Bucket: this.location, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw e;
    }
  }

  async delete(key: string, ifRevision?: Revision): Promise<void> {
    const { DeleteObjectCommand } = loadSdk();
    const client = await this.client();
    if (ifRevision !== undefined) {
      await expectRevision(() => this.head(key), ifRevision);
    }
    await this.call(() => client.send(new DeleteObjectCommand({
      Bucket: this.location, Key: key, ...(ifRevision !== undefined ? { IfMatch: ifRevision } : {}),
    })), ifRevision !== undefined ? { kind: "match", revision: ifRevision } : undefined);
  }

  private async *pages(prefix: string, delimiter: string | undefined): AsyncGenerator<ListPage> {
    const wire = await this.wire();
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix, ...(delimiter ? { delimiter } : {}), ...(token ? { "continuation-token": token } : {}) };
      const out = await withRetry(this.retry, { isTransient: (e) => this.isTransient(e) }, () => this.call(() => wire.send({ method: "GET", query })));
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

  async listFiles(prefix: string): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    for await (const page of this.pages(prefix, "/")) {
      for (const o of page.contents) if (o.key !== prefix) files.push(this.info(prefix, o));
    }
    return files;
  }

  async listFolders(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.pages(prefix, "/")) {
      for (const p of page.prefixes) names.push(p.slice(prefix.length, -1));
    }
    return names.filter((n) => n !== "");
  }

  async listTree(prefix: string, _options: ListOptions): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    for await (const page of this.pages(prefix, undefined)) {
      for (const o of page.contents) if (o.key !== prefix && !o.key.endsWith("/")) files.push(this.info(prefix, o));
    }
    return files;
  }

  async listVersions(prefix: string): Promise<TreeVersion[]> {
    const { ListObjectVersionsCommand } = loadSdk();
    const client = await this.client();
    const versions: TreeVersion[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    const keep = (key: string | undefined, id: string | undefined): key is string => key !== undefined && !!id && !key.endsWith("/");
    do {
      const page = await this.call(() => client.send(new ListObjectVersionsCommand({
        Bucket: this.location, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker,
      })));
      for (const v of page.Versions ?? []) {
        if (!keep(v.Key, v.VersionId)) continue;
        versions.push({ path: v.Key.slice(prefix.length), versionId: v.VersionId!, modified: v.LastModified ?? new Date(0), size: v.Size ?? 0, isLatest: v.IsLatest ?? false, deleted: false });
      }
      for (const m of page.DeleteMarkers ?? []) {
        if (!keep(m.Key, m.VersionId)) continue;
        versions.push({ path: m.Key.slice(prefix.length), versionId: m.VersionId!, modified: m.LastModified ?? new Date(0), size: 0, isLatest: m.IsLatest ?? false, deleted: true });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return versions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : b.modified.getTime() - a.modified.getTime()));
  }

  async readVersion(key: string, versionId: string): Promise<ReadResult> {
    const { stream } = await this.getObject(key, versionId);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { data: Buffer.concat(chunks), revision: versionId };
  }

  /** An ETag is the content's MD5 only for single-part uploads without KMS encryption. */
  private md5Of(etag: string | undefined): string | undefined {
    if (this.options.encryption?.mode === "aws:kms") return undefined;
    const bare = etag?.replace(/"/g, "").toLowerCase();
    return bare && /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
  }

  /** Runs one request, turning "not found" and "precondition failed" answers into our signals. */
  private async call<T>(fn: () => Promise<T>, condition?: Condition): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const status = statusOf(e);
      const name = (e as { name?: string }).name;
      const signal = name === "NoSuchBucket" ? undefined : answerSignal({
        preconditionFailed: status === 412 || name === "PreconditionFailed",
        objectMissing: status === 404 || name === "NoSuchKey" || name === "NotFound",
      }, condition, detailOf(e));
      throw signal ?? e;
    }
  }

  classify(op: string, url: string, error: unknown): KstateError {
    return classifyHttp(op, url, error, statusOf(error), detailOf(error));
  }

  isTransient(error: unknown): boolean {
    const status = statusOf(error);
    const name = (error as { name?: string }).name ?? "";
    if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
    if (["SlowDown", "RequestTimeout", "ThrottlingException", "InternalError", "ConditionalRequestConflict", "ServiceUnavailable"].includes(name)) return true;
    if (status !== undefined) return false;
    return isTransientNetworkError(error);
  }
}

/** A fixed set of equal buffers, handed out and returned; `take` waits while all are out. */
class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((b: Buffer) => void)[] = [];
  private made = 0;

  constructor(private readonly count: number, private readonly size: number) {}

  take(): Promise<Buffer> {
    const b = this.free.pop();
    if (b) return Promise.resolve(b);
    if (this.made < this.count) {
      this.made++;
      return Promise.resolve(Buffer.allocUnsafe(this.size));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(b: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }
}

/** An S3 multipart ETag: the MD5 of the parts' MD5s and the part count. Equal ones mean equal bytes. */
export const MULTIPART_ETAG = /^"?[0-9a-f]{32}-(\d+)"?$/;

interface ListedObject {
  key: string;
  size: number;
  etag: string;
}

interface ListPage {
  contents: ListedObject[];
  prefixes: string[];
  truncated: boolean;
  nextToken: string | undefined;
}

/** A ListObjectsV2 answer, read with patterns: its elements are flat and few. */
export function parseListPage(xml: string): ListPage {
  const contents: ListedObject[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const body = m[1]!;
    const key = xmlText(body, "Key");
    if (key === undefined) continue;
    contents.push({ key, size: Number(xmlText(body, "Size") ?? 0), etag: xmlText(body, "ETag") ?? "" });
  }
  const prefixes: string[] = [];
  for (const m of xml.matchAll(/<CommonPrefixes>([\s\S]*?)<\/CommonPrefixes>/g)) {
    const p = xmlText(m[1]!, "Prefix");
    if (p) prefixes.push(p);
  }
  return { contents, prefixes, truncated: xmlText(xml, "IsTruncated") === "true", nextToken: xmlText(xml, "NextContinuationToken") };
}

/** The ETag of a copy: CopyObject and UploadPartCopy answer 200 with XML that may hold an error. */
function copyResultEtag(body: Buffer, headers: Record<string, string | string[] | undefined>): string {
  const xml = body.toString("utf8");
  if (xml.includes("<Error>")) {
    const code = xmlText(xml, "Code") ?? "InternalError";
    throw Object.assign(new Error(xmlText(xml, "Message") ?? code), { name: code, $metadata: { httpStatusCode: 500 } });
  }
  return xmlText(xml, "ETag") ?? headerOf(headers, "etag") ?? "";
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function encryptionHeaders(p: { ServerSideEncryption?: string; SSEKMSKeyId?: string }): Record<string, string> {
  return {
    ...(p.ServerSideEncryption ? { "x-amz-server-side-encryption": p.ServerSideEncryption } : {}),
    ...(p.SSEKMSKeyId ? { "x-amz-server-side-encryption-aws-kms-key-id": p.SSEKMSKeyId } : {}),
  };
}

function conditionParams(condition: Condition): { IfNoneMatch?: string; IfMatch?: string } {
  if (condition.kind === "absent") return { IfNoneMatch: "*" };
  if (condition.kind === "match") return { IfMatch: condition.revision };
  return {};
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** `403 AccessDenied: Access Denied`, or the network error's code and message. */
function detailOf(e: unknown): string {
  const status = statusOf(e);
  const rec = e as { name?: string; message?: string; code?: string };
  if (status !== undefined) return `${status} ${rec.name ?? "Error"}${rec.message && rec.message !== rec.name ? `: ${rec.message}` : ""}`;
  return [rec.code, rec.message].filter(Boolean).join(" ") || String(e);
}
