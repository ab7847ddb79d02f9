import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as GCS from "@google-cloud/storage";
import {
  answerSignal, type Backend, classifyHttp, type Condition, env, expectRevision, type ListOptions, type ObjectHead,
} from "./backend";
import { InvalidPathError, type KstateError } from "./errors";
import type { FileInfo, ReadResult, ReadStreamResult, Revision, TreeVersion, WriteResult } from "./path";
import { isTransientNetworkError, type RetryPolicy, withRetry } from "./retry";
import type { BucketAdmin } from "./bucket";
import { GcsBucketAdmin } from "./gcs-bucket";

export interface GcsOptions {
  /** An emulator or private endpoint, e.g. `http://127.0.0.1:4443`; default `STORAGE_EMULATOR_HOST`. */
  endpoint?: string;
  /** Default `GOOGLE_CLOUD_PROJECT`, or the credentials' project. */
  projectId?: string;
  /** A Cloud KMS key name for customer-managed encryption of new objects. */
  kmsKeyName?: string;
}

export interface GcsBackendConfig {
  options: GcsOptions;
  retry: RetryPolicy;
  timeoutMs: number;
}

const WRITE_ID = "kstate-write-id";
/** Writes up to this size are one simple upload; larger ones are resumable uploads. */
const SIMPLE_UPLOAD_LIMIT = 8 * 1024 * 1024;

type GcsModule = typeof import("@google-cloud/storage");
let sdk: GcsModule | undefined;
function loadSdk(): GcsModule {
  sdk ??= require("@google-cloud/storage") as GcsModule;
  return sdk;
}

const clients = new Map<string, GCS.Storage>();

/** `gs://bucket/...` on Google Cloud Storage or an emulator. Revisions are object generations. */
export class GcsBackend implements Backend {
  readonly scheme = "gs" as const;
  readonly retry: RetryPolicy;
  readonly singleWriteLimit = SIMPLE_UPLOAD_LIMIT;
  private readonly endpoint: string | undefined;
  private readonly options: GcsOptions;
  private readonly timeoutMs: number;

  constructor(readonly location: string, config: GcsBackendConfig) {
    this.options = config.options;
    this.retry = config.retry;
    this.timeoutMs = config.timeoutMs;
    // STORAGE_EMULATOR_HOST is taken with or without the /storage/v1 suffix (the Go SDK's form).
    const raw = config.options.endpoint ?? env("STORAGE_EMULATOR_HOST");
    if (raw !== undefined) {
      const withScheme = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
      if (!/^https?:\/\/[^/]+/.test(withScheme)) throw new InvalidPathError(`gs://${location}: endpoint ${JSON.stringify(raw)} is not an http(s) URL`);
      this.endpoint = withScheme.replace(/\/+$/, "").replace(/\/storage\/v1$/, "");
    }
  }

  /** @internal The shared client for this endpoint and project. */
  storage(): GCS.Storage {
    const projectId = this.options.projectId ?? env("GOOGLE_CLOUD_PROJECT") ?? env("GCLOUD_PROJECT");
    const cacheKey = JSON.stringify([this.endpoint, projectId, this.timeoutMs]);
    let client = clients.get(cacheKey);
    if (!client) {
      const { Storage } = loadSdk();
      client = new Storage({
        ...(this.endpoint !== undefined ? { apiEndpoint: this.endpoint, projectId: projectId ?? "kstate" } : {}),
        ...(projectId !== undefined ? { projectId } : {}),
        timeout: this.timeoutMs,
        retryOptions: { autoRetry: false, maxRetries: 0 }, // ObjectPath retries, and can tell a lost success from a conflict
      });
      // The SDK takes STORAGE_EMULATOR_HOST verbatim as its JSON API base; make it the real one.
      if (this.endpoint !== undefined) (client as unknown as { baseUrl: string }).baseUrl = `${this.endpoint}/storage/v1`;
      clients.set(cacheKey, client);
    }
    return client;
  }

  private file(key: string, generation?: string): GCS.File {
    // The key goes on the File too: simple (non-resumable) uploads take it only from there.
    return this.storage().bucket(this.location).file(key, {
      ...(generation !== undefined ? { generation: Number(generation) } : {}),
      ...(this.options.kmsKeyName ? { kmsKeyName: this.options.kmsKeyName } : {}),
    });
  }

  bucketAdmin(): BucketAdmin {
    return new GcsBucketAdmin(this);
  }

  async head(key: string): Promise<ObjectHead> {
    const [meta] = await this.call(() => this.file(key).getMetadata());
    return headOf(meta);
  }

  async get(key: string): Promise<ReadResult> {
    const head = await this.head(key);
    const [data] = await this.call(() => this.file(key, head.revision).download());
    return { data, revision: head.revision };
  }

  async getStream(key: string): Promise<ReadStreamResult> {
    const head = await this.head(key);
    // Pinned to the generation just seen, so the bytes and the revision agree.
    const source = this.file(key, head.revision).createReadStream();
    const stream = new PassThrough();
    source.on("error", (e) => stream.destroy(e)).pipe(stream);
    stream.on("close", () => source.destroy());
    return { stream, revision: head.revision, size: head.size };
  }

  private writeOptions(condition: Condition, writeId: string): GCS.SaveOptions {
    const precondition = condition.kind === "absent" ? { ifGenerationMatch: 0 }
      : condition.kind === "match" ? { ifGenerationMatch: Number(condition.revision) } : undefined;
    return {
      metadata: { metadata: { [WRITE_ID]: writeId } },
      ...(precondition ? { preconditionOpts: precondition } : {}),
      ...(this.options.kmsKeyName ? { kmsKeyName: this.options.kmsKeyName } : {}),
    };
  }

  async put(key: string, data: Buffer, condition: Condition, writeId: string): Promise<WriteResult> {
    const file = this.file(key);
    await this.call(() => file.save(data, { ...this.writeOptions(condition, writeId), resumable: false, validation: "md5" }), condition);
    return { revision: String(file.metadata.generation) };
  }

  async putStream(key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>, condition: Condition, writeId: string): Promise<WriteResult> {
    const file = this.file(key);
    const source = Readable.from((async function* () {
      yield* head;
      for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
    })(), { objectMode: false });
    await this.call(() => pipeline(source, file.createWriteStream({ ...this.writeOptions(condition, writeId), resumable: true, validation: "crc32c" })), condition);
    return { revision: String(file.metadata.generation) };
  }

  async delete(key: string, ifRevision?: Revision): Promise<void> {
    if (ifRevision !== undefined) {
      await expectRevision(() => this.head(key), ifRevision);
      await this.call(() => this.file(key).delete({ ifGenerationMatch: Number(ifRevision) }), { kind: "match", revision: ifRevision });
      return;
    }
    await this.call(() => this.file(key).delete({ ignoreNotFound: true }));
  }

  private async *pages(prefix: string, delimiter: string | undefined, versions = false): AsyncGenerator<{ files: GCS.File[]; prefixes: string[] }> {
    const bucket = this.storage().bucket(this.location);
    let pageToken: string | undefined;
    do {
      const query: GCS.GetFilesOptions = {
        prefix, autoPaginate: false, maxResults: 1000, ...(delimiter ? { delimiter } : {}), ...(pageToken ? { pageToken } : {}), ...(versions ? { versions } : {}),
      };
      const [files, next, response] = await withRetry(this.retry, { isTransient: (e) => this.isTransient(e) }, () => this.call(() => bucket.getFiles(query)));
      yield { files, prefixes: ((response as { prefixes?: string[] } | undefined)?.prefixes) ?? [] };
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  private info(prefix: string, f: GCS.File): FileInfo {
    const head = headOf(f.metadata);
    const info: FileInfo = { path: f.name.slice(prefix.length), size: head.size, revision: head.revision };
    if (head.hash) info.hash = head.hash;
    return info;
  }

  async listFiles(prefix: string): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    for await (const page of this.pages(prefix, "/")) {
      for (const f of page.files) if (f.name !== prefix) files.push(this.info(prefix, f));
    }
    return files;
  }

  async listFolders(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.pages(prefix, "/")) {
      for (const p of page.prefixes) names.push(p.slice(prefix.length, -1));
    }
    return names.filter((n) => n !== "").sort();
  }

  async listTree(prefix: string, _options: ListOptions): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    for await (const page of this.pages(prefix, undefined)) {
      for (const f of page.files) if (f.name !== prefix && !f.name.endsWith("/")) files.push(this.info(prefix, f));
    }
    return files;
  }

  async listVersions(prefix: string): Promise<TreeVersion[]> {
    const versions: TreeVersion[] = [];
    for await (const page of this.pages(prefix, undefined, true)) {
      for (const f of page.files) {
        if (f.name.endsWith("/")) continue;
        const m = f.metadata;
        versions.push({
          path: f.name.slice(prefix.length),
          versionId: String(m.generation),
          modified: new Date(String(m.updated ?? m.timeCreated ?? 0)),
          size: Number(m.size ?? 0),
          isLatest: m.timeDeleted === undefined,
          deleted: false,
          ...(m.timeDeleted !== undefined ? { until: new Date(String(m.timeDeleted)) } : {}),
        });
      }
    }
    return versions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : Number(b.versionId) - Number(a.versionId)));
  }

  async readVersion(key: string, versionId: string): Promise<ReadResult> {
    const [data] = await this.call(() => this.file(key, versionId).download());
    return { data, revision: versionId };
  }

  private async call<T>(fn: () => Promise<T>, condition?: Condition): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const status = statusOf(e);
      const signal = answerSignal({ preconditionFailed: status === 412, objectMissing: status === 404 && !/bucket/i.test(String((e as Error).message)) }, condition);
      throw signal ?? e;
    }
  }

  classify(op: string, url: string, error: unknown): KstateError {
    const status = statusOf(error);
    const rec = error as { message?: string; code?: unknown };
    const detail = status !== undefined ? `${status} ${rec.message ?? ""}`.trim() : [typeof rec.code === "string" ? rec.code : undefined, rec.message].filter(Boolean).join(" ");
    return classifyHttp(op, url, error, status, detail || String(error));
  }

  isTransient(error: unknown): boolean {
    const status = statusOf(error);
    if (status !== undefined) return status >= 500 || status === 429 || status === 408;
    return isTransientNetworkError(error);
  }
}

function headOf(meta: GCS.FileMetadata): ObjectHead {
  const head: ObjectHead = { size: Number(meta.size ?? 0), revision: String(meta.generation) };
  const writeId = meta.metadata?.[WRITE_ID];
  if (typeof writeId === "string") head.writeId = writeId;
  if (typeof meta.md5Hash === "string" && meta.md5Hash !== "") head.hash = Buffer.from(meta.md5Hash, "base64").toString("hex");
  return head;
}

function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}
