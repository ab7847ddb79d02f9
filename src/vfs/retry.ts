/** Capped exponential backoff with full jitter, for transient backend failures. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the first retry, in ms; doubled each time up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 3000 };

/** The delay before retry number `retry` (1-based): a random point in [0, min(cap, base·2^(retry-1))]. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(random() * ceiling);
}

export interface RetryHooks {
  /** Whether an error is worth another attempt. */
  isTransient(error: unknown): boolean;
  /** Called before each retry. */
  onRetry?(error: unknown, retry: number, delayMs: number): void;
}

/**
 * Runs `fn` until it succeeds, throws a non-transient error, or uses up the attempts.
 * `fn` gets the attempt number (1-based) so it can tell a first try from a retry.
 */
export async function withRetry<T>(policy: RetryPolicy, hooks: RetryHooks, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !hooks.isTransient(error)) throw error;
      const delay = backoffDelay(policy, attempt);
      hooks.onRetry?.(error, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "EHOSTUNREACH",
  "ENETUNREACH", "ENOTFOUND", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * HTTP statuses worth another try: the server's trouble (5xx) and throttling (429, 408), but not
 * 501 Not Implemented, a feature the server lacks (such as SSE-KMS without a KMS), the same on every try.
 */
export function isTransientStatus(status: number): boolean {
  return (status >= 500 && status !== 501) || status === 429 || status === 408;
}

/** Network-level failures seen from Node's http stack and the cloud SDKs. */
export function isTransientNetworkError(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && typeof e === "object" && e !== null; depth++) {
    const rec = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof rec.code === "string" && TRANSIENT_NETWORK_CODES.has(rec.code)) return true;
    if (rec.name === "TimeoutError" || rec.name === "RequestTimeout") return true;
    if (typeof rec.message === "string" && /socket hang up|ECONNRESET|ECONNREFUSED|timed? ?out|premature close/i.test(rec.message)) {
      return true;
    }
    e = rec.cause;
  }
  return false;
}
