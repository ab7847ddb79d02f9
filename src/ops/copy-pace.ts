/**
 * How many files a migration keeps in flight. A store far away answers each request in tens of
 * milliseconds, and then files per second grow with the files in flight; on loopback the store's
 * own work sets the pace and more in flight buys nothing but memory. So, unless the caller sets a
 * number (or a start: copies made on the server, which hold no bytes here, start at the most),
 * the pace starts at 16 and doubles while a doubling pays, up to 64: at least a quarter
 * more files per second (far away a doubling nearly doubles the rate, so noise does not pass for
 * a gain). The first doubling that does not pay goes back and settles there. Memory is bounded
 * apart from the count: the bytes of the files in flight stay under a budget, so a run of large
 * files does not multiply memory whatever the count.
 */

/** Files in flight at once, told of each file that finishes. */
export interface Pace {
  readonly limit: number;
  finished(): void;
}

/** A number the caller chose (`--concurrency`, the resource's `concurrency`). */
export class FixedPace implements Pace {
  constructor(readonly limit: number) {}
  finished(): void {}
}

/** The most files an adaptive pace keeps in flight, unless told another. */
export const MAX_IN_FLIGHT = 64;

export interface AdaptivePaceOptions {
  /** Default 16. */
  start?: number;
  /** Default MAX_IN_FLIGHT. */
  max?: number;
  /** A doubling pays when files per second grow by this factor; default 1.25. */
  gain?: number;
  /** Milliseconds, for the rate; default `performance.now`. */
  now?: () => number;
}

/**
 * Measures files per second at each limit: after a change, the first `limit` files finish
 * (those started before it, and the ramp), then the next `4 × limit` are timed, about four round
 * trips' worth at that limit.
 */
export class AdaptivePace implements Pace {
  limit: number;
  private readonly max: number;
  private readonly gain: number;
  private readonly now: () => number;
  private settled = false;
  private counted = 0;
  private timing = false;
  private windowStart = 0;
  private previousRate: number | undefined;

  constructor(options: AdaptivePaceOptions = {}) {
    this.limit = options.start ?? 16;
    this.max = options.max ?? MAX_IN_FLIGHT;
    this.gain = options.gain ?? 1.25;
    this.now = options.now ?? (() => performance.now());
  }

  finished(): void {
    if (this.settled) return;
    this.counted++;
    if (!this.timing) {
      if (this.counted < this.limit) return;
      this.timing = true;
      this.counted = 0;
      this.windowStart = this.now();
      return;
    }
    if (this.counted < 4 * this.limit) return;
    const rate = this.counted / Math.max(this.now() - this.windowStart, 1e-3);
    if (this.previousRate !== undefined && rate < this.previousRate * this.gain) {
      this.limit /= 2;
      this.settled = true;
      return;
    }
    if (this.limit >= this.max) {
      this.settled = true;
      return;
    }
    this.previousRate = rate;
    this.limit = Math.min(this.limit * 2, this.max);
    this.timing = false;
    this.counted = 0;
  }
}

/**
 * Runs `fn` over `items` in order with at most `pace.limit` at once and, past the first, at most
 * `budget` of `weigh`'s units in flight (a single item over the budget still runs, alone with
 * those already running). Rejects with the first failure, starting nothing after it.
 */
export function runPaced<T>(items: readonly T[], pace: Pace, fn: (item: T) => Promise<void>, weigh: (item: T) => number = () => 0, budget = Infinity): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let running = 0;
    let weight = 0;
    let failed = false;
    const pump = (): void => {
      if (failed) return;
      while (next < items.length && running < pace.limit) {
        const item = items[next]!;
        const w = weigh(item);
        if (running > 0 && weight + w > budget) break;
        next++;
        running++;
        weight += w;
        fn(item).then(() => {
          running--;
          weight -= w;
          pace.finished();
          pump();
        }, (e: unknown) => {
          failed = true;
          reject(e);
        });
      }
      if (next >= items.length && running === 0) resolve();
    };
    pump();
  });
}
