/**
 * Opens store URLs: the one place that knows which backend and which bucket admin serve each
 * scheme, so a backend never imports its admin and callers never reach behind a `VfsPath`.
 */
import type { Backend } from "./backend";
import type { BucketAdmin } from "./bucket";
import { encryptedPath, keyringOf } from "./encrypted";
import type * as FileBackendModule from "./file/backend";
import type * as FolderAdminModule from "./file/folder-admin";
import type * as GcsBackendModule from "./gcs/backend";
import type * as GcsBucketAdminModule from "./gcs/bucket-admin";
import type * as GcsSessionModule from "./gcs/session";
import type * as MemoryBackendModule from "./memory/backend";
import { ObjectPath } from "./object-path";
import type { VfsPath } from "./path";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry";
import type * as S3BackendModule from "./s3/backend";
import type * as S3BucketAdminModule from "./s3/bucket-admin";
import type * as S3SessionModule from "./s3/session";
import type { StoreSettings } from "./settings";
import { type Scheme, parseUrl } from "./url";
import { DEFAULT_VFS_CONTEXT, type VfsContext } from "./vfs-context";

/** How to reach the store (settings.ts, resolved by the caller), and the context to keep clients in. */
export interface OpenOptions extends StoreSettings {
  /** Where clients and what was learnt about buckets are kept; default `DEFAULT_VFS_CONTEXT`. */
  context?: VfsContext;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

interface Settings {
  options: OpenOptions;
  retry: RetryPolicy;
  timeoutMs: number;
  context: VfsContext;
}

/** A scheme's backend for one location, and the admin of that location where the scheme has one. */
interface Opened {
  backend: Backend;
  admin?: () => BucketAdmin;
}

// Each scheme's modules load when a URL of that scheme is opened: a command on one store does
// not pay for the others (nor the bucket admin it may never use).
const OPENERS: Readonly<Record<Scheme, (location: string, s: Settings) => Opened>> = {
  memfs: (location) => {
    const { MemoryBackend } = require("./memory/backend") as typeof MemoryBackendModule;
    return { backend: new MemoryBackend(location) };
  },
  file: (location) => {
    const { FileBackend } = require("./file/backend") as typeof FileBackendModule;
    const backend = new FileBackend(location);
    return { backend, admin: () => new (require("./file/folder-admin") as typeof FolderAdminModule).FolderAdmin(backend) };
  },
  s3: (location, s) => {
    const { S3Backend } = require("./s3/backend") as typeof S3BackendModule;
    const { S3Session } = require("./s3/session") as typeof S3SessionModule;
    const session = new S3Session(location, { options: s.options.s3 ?? {}, timeoutMs: s.timeoutMs, context: s.context });
    return { backend: new S3Backend(session, s.retry), admin: () => new (require("./s3/bucket-admin") as typeof S3BucketAdminModule).S3BucketAdmin(session) };
  },
  gs: (location, s) => {
    const { GcsBackend } = require("./gcs/backend") as typeof GcsBackendModule;
    const { GcsSession } = require("./gcs/session") as typeof GcsSessionModule;
    const session = new GcsSession(location, { options: s.options.gcs ?? {}, timeoutMs: s.timeoutMs, context: s.context });
    return { backend: new GcsBackend(session, s.retry), admin: () => new (require("./gcs/bucket-admin") as typeof GcsBucketAdminModule).GcsBucketAdmin(session) };
  },
};

/**
 * Opens a store URL: `s3://bucket[/prefix]`, `gs://bucket[/prefix]`, `file:///abs/dir` or a plain
 * path, `memfs://name[/prefix]`. No I/O happens here; malformed URLs are `InvalidPathError`.
 */
export function openPath(url: string, options: OpenOptions = {}): VfsPath {
  const parsed = parseUrl(url);
  const context = options.context ?? DEFAULT_VFS_CONTEXT;
  const settings: Settings = {
    options,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    context,
  };
  const { backend, admin } = OPENERS[parsed.scheme](parsed.location, settings);
  const path = new ObjectPath(backend, parsed.key, admin);
  return options.clientSideEncryption ? encryptedPath(path, keyringOf(options.clientSideEncryption, context)) : path;
}
