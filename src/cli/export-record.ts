/**
 * What an exported folder keeps of its export: the record (DIR/.kstate-export.json: store,
 * cluster, each file's store revision and SHA-256) and the base (DIR/.kstate/base/…: each file's
 * bytes as exported). The record's revisions let `apply -f` tell a change made in the store since
 * the export; its hashes let `export` tell a change made in the folder; the base is what `pull`
 * merges from. Both always describe the same moment: the files as the folder and the store last
 * agreed on them.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { isKopsFile } from "../store/layout";
import { ValidationError } from "../vfs/errors";
import { TEMP_PREFIX, writeAtomic } from "./atomic-file";

/** In an exported folder: the record. */
export const BASE_FILE = ".kstate-export.json";

/** In an exported folder: a copy of each file as exported, under its own path. */
export const BASE_COPY_DIR = ".kstate/base";

/** Where a write stages its bytes before the rename (the file:// store's prefix too). */

/** Secrets and private keys: exported only when asked (`--include-secrets`). */
export function isSecretFile(relative: string): boolean {
  return relative.startsWith("secrets/") || relative.startsWith("pki/private/");
}

export interface ExportBase {
  store: string;
  cluster: string;
  /** Each exported file's store revision. */
  revisions: Record<string, string>;
  /** Each exported file's SHA-256 (hex), as exported. Records written before pull existed have none. */
  sha256?: Record<string, string>;
  /** Whether secrets/ and pki/private/ were exported (pull keeps the export's choice). */
  includeSecrets?: boolean;
}

/** A file of the folder that differs from the record. */
export interface LocalChange {
  path: string;
  change: "edited" | "added" | "removed";
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

const NOT_A_RECORD = "not the record kstate export writes (remove it, or export again)";

/** The record file's JSON, if there is one. */
function parseRecord(dir: string): unknown {
  const file = nodePath.join(dir, BASE_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  } catch {
    throw new ValidationError(`${file}: ${NOT_A_RECORD}`);
  }
}

function isRecord(v: unknown): v is ExportBase {
  return typeof v === "object" && v !== null && typeof (v as ExportBase).revisions === "object" && (v as ExportBase).revisions !== null;
}

/** The record in `dir`, whatever store and cluster it names; undefined if there is none. */
export function readRecord(dir: string): ExportBase | undefined {
  const record = parseRecord(dir);
  if (record !== undefined && !isRecord(record)) throw new ValidationError(`${nodePath.join(dir, BASE_FILE)}: ${NOT_A_RECORD}`);
  return record;
}

/** The record in `dir` if it is one of `cluster` in `store`. */
export function readBase(dir: string, cluster: string, store: string): ExportBase | undefined {
  const base = parseRecord(dir);
  // A record of another store or cluster says nothing about this one's revisions.
  return isRecord(base) && base.store === store && base.cluster === cluster ? base : undefined;
}

/** Saves the record as it is (export and pull, which write the base copies themselves). */
export function writeRecord(dir: string, base: ExportBase): void {
  // Temp file and rename: a command killed mid-write leaves the old record or the new, never a torn one.
  writeAtomic(nodePath.join(dir, BASE_FILE), `${JSON.stringify(base, null, 2)}\n`);
}

/**
 * Saves the record after `apply -f` moved documents on. A document whose revision changed is one
 * the store now holds as the folder says it (apply wrote it, or found it there already), so the
 * folder's file becomes its base: the next export sees no local change in it, and the next pull
 * merges from it.
 */
export function writeBase(dir: string, base: ExportBase): void {
  const before = readRecord(dir);
  if (base.sha256) {
    for (const [file, revision] of Object.entries(base.revisions)) {
      if (before?.revisions[file] === revision) continue;
      // A file kstate does not read (a symlink) keeps its old base: export then counts it as
      // changed, which is the safe side; the apply that just wrote it does not fail for it.
      const data = tryRead(() => readFolderFile(dir, file));
      if (data === undefined) continue;
      writeBaseCopy(dir, file, data);
      base.sha256[file] = sha256(data);
    }
    // A file the apply deleted from the store (--prune) and the folder no longer has is forgotten.
    for (const file of Object.keys(before?.revisions ?? {})) {
      if (file in base.revisions || readFolderFile(dir, file) !== undefined) continue;
      delete base.sha256[file];
      writeBaseCopy(dir, file, undefined);
    }
  }
  writeRecord(dir, base);
}

function tryRead(read: () => Buffer | undefined): Buffer | undefined {
  try {
    return read();
  } catch (e) {
    if (ValidationError.isInstance(e)) return undefined;
    throw e;
  }
}

/**
 * The folder's own path for a store file's `relative` path. Hidden names at the top belong to
 * git and to kstate's record, and no path may climb out of the folder, by `..` or by a symlink
 * (not followed, as the file:// store does not follow them).
 */
function inside(root: string, relative: string): string {
  const parts = relative.split("/");
  const bad = parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\\") || p.includes("\0")) || parts[0]!.startsWith(".");
  if (bad) throw new ValidationError(`${JSON.stringify(relative)}: not a path kstate keeps in an exported folder (${root})`);
  let at = root;
  for (const p of parts) {
    at = nodePath.join(at, p);
    if (fs.lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink()) throw new ValidationError(`${at}: a symlink; kstate does not follow symlinks in an exported folder`);
  }
  return at;
}

export function readFolderFile(dir: string, relative: string): Buffer | undefined {
  return readIfFile(inside(dir, relative));
}

/** Writes (atomically) or, with `data` undefined, removes a file of the folder. */
export function writeFolderFile(dir: string, relative: string, data: Buffer | undefined): void {
  if (data === undefined) removeFile(dir, inside(dir, relative));
  else writeAtomic(inside(dir, relative), data);
}

export function readBaseCopy(dir: string, relative: string): Buffer | undefined {
  return readIfFile(inside(nodePath.join(dir, BASE_COPY_DIR), relative));
}

/** Writes or, with `data` undefined, removes the base copy of a file. */
export function writeBaseCopy(dir: string, relative: string, data: Buffer | undefined): void {
  const root = nodePath.join(dir, BASE_COPY_DIR);
  if (data === undefined) removeFile(root, inside(root, relative));
  else writeAtomic(inside(root, relative), data);
}

/** The folder's files, `/`-separated, except hidden entries at its top (.git, the record, the base). */
export function folderFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string, prefix: string) => {
    for (const e of fs.readdirSync(folder, { withFileTypes: true })) {
      if ((prefix === "" && e.name.startsWith(".")) || e.name.startsWith(TEMP_PREFIX)) continue;
      if (e.isDirectory()) walk(nodePath.join(folder, e.name), `${prefix}${e.name}/`);
      else if (e.isFile()) found.push(`${prefix}${e.name}`);
    }
  };
  if (fs.existsSync(dir)) walk(dir, "");
  return found.sort();
}

/**
 * How the folder differs from its record: recorded files edited or removed, and files kops's
 * layout could hold (config, instancegroup/…) that were not exported. Other files (a README, say)
 * are the user's own and not the export's business.
 */
export function localChanges(dir: string, base: ExportBase): LocalChange[] {
  const changes: LocalChange[] = [];
  for (const file of Object.keys(base.revisions)) {
    const data = readFolderFile(dir, file);
    if (data === undefined) changes.push({ path: file, change: "removed" });
    else if (sha256(data) !== base.sha256?.[file]) changes.push({ path: file, change: "edited" });
  }
  for (const file of folderFiles(dir)) {
    if (!Object.hasOwn(base.revisions, file) && isKopsFile(file)) changes.push({ path: file, change: "added" });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function readIfFile(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "EISDIR") return undefined;
    throw e;
  }
}

/** Removes `file` and then the folders it leaves empty, up to (not including) `root`. */
function removeFile(root: string, file: string): void {
  fs.rmSync(file, { force: true });
  const top = `${nodePath.resolve(root)}${nodePath.sep}`;
  for (let folder = nodePath.resolve(nodePath.dirname(file)); folder.startsWith(top); folder = nodePath.dirname(folder)) {
    if (!fs.existsSync(folder) || fs.readdirSync(folder).length > 0) break;
    fs.rmdirSync(folder);
  }
}
