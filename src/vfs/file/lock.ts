/**
 * The short lock a conditional write or remove on a local store holds while it compares the
 * revision and renames: a lock file beside the target (created exclusively, taken over when stale)
 * behind an in-process queue per file.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as nodePath from "node:path";
import { BackendError } from "../errors";

export const FILE_MODE = 0o600;
export const LOCK_PREFIX = ".kstate-lock-";
/** A lock older than this belongs to a process that died: locks are held for a rename only. */
const STALE_LOCK_MS = 10_000;
const LOCK_TIMEOUT_MS = 30_000;

/**
 * In-process queue per file, so one process's writers do not poll each other's lock files. It is
 * process-wide on purpose (not a cache): two stores opened on one folder must still queue.
 */
const queues = new Map<string, Promise<unknown>>();

export function errno(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
    ? (e as { code: string }).code : undefined;
}

/** Runs `fn` holding the lock for `full`: first this process's queue, then the lock file. */
export async function locked<T>(full: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(full) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const lock = nodePath.join(nodePath.dirname(full), LOCK_PREFIX + createHash("sha256").update(nodePath.basename(full)).digest("hex").slice(0, 24));
    await acquireLock(lock, full);
    try {
      return await fn();
    } finally {
      await fs.unlink(lock).catch(() => undefined);
    }
  });
  queues.set(full, run);
  try {
    return await run;
  } finally {
    if (queues.get(full) === run) queues.delete(full);
  }
}

async function acquireLock(lock: string, target: string): Promise<void> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      const handle = await fs.open(lock, "wx", FILE_MODE);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return;
    } catch (e) {
      if (errno(e) !== "EEXIST") throw e;
    }
    const st = await fs.stat(lock).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) {
      // Take the stale lock out of the way under a unique name: of several processes that see
      // it stale, only one rename succeeds, and the rest retry the create.
      const aside = `${lock}.stale-${randomBytes(4).toString("hex")}`;
      if (await fs.rename(lock, aside).then(() => true, () => false)) await fs.unlink(aside).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new BackendError(`lock ${target}: still locked by another writer after ${LOCK_TIMEOUT_MS / 1000}s (${lock})`);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * wait));
  }
}
