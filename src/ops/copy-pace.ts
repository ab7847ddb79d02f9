/**
 * How many files a migration keeps in flight, and when it starts them.
 *
 * Copies the server makes (both stores of one scheme that copies on the server) hold no bytes
 * here and are alike: one request each, the server doing the work. They run in waves: up to
 * SERVER_COPY_WAVE start together, and the next wave when the last has ended. Every copy of a
 * wave is in flight at the moment the wave's first copy ends, so no two copies of one wave ran one
 * after the other, and the longest chain of requests that did is the number of waves:
 * ⌈files / wave⌉, the least any schedule with that many in flight can have. At 40 ms each way,
 * waves of 256 took the time a rolling window of 64 took (2,000 files: 3.8-3.95 s against
 * 3.77-3.89 s, chain 13 against 38-39), and a wave does not wait long on a copy far slower
 * than its others (a large file): once that copy has taken STRAGGLER times the wave's median, the
 * next wave starts beside it.
 *
 * Copies streamed through this process take time with their size, so they run in a rolling
 * window (a copy starts as soon as one ends). Unless the caller sets a number, the window starts
 * at 16 and doubles while a doubling pays, up to 64: at least a quarter more files per second
 * (far away a doubling nearly doubles the rate, so noise does not pass for a gain). The first
 * doubling that does not pay goes back and settles there. Memory is bounded apart from the count:
 * the bytes of the files in flight stay under a budget, so a run of large files does not multiply
 * memory whatever the count.
 */

/** Files in flight at once, told of each file that finishes. */
export interface Pace {
  readonly limit: number;
  /** Start files in waves, the next when the last has ended (else a rolling window). */
  readonly waves?: boolean;
  finished(): void;
}

/** A number the caller chose (`--concurrency`, the resource's `concurrency`). */
export class FixedPace implements Pace {
  constructor(readonly limit: number) {}
  finished(): void {}
}

/** Copies on the server: `limit` at once, in waves (the caller's number, or SERVER_COPY_WAVE). */
export class WavePace implements Pace {
  readonly waves = true;
  constructor(readonly limit: number) {}
  finished(): void {}
}

/** The most files an adaptive pace keeps in flight, unless told another. */
export const MAX_IN_FLIGHT = 64;

/** Server copies started together (the s3 wire's connections allow as many at once). */
export const SERVER_COPY_WAVE = 256;

/** A copy still running when this many times the wave's median has passed no longer holds the next wave. */
export const STRAGGLER = 4;

export interface AdaptivePaceOptions {
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
    this.limit = 16;
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

/** A wave of copies: how many started together, how many still hold the next, and when each of those started. */
interface Wave {
  size: number;
  left: number;
  readonly running: Set<{ readonly start: number }>;
}

/**
 * Runs `fn` over `items` in order with at most `pace.limit` at once and, past the first, at most
 * `budget` of `weigh`'s units in flight (a single item over the budget still runs, alone with
 * those already running); in waves when `pace.waves` (the module's comment says how). Rejects
 * with the first failure, starting nothing after it.
 */
export function runPaced<T>(items: readonly T[], pace: Pace, fn: (item: T) => Promise<void>, weigh: (item: T) => number = () => 0, budget = Infinity): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let running = 0;
    let weight = 0;
    let failed = false;
    let wave: Wave | undefined;
    let stragglers: ReturnType<typeof setTimeout> | undefined;

    const pump = (): void => {
      if (failed) return;
      if (!pace.waves) start(undefined);
      else if (!wave || wave.left === 0) start(newWave());
      // Slots a straggler of an older wave left: a copy started before any of the current wave's
      // has answered is in flight beside all of them, so it joins that wave.
      else if (wave.left === wave.size) start(wave);
      if (next >= items.length && running === 0) {
        clearTimeout(stragglers);
        resolve();
      }
    };
    const start = (mine: Wave | undefined): void => {
      while (next < items.length && running < pace.limit) {
        const item = items[next]!;
        const w = weigh(item);
        if (running > 0 && weight + w > budget) break;
        next++;
        running++;
        weight += w;
        const run = { start: performance.now() };
        if (mine) {
          mine.size = ++mine.left;
          mine.running.add(run);
        }
        new Promise<void>((done) => done(fn(item))).then(() => {
          running--;
          weight -= w;
          pace.finished();
          if (mine) finishedIn(mine, run);
          pump();
        }, (e: unknown) => {
          failed = true;
          clearTimeout(stragglers);
          reject(e);
        });
      }
    };
    const newWave = (): Wave => {
      clearTimeout(stragglers);
      wave = { size: 0, left: 0, running: new Set() };
      return wave;
    };
    const finishedIn = (w: Wave, run: { readonly start: number }): void => {
      if (failed || w !== wave || w.left === 0) return; // a straggler of a wave already let go
      w.left--;
      w.running.delete(run);
      // Half the wave has finished, so its median is known (this copy's time): once every copy
      // still running has run STRAGGLER times that, they stop holding the next wave, which starts
      // beside them.
      if (w.left > 0 && w.size - w.left === Math.ceil(w.size / 2) && next < items.length) {
        const now = performance.now();
        const latest = Math.max(...[...w.running].map((r) => r.start));
        stragglers = setTimeout(() => {
          if (w !== wave) return;
          w.left = 0;
          pump();
        }, Math.max(0, latest + STRAGGLER * (now - run.start) - now));
      }
    };
    pump();
  });
}
