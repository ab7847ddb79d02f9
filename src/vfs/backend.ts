import type { FileInfo, ReadResult, ReadStreamResult, Revision, TreeVersion, WriteResult } from "./path";
import type { Scheme } from "./url";
import {
  AlreadyExistsError, BackendError, describe, KstateError as KstateErrorClass, NotFoundError, PermissionError, PreconditionFailedError,
} from "./errors";
import type { KstateError } from "./errors";
import type { RetryPolicy } from "./retry";

/** What a write requires of the file's current state. */
export type Condition =
  | { kind: "any" }
  | { kind: "absent" }
  | { kind: "match"; revision: Revision };

export interface ObjectHead {
  size: number;
  revision: Revision;
  /** The id the last kstate write stored with the object, where the backend keeps metadata. */
  writeId?: string;
  hash?: string;
}

export interface ListOptions {
  hashes?: boolean;
}

/**
 * What one storage backend implements, over keys within one location (bucket, folder, memory
 * store). `ObjectPath` builds the `VfsPath` contract on top: naming, retries and error wrapping.
 *
 * Methods may throw raw SDK errors; `classify` turns them into `KstateError`s. A write that
 * does not meet its `Condition` throws `AlreadyExistsError` (absent) or
 * `PreconditionFailedError` (match), also when the file is missing.
 */
export interface Backend {
  readonly scheme: Scheme;
  readonly location: string;
  readonly retry: RetryPolicy;
  /** Writes up to this size are buffered and sent in one retryable request. */
  readonly singleWriteLimit: number;

  head(key: string): Promise<ObjectHead>;
  get(key: string): Promise<ReadResult>;
  getStream(key: string): Promise<ReadStreamResult>;
  put(key: string, data: Buffer, condition: Condition, writeId: string): Promise<WriteResult>;
  /** A write larger than `singleWriteLimit`; retries its own parts. `head` holds the bytes already read. */
  putStream(key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>, condition: Condition, writeId: string): Promise<WriteResult>;
  delete(key: string, ifRevision?: Revision): Promise<void>;
  /** Files directly below `prefix` (a key ending in `/`, or "" for the location). */
  listFiles(prefix: string): Promise<FileInfo[]>;
  /** Folder names directly below `prefix`. */
  listFolders(prefix: string): Promise<string[]>;
  /** Every file below `prefix`, with paths relative to it. */
  listTree(prefix: string, options: ListOptions): Promise<FileInfo[]>;

  /** Optional: a copy made by the server from another backend's object; undefined when it cannot. */
  copyFrom?(key: string, source: Backend, sourceKey: string, size: number, sourceRevision?: Revision): Promise<WriteResult | undefined>;

  /**
   * Optional: old versions (bucket versioning) of every key that starts with `prefix`, delete
   * markers included, newest first per key; paths relative to `prefix` ("" for `prefix` itself).
   */
  listVersions?(prefix: string): Promise<TreeVersion[]>;
  readVersion?(key: string, versionId: string): Promise<ReadResult>;

  /** Turns any error from this backend into a `KstateError` for `op` on `url`. */
  classify(op: string, url: string, error: unknown): KstateError;
  isTransient(error: unknown): boolean;
}

export const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/** Thrown by backends when a write or remove condition does not hold. */
export class ConditionNotMet extends Error {
  constructor(readonly condition: Condition, detail?: string) {
    super(detail ?? (condition.kind === "absent" ? "already exists" : "revision does not match"));
  }
}

/** Thrown by backends when the file is absent. */
export class Missing extends Error {
  constructor() {
    super("not found");
  }
}

/** The part of `classify` every backend shares: our own signals and errors already wrapped. */
export function classifyCommon(op: string, url: string, error: unknown): KstateError | undefined {
  if (KstateErrorClass.isInstance(error)) return error;
  if (error instanceof Missing) return new NotFoundError(describe(op, url, "not found"), { url, cause: error });
  if (error instanceof ConditionNotMet) {
    if (error.condition.kind === "absent") {
      return new AlreadyExistsError(describe(op, url, "already exists"), { url, cause: error });
    }
    const expected = error.condition.kind === "match" ? ` (expected revision ${error.condition.revision})` : "";
    return new PreconditionFailedError(describe(op, url, `changed since it was read${expected}: ${error.message}`), { url, cause: error });
  }
  return undefined;
}

/**
 * Compares a file's current revision with `ifRevision` before a remove, for servers that do not
 * check a precondition on delete themselves (several S3-compatible ones, GCS emulators).
 */
export async function expectRevision(head: () => Promise<ObjectHead>, ifRevision: Revision): Promise<void> {
  const current = await head().then((h) => h.revision, (e: unknown) => {
    if (e instanceof Missing) return undefined;
    throw e;
  });
  if (current !== ifRevision) {
    throw new ConditionNotMet({ kind: "match", revision: ifRevision }, current === undefined ? "the file does not exist" : `now at revision ${current}`);
  }
}

/**
 * What a backend's answer means for kstate: a precondition failure is `ConditionNotMet`; a missing
 * object is `Missing`, or `ConditionNotMet` for a write that needed a revision. Returns
 * undefined for any other answer, which the caller rethrows.
 */
export function answerSignal(answer: { preconditionFailed: boolean; objectMissing: boolean }, condition?: Condition, detail?: string): Error | undefined {
  if (answer.preconditionFailed) return new ConditionNotMet(condition ?? { kind: "any" }, condition?.kind === "absent" ? undefined : detail);
  if (answer.objectMissing) {
    // If-Match on a missing object: the revision cannot match.
    if (condition?.kind === "match") return new ConditionNotMet(condition, "the file no longer exists");
    if (condition === undefined || condition.kind === "absent") return new Missing();
  }
  return undefined;
}

/** `classify` for HTTP backends: 401/403 are `PermissionError`, the rest `BackendError`. */
export function classifyHttp(op: string, url: string, error: unknown, status: number | undefined, detail: string): KstateError {
  const common = classifyCommon(op, url, error);
  if (common) return common;
  if (status === 403 || status === 401) return new PermissionError(describe(op, url, detail), { url, cause: error });
  return new BackendError(describe(op, url, detail), { url, cause: error });
}
