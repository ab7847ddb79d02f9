import { createHash, randomBytes } from "node:crypto";
import { constants as fsConstants, createReadStream, type BigIntStats } from "node:fs";
import * as fs from "node:fs/promises";
import * as nodePath from "node:path";
import { type Backend, classifyCommon, type Condition, ConditionNotMet, type ListOptions, Missing, NO_RETRY, type ObjectHead } from "../backend";
import { BackendError, describe, InvalidPathError, type KstateError, PermissionError } from "../errors";
import type { FileInfo, ReadResult, ReadStreamResult, Revision, WriteResult } from "../path";
import { errno, FILE_MODE, LOCK_PREFIX, locked } from "./lock";

const DIR_MODE = 0o700;
const TEMP_PREFIX = ".kstate-tmp-";
function revisionOf(st: BigIntStats): Revision {
  return `${st.ino.toString(36)}.${st.mtimeNs.toString(36)}.${st.size.toString(36)}`;
}

function isOwnFile(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) || name.startsWith(LOCK_PREFIX);
}

/**
 * `file:///abs/dir` and plain paths. Writes go to a temp file in the same folder and are renamed
 * into place, so readers never see half a file. Create-only writes use `link`, which fails
 * atomically if the name exists. Conditional writes and removes hold a short lock file while
 * they compare the revision and rename. Files are 0600, folders 0700; symlinks are not followed
 * out of the root.
 */
export class FileBackend implements Backend {
  readonly scheme = "file" as const;
  readonly retry = NO_RETRY;
  readonly singleWriteLimit = 0; // always stream to the temp file
  private realRoot: string | undefined;

  constructor(readonly location: string) {}

  private full(key: string): string {
    return key === "" ? this.location : nodePath.join(this.location, key);
  }

  /** Refuses a path whose folder resolves (through symlinks) outside the root. */
  private async checkInside(dir: string, key: string): Promise<void> {
    if (key === "") return; // the path opened itself, named by the caller
    this.realRoot ??= await fs.realpath(this.location).catch(() => this.location);
    const realDir = await fs.realpath(dir);
    if (realDir !== this.realRoot && !realDir.startsWith(this.realRoot + nodePath.sep)) {
      throw new InvalidPathError(`file://${this.full(key)}: resolves outside the store root ${this.location} through a symlink`);
    }
  }

  private async openForRead(key: string): Promise<fs.FileHandle> {
    const full = this.full(key);
    try {
      await this.checkInside(nodePath.dirname(full), key);
      return await fs.open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (e) {
      if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") throw new Missing();
      if (errno(e) === "ELOOP") throw new InvalidPathError(`file://${full}: is a symlink; kstate does not follow symlinks`);
      if (errno(e) === "EISDIR") throw new Missing();
      throw e;
    }
  }

  async head(key: string): Promise<ObjectHead> {
    const handle = await this.openForRead(key);
    try {
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) throw new Missing();
      return { size: Number(st.size), revision: revisionOf(st) };
    } finally {
      await handle.close();
    }
  }

  async get(key: string): Promise<ReadResult> {
    const handle = await this.openForRead(key);
    try {
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) throw new Missing();
      return { data: await handle.readFile(), revision: revisionOf(st) };
    } finally {
      await handle.close();
    }
  }

  async getStream(key: string): Promise<ReadStreamResult> {
    const handle = await this.openForRead(key);
    const st = await handle.stat({ bigint: true }).catch(async (e: unknown) => {
      await handle.close();
      throw e;
    });
    if (!st.isFile()) {
      await handle.close();
      throw new Missing();
    }
    // The stream owns the handle from here and closes it when done or destroyed.
    const stream = handle.createReadStream({ autoClose: true });
    return { stream, revision: revisionOf(st), size: Number(st.size) };
  }

  async put(key: string, data: Buffer, condition: Condition): Promise<WriteResult> {
    return this.putStream(key, [data], emptyIterator(), condition);
  }

  async putStream(key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>, condition: Condition): Promise<WriteResult> {
    const full = this.full(key);
    const dir = nodePath.dirname(full);
    const { temp, revision } = await this.writeTemp(dir, key, head, rest);
    try {
      if (condition.kind === "absent") {
        try {
          await fs.link(temp, full);
        } catch (e) {
          if (errno(e) === "EEXIST") throw new ConditionNotMet(condition);
          throw e;
        }
      } else {
        await locked(full, async () => {
          if (condition.kind === "match") {
            const current = await fs.lstat(full, { bigint: true }).then(revisionOf, (e: unknown) => {
              if (errno(e) === "ENOENT") return undefined;
              throw e;
            });
            if (current !== condition.revision) {
              throw new ConditionNotMet(condition, current === undefined ? "the file no longer exists" : `now at revision ${current}`);
            }
          }
          await fs.rename(temp, full);
        });
      }
      await syncDir(dir);
      return { revision };
    } finally {
      await fs.unlink(temp).catch(() => undefined);
    }
  }

  /** Writes the bytes to a new temp file beside the target, flushed to disk. */
  private async writeTemp(dir: string, key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>): Promise<{ temp: string; revision: Revision }> {
    for (let attempt = 1; ; attempt++) {
      await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
      await this.checkInside(dir, key);
      const temp = nodePath.join(dir, TEMP_PREFIX + randomBytes(8).toString("hex"));
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(temp, "wx", FILE_MODE);
      } catch (e) {
        // A concurrent remove may prune the folder between mkdir and open.
        if (errno(e) === "ENOENT" && attempt < 5) continue;
        throw e;
      }
      try {
        for (const chunk of head) await handle.write(chunk);
        for (let next = await rest.next(); !next.done; next = await rest.next()) await handle.write(next.value);
        await handle.sync();
        const st = await handle.stat({ bigint: true });
        return { temp, revision: revisionOf(st) };
      } catch (e) {
        await fs.unlink(temp).catch(() => undefined);
        throw e;
      } finally {
        await handle.close();
      }
    }
  }

  async delete(key: string, ifRevision?: Revision): Promise<void> {
    const full = this.full(key);
    try {
      await this.checkInside(nodePath.dirname(full), key);
    } catch (e) {
      if (errno(e) === "ENOENT" && ifRevision === undefined) return;
      if (errno(e) === "ENOENT") throw new ConditionNotMet({ kind: "match", revision: ifRevision! }, "the file does not exist");
      throw e;
    }
    await locked(full, async () => {
      if (ifRevision !== undefined) {
        const current = await fs.lstat(full, { bigint: true }).then(revisionOf, () => undefined);
        if (current !== ifRevision) {
          throw new ConditionNotMet({ kind: "match", revision: ifRevision }, current === undefined ? "the file does not exist" : `now at revision ${current}`);
        }
      }
      await fs.unlink(full).catch((e: unknown) => {
        if (errno(e) !== "ENOENT") throw e;
      });
    });
    await this.pruneEmptyFolders(nodePath.dirname(full));
  }

  /** Object stores have no empty folders; neither does a file store after a remove. */
  private async pruneEmptyFolders(dir: string): Promise<void> {
    while (dir.startsWith(this.location + nodePath.sep)) {
      try {
        await fs.rmdir(dir);
      } catch {
        return;
      }
      dir = nodePath.dirname(dir);
    }
  }

  async listFiles(prefix: string): Promise<FileInfo[]> {
    const dir = this.full(prefix.replace(/\/$/, ""));
    const entries = await readdir(dir);
    const files = await Promise.all(entries.filter((e) => e.isFile() && !isOwnFile(e.name)).map(async (e) => {
      const st = await fs.lstat(nodePath.join(dir, e.name), { bigint: true }).catch(() => undefined);
      return st && { path: e.name, size: Number(st.size), revision: revisionOf(st) };
    }));
    return files.filter((f): f is FileInfo & { revision: string } => f !== undefined).sort(byPath);
  }

  async listFolders(prefix: string): Promise<string[]> {
    const entries = await readdir(this.full(prefix.replace(/\/$/, "")));
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  async listTree(prefix: string, options: ListOptions): Promise<FileInfo[]> {
    const root = this.full(prefix.replace(/\/$/, ""));
    const files: FileInfo[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      const entries = await readdir(dir);
      await Promise.all(entries.map(async (e) => {
        const childRel = rel === "" ? e.name : `${rel}/${e.name}`;
        const child = nodePath.join(dir, e.name);
        if (e.isDirectory()) return walk(child, childRel);
        if (!e.isFile() || isOwnFile(e.name)) return; // symlinks and sockets are not store files
        const st = await fs.lstat(child, { bigint: true }).catch(() => undefined);
        if (!st) return;
        const info: FileInfo = { path: childRel, size: Number(st.size), revision: revisionOf(st) };
        if (options.hashes) info.hash = await md5File(child);
        files.push(info);
      }));
    };
    await walk(root, "");
    return files.sort(byPath);
  }

  classify(op: string, url: string, error: unknown): KstateError {
    const common = classifyCommon(op, url, error);
    if (common) return common;
    const code = errno(error);
    const message = error instanceof Error ? error.message : String(error);
    if (code === "EACCES" || code === "EPERM") return new PermissionError(describe(op, url, `permission denied (${code})`), { url, cause: error });
    if (code === "ENOTDIR") return new InvalidPathError(describe(op, url, "a parent of this path is a file, not a folder"), { url, cause: error });
    return new BackendError(describe(op, url, message), { url, cause: error });
  }

  isTransient(_error: unknown): boolean {
    return false;
  }
}

async function readdir(dir: string): Promise<import("node:fs").Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") return [];
    throw e;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

async function md5File(file: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function byPath(a: FileInfo, b: FileInfo): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function emptyIterator(): AsyncIterator<Uint8Array> {
  return { next: async () => ({ done: true, value: undefined }) };
}
