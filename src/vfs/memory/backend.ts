import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { type Backend, classifyCommon, type Condition, ConditionNotMet, Missing, NO_RETRY, type ObjectHead } from "../backend";
import { BackendError, describe, type KstateError } from "../errors";
import type { FileInfo, ReadResult, ReadStreamResult, Revision, TreeVersion, WriteResult } from "../path";

interface Version {
  versionId: string;
  data: Buffer | null; // null: a delete marker
  md5: string;
  writeId?: string;
  modified: Date;
}

interface Entry {
  versions: Version[]; // oldest first; the last one is current
}

/** One named in-memory store, shared by every `memfs://name` path in the process. */
class MemoryStore {
  readonly entries = new Map<string, Entry>();
  versioning = true;
  /** Every request served, once watched (see `watchMemoryStore`). */
  served?: ServedRequest[];
}

const stores = new Map<string, MemoryStore>();
let nextRevision = 1;
/** The watched stores' clock: one tick per request started or ended. */
let tick = 0;

/** One request a watched memory store served: its operation, key, and start and end on one clock. */
export interface ServedRequest {
  op: "head" | "get" | "put" | "delete" | "list" | "listVersions" | "readVersion";
  key: string;
  start: number;
  end: number;
}

/**
 * Records every request `memfs://name` serves from now on, and lets each take one turn of the
 * event loop, so that requests in flight together overlap as they do over a network: how many
 * requests an operation makes, and in how many rounds one after another, become facts a test can
 * state. Returns the log, which grows as requests end; `resetMemoryStore` stops the watch.
 */
export function watchMemoryStore(name: string): ServedRequest[] {
  const store = storeNamed(name);
  store.served = [];
  return store.served;
}

function storeNamed(name: string): MemoryStore {
  let store = stores.get(name);
  if (!store) {
    store = new MemoryStore();
    stores.set(name, store);
  }
  return store;
}

/** Forgets every file of one `memfs://` store (tests use it to start clean). */
export function resetMemoryStore(name: string): void {
  stores.delete(name);
}

/**
 * `memfs://name/...`: a real in-process store with the same contract as the others, including
 * atomic conditional writes and kept versions. Nothing leaves the process.
 */
export class MemoryBackend implements Backend {
  readonly scheme = "memfs" as const;
  readonly retry = NO_RETRY;
  readonly singleWriteLimit = Number.MAX_SAFE_INTEGER;
  private readonly store: MemoryStore;

  constructor(readonly location: string) {
    this.store = storeNamed(location);
  }

  /** Runs one request, recorded (and a turn of the event loop long) when the store is watched. */
  private async serve<T>(op: ServedRequest["op"], key: string, request: () => Promise<T>): Promise<T> {
    const log = this.store.served;
    if (!log) return request();
    const served: ServedRequest = { op, key, start: tick++, end: -1 };
    await new Promise((r) => setImmediate(r));
    try {
      return await request();
    } finally {
      served.end = tick++;
      log.push(served);
    }
  }

  private current(key: string): Version | undefined {
    const last = this.store.entries.get(key)?.versions.at(-1);
    return last?.data ? last : undefined;
  }

  async head(key: string): Promise<ObjectHead> {
    return this.serve("head", key, async () => {
      const v = this.current(key);
      if (!v?.data) throw new Missing();
      const head: ObjectHead = { size: v.data.length, revision: v.versionId, hash: v.md5 };
      if (v.writeId !== undefined) head.writeId = v.writeId;
      return head;
    });
  }

  async get(key: string): Promise<ReadResult> {
    return this.serve("get", key, async () => {
      const v = this.current(key);
      if (!v?.data) throw new Missing();
      return { data: Buffer.from(v.data), revision: v.versionId };
    });
  }

  async getStream(key: string): Promise<ReadStreamResult> {
    const { data, revision } = await this.get(key);
    return { stream: Readable.from([data]), revision, size: data.length };
  }

  async put(key: string, data: Buffer, condition: Condition, writeId?: string): Promise<WriteResult> {
    return this.serve("put", key, async () => {
      // Check and write in one synchronous step: nothing can interleave on the event loop.
      check(condition, this.current(key)?.versionId);
      const version: Version = {
        versionId: String(nextRevision++),
        data: Buffer.from(data),
        md5: createHash("md5").update(data).digest("hex"),
        modified: new Date(),
        ...(writeId !== undefined ? { writeId } : {}),
      };
      const entry = this.store.entries.get(key) ?? { versions: [] };
      entry.versions = this.store.versioning ? [...entry.versions, version] : [version];
      this.store.entries.set(key, entry);
      return { revision: version.versionId };
    });
  }

  async putStream(key: string, head: Buffer[], rest: AsyncIterator<Uint8Array>, condition: Condition, writeId: string): Promise<WriteResult> {
    const chunks = [...head];
    for (let next = await rest.next(); !next.done; next = await rest.next()) chunks.push(Buffer.from(next.value));
    return this.put(key, Buffer.concat(chunks), condition, writeId);
  }

  async delete(key: string, ifRevision?: Revision): Promise<void> {
    return this.serve("delete", key, async () => {
      const current = this.current(key);
      if (ifRevision !== undefined) check({ kind: "match", revision: ifRevision }, current?.versionId);
      if (!current) return;
      const entry = this.store.entries.get(key)!;
      if (this.store.versioning) {
        entry.versions.push({ versionId: String(nextRevision++), data: null, md5: "", modified: new Date() });
      } else {
        this.store.entries.delete(key);
      }
    });
  }

  async listFiles(prefix: string): Promise<FileInfo[]> {
    return this.serve("list", prefix, async () => {
      return this.scan(prefix).filter((f) => !f.path.includes("/"));
    });
  }

  async listFolders(prefix: string): Promise<string[]> {
    return this.serve("list", prefix, async () => {
      const names = new Set<string>();
      for (const f of this.scan(prefix)) {
        const slash = f.path.indexOf("/");
        if (slash > 0) names.add(f.path.slice(0, slash));
      }
      return [...names].sort();
    });
  }

  async listTree(prefix: string): Promise<FileInfo[]> {
    return this.serve("list", prefix, async () => {
      return this.scan(prefix);
    });
  }

  private scan(prefix: string): FileInfo[] {
    const files: FileInfo[] = [];
    for (const [key, entry] of this.store.entries) {
      const v = entry.versions.at(-1);
      if (!v?.data || !key.startsWith(prefix)) continue;
      files.push({ path: key.slice(prefix.length), size: v.data.length, hash: v.md5, revision: v.versionId });
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async listVersions(prefix: string): Promise<TreeVersion[]> {
    return this.serve("listVersions", prefix, async () => {
      const out: TreeVersion[] = [];
      for (const key of [...this.store.entries.keys()].filter((k) => k.startsWith(prefix)).sort()) {
        const versions = this.store.entries.get(key)!.versions;
        out.push(...versions.map((v, i) => ({
          path: key.slice(prefix.length),
          versionId: v.versionId,
          modified: v.modified,
          size: v.data?.length ?? 0,
          isLatest: i === versions.length - 1,
          deleted: v.data === null,
        })).reverse());
      }
      return out;
    });
  }

  async readVersion(key: string, versionId: string): Promise<ReadResult> {
    return this.serve("readVersion", key, async () => {
      const v = this.store.entries.get(key)?.versions.find((x) => x.versionId === versionId);
      if (!v?.data) throw new Missing();
      return { data: Buffer.from(v.data), revision: v.versionId };
    });
  }

  classify(op: string, url: string, error: unknown): KstateError {
    return classifyCommon(op, url, error)
      ?? new BackendError(describe(op, url, error instanceof Error ? error.message : String(error)), { url, cause: error });
  }

  isTransient(_error: unknown): boolean {
    return false;
  }
}

function check(condition: Condition, current: Revision | undefined): void {
  if (condition.kind === "absent" && current !== undefined) throw new ConditionNotMet(condition);
  if (condition.kind === "match" && condition.revision !== current) {
    throw new ConditionNotMet(condition, current === undefined ? "the file no longer exists" : `now at revision ${current}`);
  }
}
