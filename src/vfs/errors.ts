/**
 * One error hierarchy for all of kstate. Every error carries a string `code`, the URL it
 * concerns (when there is one) and the underlying `cause`.
 *
 * Use `XError.isInstance(e)` rather than `instanceof`: dynamic providers run in another
 * process against other copies of this module, where `instanceof` gives the wrong answer.
 */

export type ErrorCode =
  | "NotFound"
  | "AlreadyExists"
  | "PreconditionFailed"
  | "InvalidPath"
  | "Permission"
  | "Backend"
  | "Validation"
  | "Conflict"
  | "Refused"
  | "Integrity"
  | "Unsupported"
  | "KopsFailed";

const BRAND = "__kstateError";

export interface KstateErrorOptions {
  /** The URL the failed operation concerned. */
  url?: string;
  cause?: unknown;
}

export class KstateError extends Error {
  /** Brand checked by `isInstance`, which must work across module copies. */
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly url: string | undefined;

  constructor(code: ErrorCode, message: string, options: KstateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.url = options.url;
    this.name = `${code}Error`;
  }

  static isInstance(e: unknown): e is KstateError {
    return typeof e === "object" && e !== null && (e as Record<string, unknown>)[BRAND] === true;
  }
}

function hasCode(e: unknown, code: ErrorCode): boolean {
  return KstateError.isInstance(e) && e.code === code;
}

/** The file or object does not exist. */
export class NotFoundError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("NotFound", message, options); }
  static override isInstance(e: unknown): e is NotFoundError { return hasCode(e, "NotFound"); }
}

/** A create-only write found the file already there. */
export class AlreadyExistsError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("AlreadyExists", message, options); }
  static override isInstance(e: unknown): e is AlreadyExistsError { return hasCode(e, "AlreadyExists"); }
}

/** A conditional write or remove found a revision other than the one it was given. */
export class PreconditionFailedError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("PreconditionFailed", message, options); }
  static override isInstance(e: unknown): e is PreconditionFailedError { return hasCode(e, "PreconditionFailed"); }
}

/** A URL or path is malformed; raised before any I/O. */
export class InvalidPathError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("InvalidPath", message, options); }
  static override isInstance(e: unknown): e is InvalidPathError { return hasCode(e, "InvalidPath"); }
}

/** The backend refused the credentials or the operation. */
export class PermissionError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("Permission", message, options); }
  static override isInstance(e: unknown): e is PermissionError { return hasCode(e, "Permission"); }
}

/** The backend failed: unreachable, timed out, or answered something unexpected. */
export class BackendError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("Backend", message, options); }
  static override isInstance(e: unknown): e is BackendError { return hasCode(e, "Backend"); }
}

/** A document or input is invalid; nothing was written. */
export class ValidationError extends KstateError {
  /** Every problem found, each naming the field path it concerns. */
  readonly problems: readonly { path: string; message: string }[];
  constructor(message: string, options?: KstateErrorOptions & { problems?: { path: string; message: string }[] }) {
    super("Validation", message, options);
    this.problems = options?.problems ?? [];
  }
  static override isInstance(e: unknown): e is ValidationError { return hasCode(e, "Validation"); }
}

/** A concurrent change touched something this operation owns. */
export class ConflictError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("Conflict", message, options); }
  static override isInstance(e: unknown): e is ConflictError { return hasCode(e, "Conflict"); }
}

/** An operation kstate will not do as asked (it would lose something, or it lacks a key it needs); nothing was changed. */
export class RefusedError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("Refused", message, options); }
  static override isInstance(e: unknown): e is RefusedError { return hasCode(e, "Refused"); }
}

/** Stored bytes are not what they should be: a copy that did not verify, a damaged encrypted file. */
export class IntegrityError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("Integrity", message, options); }
  static override isInstance(e: unknown): e is IntegrityError { return hasCode(e, "Integrity"); }
}

/** The store cannot do what was asked (no old versions, no bucket to manage); nothing was changed. */
export class UnsupportedError extends KstateError {
  constructor(message: string, options?: KstateErrorOptions) { super("Unsupported", message, options); }
  static override isInstance(e: unknown): e is UnsupportedError { return hasCode(e, "Unsupported"); }
}

/**
 * Hides what must never be printed: credentials in URLs (`scheme://user:password@`) and the
 * signing parameters of presigned URLs (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token,
 * their X-Goog- counterparts, Signature, sig, AWSAccessKeyId, GoogleAccessId).
 */
export function redact(text: string): string {
  return text
    .replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s@"'`]*@/g, "$1***@")
    .replace(/(\b(?:X-Amz-|X-Goog-)(?:Signature|Credential|Security-Token)=|[?&](?:Signature|sig|AWSAccessKeyId|GoogleAccessId)=)[^&\s"'`]*/gi, "$1***");
}

/** Variables whose values are credentials, by name (AWS_SECRET_ACCESS_KEY, KSTATE_PASSPHRASE, …). */
const SECRET_VARIABLE = /SECRET|PASSWORD|PASSPHRASE|TOKEN|ACCESS_KEY|CREDENTIAL|PRIVATE/i;

/**
 * `text` redacted, and with the values of the secret-named variables of `environments` (and the
 * `extra` values: keys given as settings) replaced by ***: how text another program printed, or an
 * error about it, is shown.
 */
export function hideSecrets(text: string, environments: readonly Readonly<Record<string, string | undefined>>[], extra: readonly (string | undefined)[] = []): string {
  const named = environments.flatMap((e) => Object.entries(e).filter(([k]) => SECRET_VARIABLE.test(k)).map(([, v]) => v));
  const values = [...new Set([...named, ...extra])].filter((v): v is string => typeof v === "string" && v.length >= 4);
  let out = redact(text);
  for (const v of values.sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
  return out;
}

/** `op url: detail`, the one message shape every VFS error uses (secrets in the URL redacted). */
export function describe(op: string, url: string, detail: string): string {
  return redact(`${op} ${url}: ${detail}`);
}
