/**
 * What one opener of stores keeps between paths: SDK clients, bucket regions, what a bucket's
 * default encryption is, KMS clients, signing keys. Whoever opens a store owns one (a CLI run, a
 * provider call) and hands it to `openPath` in its options; paths opened with the same context
 * share its clients and what it has learnt. Callers that pass none share `DEFAULT_VFS_CONTEXT`.
 *
 * Each backend names its own caches with `cacheSlot`, so the context needs no change for a new
 * backend (as kops's VFSContext holds each cloud's context).
 */

/** The name and value type of one cache in a context. */
export interface CacheSlot<T> {
  readonly name: string;
  /** Carries the value type only; never set. */
  readonly valueType?: T;
}

export function cacheSlot<T>(name: string): CacheSlot<T> {
  return { name };
}

export class VfsContext {
  private readonly caches = new Map<CacheSlot<unknown>, Map<string, unknown>>();

  /**
   * `readsOnly`: this opener only reads (a `get`, an export), so backends need not learn ahead
   * what a write would need (S3: the bucket's default encryption, which read-only credentials may
   * not even be allowed to ask). A write still works; it learns what it needs when it comes.
   */
  constructor(readonly options: { readsOnly?: boolean } = {}) {}

  /** The cache `slot` names in this context, made empty on first use. */
  cache<T>(slot: CacheSlot<T>): Map<string, T> {
    let cache = this.caches.get(slot);
    if (!cache) {
      cache = new Map<string, unknown>();
      this.caches.set(slot, cache);
    }
    return cache as Map<string, T>;
  }

  /** The value cached under `key` in `slot`, made by `make` the first time. */
  memo<T>(slot: CacheSlot<T>, key: string, make: () => T): T {
    const cache = this.cache(slot);
    if (cache.has(key)) return cache.get(key) as T;
    const value = make();
    cache.set(key, value);
    return value;
  }

  /** Forgets every client and everything learnt (clients are not closed: sockets idle out). */
  clear(): void {
    this.caches.clear();
  }
}

/** The context of callers that open paths without one. */
export const DEFAULT_VFS_CONTEXT = new VfsContext();
