/**
 * What the reliability tests count, written to bench/results/reliability.json when the run ends
 * (by the root hook in hooks.ts). Each scenario records how many trials it ran and what it found:
 * files lost or corrupt, acknowledged updates lost, and anything else worth a figure. A test
 * asserts on its own counters too; the file is the record of the run.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface ScenarioFigures {
  /** Trials (faults injected, kills, writers, bad inputs) the scenario ran. */
  trials: number;
  /** Files that should be in the store and were not. */
  lostFiles: number;
  /** Files present but neither the old nor the new version (half-written, mixed, damaged). */
  corruptFiles: number;
  /** Changes acknowledged to the caller and missing at the end. */
  lostUpdates: number;
  /** Other figures: conflicts, latencies, rejected inputs, … */
  [figure: string]: number | string | boolean | number[] | Record<string, unknown>;
}

const scenarios = new Map<string, ScenarioFigures>();

/**
 * Adds `figures` to the scenario's record (numbers are summed over calls; other values replace).
 * Call once per trial or once per scenario, as suits the test.
 */
export function record(scenario: string, figures: Partial<ScenarioFigures>): void {
  const current: ScenarioFigures = scenarios.get(scenario) ?? { trials: 0, lostFiles: 0, corruptFiles: 0, lostUpdates: 0 };
  for (const [k, v] of Object.entries(figures)) {
    if (v === undefined) continue;
    const before = current[k];
    current[k] = typeof v === "number" && typeof before === "number" ? before + v : v;
  }
  scenarios.set(scenario, current);
}

export function figures(): Record<string, ScenarioFigures> {
  return Object.fromEntries([...scenarios].sort(([a], [b]) => a.localeCompare(b)));
}

export const RESULTS = path.resolve(__dirname, "..", "..", "..", "bench", "results", "reliability.json");

/** Writes the record; totals across scenarios first. */
export function writeReport(startedAt: Date, failedTests: number): void {
  const all = figures();
  const sum = (k: "trials" | "lostFiles" | "corruptFiles" | "lostUpdates") => Object.values(all).reduce((n, s) => n + s[k], 0);
  const report = {
    date: startedAt.toISOString(),
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    failedTests,
    totals: { trials: sum("trials"), lostFiles: sum("lostFiles"), corruptFiles: sum("corruptFiles"), lostUpdates: sum("lostUpdates") },
    scenarios: all,
  };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
}
