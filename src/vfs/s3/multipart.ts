/**
 * Writes larger than one request: a multipart upload in parts of 6 MiB, three in flight, each
 * retried; the write's condition is checked on completion. The part buffers come from a fixed
 * pool, so memory stays bounded whatever the object's size.
 */
import type * as S3 from "@aws-sdk/client-s3";
import type { Condition } from "../backend";
import type { WriteResult } from "../path";
import { type RetryPolicy, withRetry } from "../retry";
import { isS3Transient, s3Call } from "./answers";
import { loadSdk, type S3Session } from "./session";

// Small parts keep memory low (a part is held until S3 has it; at 10,000 parts an object
// can be 60 GiB, far beyond any state store file); on loopback larger parts were no faster.
export const PART_SIZE = 6 * 1024 * 1024;
const PART_CONCURRENCY = 3;

export const WRITE_ID = "kstate-write-id";

export function conditionParams(condition: Condition): { IfNoneMatch?: string; IfMatch?: string } {
  if (condition.kind === "absent") return { IfNoneMatch: "*" };
  if (condition.kind === "match") return { IfMatch: condition.revision };
  return {};
}

/** The same condition as request headers, for the wire path. */
export function conditionHeaders(condition: Condition): Record<string, string> {
  if (condition.kind === "absent") return { "if-none-match": "*" };
  if (condition.kind === "match") return { "if-match": condition.revision };
  return {};
}

/** Uploads `head` then the rest of the stream as `key`, in parts; aborted on failure. */
export async function uploadMultipart(
  session: S3Session, retry: RetryPolicy, key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>, condition: Condition, writeId: string,
): Promise<WriteResult> {
  const s3 = loadSdk();
  const client = await session.client();
  const bucket = session.bucket;
  const retryHooks = { isTransient: isS3Transient };
  const created = await withRetry(retry, retryHooks, () => s3Call(async () => client.send(new s3.CreateMultipartUploadCommand({
    Bucket: bucket, Key: key, Metadata: { [WRITE_ID]: writeId }, ...(await session.encryptionParams()),
  }))));
  const uploadId = created.UploadId!;
  const pool = new BufferPool(PART_CONCURRENCY + 1, PART_SIZE);
  const parts: S3.CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const upload = (partNumber: number, buffer: Buffer, length: number): void => {
    const body = buffer.subarray(0, length);
    const p: Promise<void> = withRetry(retry, retryHooks, () => s3Call(() => client.send(new s3.UploadPartCommand({
      Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length,
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
    const done = await s3Call(() => client.send(new s3.CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...conditionParams(condition),
    })), condition);
    return { revision: done.ETag ?? "" };
  } catch (e) {
    await Promise.allSettled(inFlight);
    await client.send(new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw e;
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
