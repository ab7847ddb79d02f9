/**
 * Copies made by S3 itself, between buckets on one endpoint with one set of credentials: only
 * the revision that was listed, when given. A multipart source is copied part by part with the
 * same part sizes, so the copy's ETag equals the source's and verifies without reading either.
 */
import type { WriteResult } from "../path";
import { type RetryPolicy, withRetry } from "../retry";
import { isS3Transient, s3Call } from "./answers";
import { MULTIPART_ETAG } from "./etag";
import { encryptionHeaders, type S3Session } from "./session";
import { copyResultEtag, type S3Wire, xmlText } from "./wire";

/** One end of a copy: a key in the bucket a session knows. */
export interface S3Object {
  session: S3Session;
  key: string;
}

/** Copies `source` to `target` on the server; the caller has checked `target.session.reaches(source.session)`. */
export async function serverCopy(target: S3Object, source: S3Object, size: number, retry: RetryPolicy, sourceRevision?: string): Promise<WriteResult> {
  const wire = await target.session.wire();
  // Only the revision that was listed: what the copy is verified against.
  const from: Record<string, string> = {
    "x-amz-copy-source": `/${source.session.bucket}/${source.key.split("/").map(encodeURIComponent).join("/")}`,
    ...(sourceRevision ? { "x-amz-copy-source-if-match": sourceRevision } : {}),
  };
  const encryption = encryptionHeaders(await target.session.encryptionParams());
  const parts = MULTIPART_ETAG.exec(sourceRevision ?? "");
  if (parts || size > 5 * 1024 ** 3) {
    const partSize = await partSizeOf(source, size, parts ? Number(parts[1]) : undefined);
    return copyParts(wire, target.key, from, encryption, size, partSize, retry);
  }
  // A copy can fail after its 200 status line (an <Error> body): that too is retried.
  const revision = await withRetry(retry, { isTransient: isS3Transient }, () => s3Call(async () => {
    const out = await wire.send({ method: "PUT", key: target.key, headers: { ...from, ...encryption, "x-amz-metadata-directive": "COPY" } });
    return copyResultEtag(out.body, out.headers);
  }));
  return { revision };
}

/** The part size of a multipart object (HEAD with partNumber=1), or 64 MiB parts for others. */
async function partSizeOf(source: S3Object, size: number, count: number | undefined): Promise<number> {
  if (count !== undefined && count > 1) {
    const wire = await source.session.wire();
    const out = await s3Call(() => wire.send({ method: "HEAD", key: source.key, query: { partNumber: "1" } }));
    const first = Number(out.headers["content-length"]);
    if (first > 0 && Math.ceil(size / first) === count) return first;
  }
  if (count === 1) return Math.max(size, 1);
  return Math.max(64 * 1024 * 1024, Math.ceil(size / 10_000));
}

/** UploadPartCopy of each range, four at a time, each retried; aborted on failure. */
async function copyParts(
  wire: S3Wire, key: string, from: Record<string, string>, encryption: Record<string, string>, size: number, partSize: number, retry: RetryPolicy,
): Promise<WriteResult> {
  const retryHooks = { isTransient: isS3Transient };
  const created = await withRetry(retry, retryHooks, () => s3Call(() => wire.send({ method: "POST", key, query: { uploads: "" }, headers: encryption })));
  const uploadId = xmlText(created.body.toString("utf8"), "UploadId")!;
  const count = Math.max(1, Math.ceil(size / partSize));
  const etags: string[] = new Array<string>(count);
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(4, count) }, async () => {
      while (next < count) {
        const i = next++;
        const range: Record<string, string> = size > 0 ? { "x-amz-copy-source-range": `bytes=${i * partSize}-${Math.min(size, (i + 1) * partSize) - 1}` } : {};
        etags[i] = await withRetry(retry, retryHooks, () => s3Call(async () => {
          const out = await wire.send({ method: "PUT", key, query: { partNumber: String(i + 1), uploadId }, headers: { ...from, ...range } });
          return copyResultEtag(out.body, out.headers);
        }));
      }
    }));
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
    const done = await s3Call(() => wire.send({ method: "POST", key, query: { uploadId }, body: Buffer.from(xml), headers: { "content-type": "application/xml" } }));
    return { revision: copyResultEtag(done.body, done.headers) };
  } catch (e) {
    await wire.send({ method: "DELETE", key, query: { uploadId } }).catch(() => undefined);
    throw e;
  }
}
