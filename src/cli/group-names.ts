/**
 * The instance-group names of the clusters this user last read from buckets, kept on this machine
 * so the next command reads a cluster's groups while it lists them: one round of requests instead
 * of two (GroupNameHints, store/cluster-store.ts). Names only, never contents: the listing still
 * decides what the cluster holds, so a name that is wrong, stale or missing costs a request, never
 * a wrong result.
 *
 * One small file, instance-groups.json, in KSTATE_CACHE_DIR, else $XDG_CACHE_HOME/kstate, else
 * ~/.cache/kstate (from the command's environment); KSTATE_NO_CACHE=1 turns it off. It holds up
 * to 100 clusters (a cluster new to it, or whose groups changed, pushes out the one kept longest),
 * by URL and server; a file that cannot be read or written is the same as none. Commands run at
 * once may each keep their own clusters' names and drop another's: that costs a round, nothing else.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GroupNameHints } from "../store/cluster-store";
import { writeAtomic } from "./atomic-file";
import { schemeOfUrl } from "../vfs/schemes";
import { resolveStoreSettings } from "../vfs/settings";

const FILE = "instance-groups.json";
const MAX_CLUSTERS = 100;
const MAX_NAMES = 256;
/** Larger than any file this writes: a bigger one is not read. */
const MAX_BYTES = 1024 * 1024;

/** The folder of kstate's files on this machine, or undefined when the environment names none. */
export function cacheFolder(env: Record<string, string | undefined>): string | undefined {
  if (env.KSTATE_NO_CACHE === "1") return undefined;
  if (env.KSTATE_CACHE_DIR) return env.KSTATE_CACHE_DIR;
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return path.join(env.XDG_CACHE_HOME, "kstate");
  return env.HOME ? path.join(env.HOME, ".cache", "kstate") : undefined;
}

/** A name as a listing gives it: one path segment. */
function isGroupName(n: unknown): n is string {
  return typeof n === "string" && n.length > 0 && n.length <= 253 && !n.includes("/") && n !== "." && n !== "..";
}

/**
 * The file's text: a regular file of a sane size, not followed through a link nor waited on (a
 * pipe or a device in its place is no file of names); undefined otherwise.
 */
function readFile(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > MAX_BYTES) return undefined;
    return fs.readFileSync(fd, "utf8");
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The names kept by cluster, oldest first; nothing when the file is missing or not one of these. */
function readKept(file: string): Map<string, string[]> {
  try {
    const text = readFile(file);
    if (text === undefined) return new Map();
    const kept = JSON.parse(text) as { clusters?: unknown };
    if (typeof kept.clusters !== "object" || kept.clusters === null || Array.isArray(kept.clusters)) return new Map();
    return new Map(Object.entries(kept.clusters).filter((e): e is [string, string[]] => Array.isArray(e[1]) && e[1].length <= MAX_NAMES && e[1].every(isGroupName)));
  } catch {
    return new Map();
  }
}

/**
 * Hints kept in the user's cache folder, for clusters in buckets only (a local folder answers at
 * once; there is nothing to win). Undefined when there is no folder to keep them in.
 */
export function groupNamesOnDisk(env: Record<string, string | undefined>): GroupNameHints | undefined {
  const folder = cacheFolder(env);
  if (folder === undefined) return undefined;
  const file = path.join(folder, FILE);
  let kept: Map<string, string[]> | undefined;
  const load = () => (kept ??= readKept(file));
  const inBucket = (cluster: string) => schemeOfUrl(cluster)?.madeOnWrite === false;
  // A bucket is named with the server it is on (S3_ENDPOINT, STORAGE_EMULATOR_HOST), when not the
  // cloud's own; the settings are resolved once, when a bucket's names are first asked for.
  let settings: ReturnType<typeof resolveStoreSettings> | undefined;
  const keyOf = (cluster: string) => {
    settings ??= resolveStoreSettings({}, env);
    const endpoint = { s3: settings.s3?.endpoint, gs: settings.gcs?.endpoint }[schemeOfUrl(cluster)?.scheme as "s3" | "gs"];
    return endpoint ? `${cluster} at ${endpoint}` : cluster;
  };
  return {
    get: (cluster) => (inBucket(cluster) ? load().get(keyOf(cluster)) : undefined),
    set(cluster, names) {
      if (!inBucket(cluster) || names.length > MAX_NAMES) return;
      const key = keyOf(cluster);
      // Read again: another command may have written the file since this one read it.
      kept = readKept(file);
      kept.delete(key);
      if (names.length > 0) kept.set(key, [...names]);
      const clusters = Object.fromEntries([...kept].slice(-MAX_CLUSTERS));
      try {
        writeAtomic(file, `${JSON.stringify({ clusters })}\n`);
      } catch {
        // Not kept: the next read takes its two rounds, nothing else.
      }
    },
  };
}
