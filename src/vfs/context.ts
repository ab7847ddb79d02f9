import { type ClientSideEncryption, encryptedPath, keyringOf } from "./encrypted";
import type { Backend } from "./backend";
import { FileBackend } from "./file";
import { GcsBackend, type GcsOptions } from "./gcs";
import { MemoryBackend } from "./memory";
import { ObjectPath } from "./object-path";
import type { VfsPath } from "./path";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry";
import { S3Backend, type S3Options } from "./s3";
import { parseUrl } from "./url";

export interface OpenOptions {
  s3?: S3Options;
  gcs?: GcsOptions;
  /** Per request to a cloud backend: longest wait to connect and longest silence, in ms. Default 30 s. */
  timeoutMs?: number;
  /** Retries of transient failures (5xx, throttling, resets, timeouts). */
  retry?: Partial<RetryPolicy>;
  /** Encrypt matching files on the client before they are stored (see encrypted.ts). */
  clientSideEncryption?: ClientSideEncryption;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Opens a store URL: `s3://bucket[/prefix]`, `gs://bucket[/prefix]`, `file:///abs/dir` or a plain
 * path, `memfs://name[/prefix]`. No I/O happens here; malformed URLs are `InvalidPathError`.
 */
export function openPath(url: string, options: OpenOptions = {}): VfsPath {
  const parsed = parseUrl(url);
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let backend: Backend;
  switch (parsed.scheme) {
    case "memfs":
      backend = new MemoryBackend(parsed.location);
      break;
    case "file":
      backend = new FileBackend(parsed.location);
      break;
    case "s3":
      backend = new S3Backend(parsed.location, { options: options.s3 ?? {}, retry, timeoutMs });
      break;
    case "gs":
      backend = new GcsBackend(parsed.location, { options: options.gcs ?? {}, retry, timeoutMs });
      break;
  }
  const path = new ObjectPath(backend, parsed.key);
  return options.clientSideEncryption ? encryptedPath(path, keyringOf(options.clientSideEncryption)) : path;
}
