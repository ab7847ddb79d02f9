/**
 * What a command asked of a watched `memfs://` store (see `watchMemoryStore`): its requests, and
 * the rounds it waited for one after another. Counts are behaviour; no time is measured.
 */
import { type ServedRequest, watchMemoryStore } from "../../src/vfs/memory/backend";

export type { ServedRequest };

/**
 * The longest chain of requests each started after the one before it ended: the round trips a
 * command waits for in a row, whatever each costs (at 40 ms a request, 40 ms each).
 */
export function rounds(log: readonly ServedRequest[]): number {
  const byEnd = [...log].sort((a, b) => a.end - b.end);
  const chain = new Map<ServedRequest, number>();
  for (const r of [...log].sort((a, b) => a.start - b.start)) {
    let longest = 0;
    for (const q of byEnd) {
      if (q.end > r.start) break;
      longest = Math.max(longest, chain.get(q) ?? 0);
    }
    chain.set(r, longest + 1);
  }
  return Math.max(0, ...chain.values());
}

/** The requests of one operation, by key, each as often as it was made: `{ "c/config": 1 }`. */
export function counted(log: readonly ServedRequest[], op: ServedRequest["op"]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of log) if (r.op === op) out[r.key] = (out[r.key] ?? 0) + 1;
  return out;
}

/** Watches `memfs://name` while `run` runs: the requests it made. */
export async function requestsOf(name: string, run: () => Promise<void>): Promise<ServedRequest[]> {
  const log = watchMemoryStore(name);
  await run();
  return [...log];
}
