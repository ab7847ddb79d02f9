/**
 * The two tests of a seeded property: the seeds that once failed, kept in a fixture file
 * (`{ "seeds": [...] }`) and always replayed; then `runs` seeds from a base the environment may
 * move, each failure naming its seed, the variable that replays it and the file to keep it in.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface SeededOptions {
  /** The fixture, under test/fixtures. */
  fixture: string;
  /** The environment variable that picks another base seed. */
  variable: string;
  base: number;
  runs: number;
  /** The second test's title (given the base seed). */
  title: string | ((base: number) => string);
}

export function seededTrials(options: SeededOptions, trial: (seed: number) => Promise<void>): void {
  const file = path.resolve(__dirname, "..", "..", "..", "test", "fixtures", options.fixture);
  const shown = `fixtures/${options.fixture}`;
  const base = Number(process.env[options.variable] ?? options.base);
  const kept: number[] = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { seeds: number[] }).seeds : [];

  it(`the seeds that once failed (${shown})`, async function () {
    for (const seed of kept) await trial(seed);
  });

  it(typeof options.title === "string" ? options.title : options.title(base), async function () {
    for (let i = 0; i < options.runs; i++) {
      const seed = base + i;
      try {
        await trial(seed);
      } catch (e) {
        (e as Error).message = `seed ${seed} (${options.variable}=${seed} reproduces it as the first run; keep it in ${shown}): ${(e as Error).message}`;
        throw e;
      }
    }
  });
}
