import * as nodePath from "node:path";
import { InvalidPathError, redact } from "./errors";

export type Scheme = "s3" | "gs" | "file" | "memfs";

/** A store URL taken apart: `location` is the bucket, store name or root folder. */
export interface ParsedUrl {
  scheme: Scheme;
  location: string;
  /** `/`-joined key below the location, "" for the location itself. */
  key: string;
}

const MAX_KEY_BYTES = 1024;

function invalid(input: string, why: string): InvalidPathError {
  const shown = redact(input.length > 200 ? `${input.slice(0, 200)}…` : input);
  return new InvalidPathError(`invalid path ${JSON.stringify(shown)}: ${redact(why)}`, { url: shown });
}

/**
 * Checks the segments of a key: none empty, none `.` or `..`, no NUL or other control characters.
 * Returns them joined with `/`.
 */
export function checkSegments(input: string, segments: readonly string[]): string {
  for (const s of segments) {
    if (s === "") throw invalid(input, "empty path segment (`//` or a leading or trailing `/`)");
    if (s === "." || s === "..") throw invalid(input, `\`${s}\` segments are not allowed`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(s)) throw invalid(input, "control characters (NUL, newline, …) are not allowed");
  }
  const key = segments.join("/");
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw invalid(input, `longer than ${MAX_KEY_BYTES} bytes`);
  return key;
}

/** Splits names given to `join`, each of which may itself hold `/`. */
export function splitNames(input: string, names: readonly string[]): string[] {
  const segments: string[] = [];
  for (const name of names) {
    if (typeof name !== "string") throw invalid(input, "path names must be strings");
    segments.push(...name.split("/"));
  }
  checkSegments(`${input}/${names.join("/")}`, segments);
  return segments;
}

// S3: 3-63 chars of lowercase letters, digits, dots and hyphens, starting and ending alphanumeric.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// GCS also allows underscores, and up to 222 chars when the name has dots (63 per dot-separated part).
const GCS_BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const MEMFS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkBucket(input: string, scheme: "s3" | "gs", bucket: string): void {
  if (bucket === "") throw invalid(input, "no bucket name");
  const ok = scheme === "s3" ? S3_BUCKET.test(bucket) : GCS_BUCKET.test(bucket);
  if (!ok) {
    const rule = scheme === "s3"
      ? "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
      : "3-63 lowercase letters, digits, dots, hyphens and underscores, starting and ending with a letter or digit";
    throw invalid(input, `bucket name ${JSON.stringify(bucket)} is not valid: ${rule}`);
  }
  if (bucket.includes("..")) throw invalid(input, "bucket names cannot contain `..`");
  if (scheme === "gs" && bucket.split(".").some((part) => part.length > 63)) {
    throw invalid(input, "each dot-separated part of a bucket name is at most 63 characters");
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) throw invalid(input, "bucket names cannot look like IP addresses");
}

/** Strips one trailing `/` (as kops does for the state store) and splits the rest. */
function keySegments(rest: string): string[] {
  const trimmed = rest.endsWith("/") ? rest.slice(0, -1) : rest;
  return trimmed === "" ? [] : trimmed.split("/");
}

/**
 * Parses a store URL. Throws `InvalidPathError` for anything malformed, before any I/O:
 * unknown schemes, missing or invalid bucket names, `..`, empty segments, NUL bytes.
 */
export function parseUrl(input: string): ParsedUrl {
  if (typeof input !== "string" || input === "") throw invalid(String(input), "empty path");
  if (input.includes("\u0000")) throw invalid(input, "NUL bytes are not allowed");

  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(input);
  if (!match) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(input) && !input.startsWith("/")) {
      throw invalid(input, "unknown URL form; use s3://, gs://, file:// or memfs://");
    }
    return parseLocal(input, input);
  }
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  // Never take credentials from a URL (they would end up in logs and errors): refuse, unshown.
  if (/^[^/]*@/.test(rest)) throw invalid(input, "credentials in store URLs are not allowed; use the environment (S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY, AWS_*, GOOGLE_APPLICATION_CREDENTIALS)");
  switch (scheme) {
    case "s3":
    case "gs": {
      const slash = rest.indexOf("/");
      const bucket = slash < 0 ? rest : rest.slice(0, slash);
      checkBucket(input, scheme, bucket);
      const key = checkSegments(input, keySegments(slash < 0 ? "" : rest.slice(slash + 1)));
      return { scheme, location: bucket, key };
    }
    case "memfs": {
      const slash = rest.indexOf("/");
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (!MEMFS_NAME.test(name)) throw invalid(input, "memfs:// needs a store name of letters, digits, `.`, `_` and `-`");
      const key = checkSegments(input, keySegments(slash < 0 ? "" : rest.slice(slash + 1)));
      return { scheme: "memfs", location: name, key };
    }
    case "file": {
      if (!rest.startsWith("/")) throw invalid(input, "file:// URLs need an absolute path (file:///abs/dir)");
      return parseLocal(input, decodeURIComponentSafe(input, rest));
    }
    default:
      throw invalid(input, `unknown scheme ${JSON.stringify(scheme)}; use s3://, gs://, file:// or memfs://`);
  }
}

function decodeURIComponentSafe(input: string, s: string): string {
  try {
    return decodeURIComponent(s);
  } catch (cause) {
    throw new InvalidPathError(`invalid path ${JSON.stringify(input)}: bad percent-encoding`, { url: input, cause });
  }
}

/** Local folders: the whole path is checked, then made absolute against the working directory. */
function parseLocal(input: string, p: string): ParsedUrl {
  if (p.includes("\u0000")) throw invalid(input, "NUL bytes are not allowed");
  const absolute = p.startsWith("/");
  const segments = keySegments(absolute ? p.slice(1) : p);
  // `/`, `//`, `file:///`: the whole filesystem is no store folder (nor a typo's target).
  if (absolute && segments.length === 0) throw invalid(input, "the filesystem root is not a store folder; name a folder (file:///abs/dir)");
  // A relative path may climb out of the working directory first (`../state`), as in a shell.
  const leadingUps = absolute ? 0 : segments.findIndex((s) => s !== "..");
  const checked = leadingUps < 0 ? [] : segments.slice(leadingUps);
  if (checked.length > 0) checkSegments(input, checked);
  const root = absolute ? `/${segments.join("/")}` : nodePath.resolve(segments.join("/"));
  return { scheme: "file", location: root, key: "" };
}

/** The URL of a key within a location, in the canonical form `parseUrl` accepts. */
export function formatUrl(scheme: Scheme, location: string, key: string): string {
  if (scheme === "file") {
    const full = key === "" ? location : `${location === "/" ? "" : location}/${key}`;
    // file:// URLs are read percent-decoded: a literal `%` in a folder name is written `%25`.
    return `file://${full.replaceAll("%", "%25")}`;
  }
  return key === "" ? `${scheme}://${location}` : `${scheme}://${location}/${key}`;
}

/**
 * The one spelling of a store URL: a trailing `/` dropped, a plain path as `file:///abs/dir`, the
 * scheme in lower case. Two URLs name the same place exactly when their canonical forms are equal.
 */
export function canonicalUrl(input: string): string {
  const p = parseUrl(input);
  return formatUrl(p.scheme, p.location, p.key);
}
