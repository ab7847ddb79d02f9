/**
 * How kstate reads S3's answers, from the SDK and the wire path alike (both carry `name` = the S3
 * error code and `$metadata.httpStatusCode`): our signals for "not found" and "precondition
 * failed", the error a user sees, and which failures are worth a retry.
 */
import { answerSignal, classifyHttp, type Condition } from "../backend";
import type { KstateError } from "../errors";
import { isTransientNetworkError, isTransientStatus } from "../retry";
import { NOT_S3_ANSWER } from "./wire";

/** Runs one request, turning "not found" and "precondition failed" answers into our signals. */
export async function s3Call<T>(fn: () => Promise<T>, condition?: Condition): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const status = statusOf(e);
    const name = nameOf(e);
    // A missing bucket, or an answer that is not S3's, is no missing file.
    const signal = name === "NoSuchBucket" || name === NOT_S3_ANSWER ? undefined : answerSignal({
      preconditionFailed: status === 412 || name === "PreconditionFailed",
      objectMissing: status === 404 || name === "NoSuchKey" || name === "NotFound",
    }, condition, detailOf(e));
    throw signal ?? e;
  }
}

export function classifyS3(op: string, url: string, error: unknown): KstateError {
  return classifyHttp(op, url, error, statusOf(error), detailOf(error));
}

export function isS3Transient(error: unknown): boolean {
  const status = statusOf(error);
  const name = nameOf(error);
  if (status !== undefined && isTransientStatus(status)) return true;
  if (["SlowDown", "RequestTimeout", "ThrottlingException", "InternalError", "ConditionalRequestConflict", "ServiceUnavailable"].includes(name)) return true;
  if (status !== undefined) return false;
  return isTransientNetworkError(error);
}

export function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

export function nameOf(e: unknown): string {
  return (e as { name?: string } | undefined)?.name ?? "";
}

/** A header of the answer an SDK error came with. */
function headerOf(e: unknown, name: string): string | undefined {
  return (e as { $response?: { headers?: Record<string, string | undefined> } } | undefined)?.$response?.headers?.[name];
}

/**
 * The region a bucket told it is in, when a request signed for another one was refused (a 400 or
 * 301 answer carrying `x-amz-bucket-region`, which S3 and MinIO both send, even to a HEAD).
 */
export function bucketRegionOf(e: unknown): string | undefined {
  const status = statusOf(e);
  return status === 400 || status === 301 ? headerOf(e, "x-amz-bucket-region") : undefined;
}

/**
 * `403 AccessDenied: Access Denied`, or the network error's code and message. An answer without
 * a body (any answer to a HEAD) has no error code: it is told from its status and headers.
 */
function detailOf(e: unknown): string {
  const status = statusOf(e);
  const rec = e as { name?: string; message?: string; code?: string };
  if (status !== undefined && (rec.name === "Unknown" || rec.message === "UnknownError")) return `${status} ${bodylessDetail(e, status)}`;
  if (status !== undefined) return `${status} ${rec.name ?? "Error"}${rec.message && rec.message !== rec.name ? `: ${rec.message}` : ""}`;
  return [rec.code, rec.message].filter(Boolean).join(" ") || String(e);
}

function bodylessDetail(e: unknown, status: number): string {
  const code = headerOf(e, "x-minio-error-code");
  const desc = headerOf(e, "x-minio-error-desc")?.replace(/^"|"$/g, "");
  if (code) return `${code}${desc ? `: ${desc}` : ""}`;
  const region = bucketRegionOf(e);
  if (region) return `the bucket is in ${region}, and the request was signed for another region`;
  if (status === 403) return "Forbidden: the keys are wrong, or they may not use this bucket (the answer has no detail)";
  if (status === 404) return "NotFound";
  return "(an answer without detail)";
}
