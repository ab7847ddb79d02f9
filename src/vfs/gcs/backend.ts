import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as GCS from "@google-cloud/storage";
import { answerSignal, type Backend, type Condition, expectRevision, type ListOptions, type ObjectHead } from "../backend";
import type { KstateError } from "../errors";
import { listFilesOf, listFoldersOf, listTreeOf, type ListingPage, type PagedListing } from "../paged-listing";
import type { FileInfo, ReadResult, ReadStreamResult, Revision, TreeVersion, WriteResult } from "../path";
import { type RetryPolicy, withRetry } from "../retry";
import { classifyGcs, isGcsTransient, statusOf } from "./answers";
import type { GcsSession } from "./session";

const WRITE_ID = "kstate-write-id";
/** Writes up to this size are one simple upload; larger ones are resumable uploads. */
const SIMPLE_UPLOAD_LIMIT = 8 * 1024 * 1024;

/** `gs://bucket/...` on Google Cloud Storage or an emulator. Revisions are object generations. */
export class GcsBackend implements Backend {
  readonly scheme = "gs" as const;
  readonly singleWriteLimit = SIMPLE_UPLOAD_LIMIT;
  readonly location: string;
  private readonly options: GcsSession["options"];

  constructor(readonly session: GcsSession, readonly retry: RetryPolicy) {
    this.location = session.bucket;
    this.options = session.options;
  }

  private storage(): GCS.Storage {
    return this.session.storage();
  }

  private file(key: string, generation?: string): GCS.File {
    // The key goes on the File too: simple (non-resumable) uploads take it only from there.
    return this.storage().bucket(this.location).file(key, {
      ...(generation !== undefined ? { generation: Number(generation) } : {}),
      ...(this.options.kmsKeyName ? { kmsKeyName: this.options.kmsKeyName } : {}),
    });
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

  private async *pages(prefix: string, delimiter: string | undefined, versions = false): AsyncGenerator<ListingPage<GCS.File>> {
    const bucket = this.storage().bucket(this.location);
    let pageToken: string | undefined;
    do {
      const query: GCS.GetFilesOptions = {
        prefix, autoPaginate: false, maxResults: 1000, ...(delimiter ? { delimiter } : {}), ...(pageToken ? { pageToken } : {}), ...(versions ? { versions } : {}),
      };
      const [files, next, response] = await withRetry(this.retry, { isTransient: (e) => this.isTransient(e) }, () => this.call(() => bucket.getFiles(query)));
      yield { objects: files, prefixes: ((response as { prefixes?: string[] } | undefined)?.prefixes) ?? [] };
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  private info(prefix: string, f: GCS.File): FileInfo {
    const head = headOf(f.metadata);
    const info: FileInfo = { path: f.name.slice(prefix.length), size: head.size, revision: head.revision };
    if (head.hash) info.hash = head.hash;
    return info;
  }

  private readonly listing: PagedListing<GCS.File> = {
    pages: (prefix, delimiter) => this.pages(prefix, delimiter),
    keyOf: (f) => f.name,
    info: (prefix, f) => this.info(prefix, f),
  };

  listFiles(prefix: string): Promise<FileInfo[]> {
    return listFilesOf(this.listing, prefix);
  }

  async listFolders(prefix: string): Promise<string[]> {
    return (await listFoldersOf(this.listing, prefix)).sort();
  }

  listTree(prefix: string, _options: ListOptions): Promise<FileInfo[]> {
    return listTreeOf(this.listing, prefix);
  }

  async listVersions(prefix: string): Promise<TreeVersion[]> {
    const versions: TreeVersion[] = [];
    for await (const page of this.pages(prefix, undefined, true)) {
      for (const f of page.objects) {
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
    return classifyGcs(op, url, error);
  }

  isTransient(error: unknown): boolean {
    return isGcsTransient(error);
  }
}

function headOf(meta: GCS.FileMetadata): ObjectHead {
  const head: ObjectHead = { size: Number(meta.size ?? 0), revision: String(meta.generation) };
  const writeId = meta.metadata?.[WRITE_ID];
  if (typeof writeId === "string") head.writeId = writeId;
  if (typeof meta.md5Hash === "string" && meta.md5Hash !== "") head.hash = Buffer.from(meta.md5Hash, "base64").toString("hex");
  return head;
}
