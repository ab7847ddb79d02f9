/**
 * Waves of copies (ops/copy-pace.ts), as invariants over seeded random runs: every item runs once,
 * in order; never more than the limit in flight, nor more than the budget's bytes; and the longest
 * chain of runs one after another (the bench's measure, test/support/counting-proxy.ts) is the
 * number of waves, ⌈items / limit⌉, whatever the durations, as long as no copy straggles. A copy
 * that does (far slower than its wave's others) does not hold the next waves.
 *
 * Seeds are reproducible (KSTATE_WAVES_SEED picks another base; failing seeds are kept in
 * test/fixtures/copy-waves-seeds.json and always run).
 */
import * as assert from "node:assert/strict";
import { FixedPace, runPaced, STRAGGLER, WavePace } from "../../src/ops/copy-pace";
import { longestChain } from "../support/counting-proxy";
import { Rng } from "../support/kops-documents";
import { seededTrials } from "../support/seeds";

const BASE_SEED = 20261201;
/** Durations within STRAGGLER times each other: no copy straggles. */
const SHORTEST_MS = 4;
const LONGEST_MS = 12;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ran {
  item: number;
  start: number;
  end: number;
}

/** Runs `durations` (ms each) through runPaced; checks the limit and the budget as they run. */
async function run(durations: readonly number[], pace: WavePace | FixedPace, weights?: readonly number[], budget?: number): Promise<Ran[]> {
  const ran: Ran[] = [];
  let running = 0;
  let weight = 0;
  await runPaced(durations.map((ms, item) => ({ ms, item, w: weights?.[item] ?? 0 })), pace, async ({ ms, item, w }) => {
    running++;
    weight += w;
    assert.ok(running <= pace.limit, `${running} in flight, limit ${pace.limit}`);
    if (budget !== undefined && running > 1) assert.ok(weight <= budget, `${weight} bytes in flight, budget ${budget}`);
    const start = performance.now();
    await sleep(ms);
    ran.push({ item, start, end: performance.now() });
    running--;
    weight -= w;
  }, ({ w }) => w, budget);
  return ran;
}

async function trial(seed: number): Promise<void> {
  const r = new Rng(seed);
  const limit = r.int(1, 40);
  const items = r.int(0, 8 * limit);
  const durations = Array.from({ length: items }, () => r.int(SHORTEST_MS, LONGEST_MS));
  const ran = await run(durations, new WavePace(limit));
  const started = [...ran].sort((a, b) => a.start - b.start || a.item - b.item).map((x) => x.item);
  assert.deepEqual(started, [...Array(items).keys()], "every item once, started in order");
  assert.equal(longestChain(ran), Math.ceil(items / limit), `${items} items, ${limit} at once: the chain is the number of waves`);
}

describe("waves of copies (seeded)", function () {
  this.timeout(120_000);
  seededTrials({
    fixture: "copy-waves-seeds.json", variable: "KSTATE_WAVES_SEED", base: BASE_SEED, runs: 40,
    title: "40 random runs: each item once, in order, at most the limit at once, and a chain of ⌈items / limit⌉",
  }, trial);

  it("a rolling window of the same limit runs longer chains than waves where durations vary (what waves are for)", async function () {
    const r = new Rng(BASE_SEED);
    const durations = Array.from({ length: 160 }, () => r.int(SHORTEST_MS, 3 * SHORTEST_MS));
    const rolling = longestChain(await run(durations, new FixedPace(16)));
    const waves = longestChain(await run(durations, new WavePace(16)));
    assert.equal(waves, 10);
    assert.ok(rolling > waves, `rolling window: chain ${rolling}, waves: ${waves}`);
  });

  it(`a copy that straggles (past ${STRAGGLER} times its wave's median) does not hold the next waves`, async function () {
    const durations = Array.from({ length: 24 }, (_, i) => (i === 1 ? 600 : 5));
    const ran = await run(durations, new WavePace(4));
    const straggler = ran.find((x) => x.item === 1)!;
    const others = ran.filter((x) => x.item !== 1);
    assert.ok(others.every((x) => x.end < straggler.end), "every other copy ended while the straggler ran");
    // Beside the straggler the waves are 3 wide: 4 + 3 × ⌈20 / 3⌉ runs, 1 + 7 waves.
    assert.ok(longestChain(ran) <= 8, `chain ${longestChain(ran)}`);
  });

  it("slots a straggler of an older wave frees join the current wave while none of it has answered", async function () {
    // Waves of 4: 2 and 3 straggle; the next wave is 4 and 5 (5 straggles), the next 6 alone, long.
    // When 2 and 3 end, 7 and 8 join 6's wave, and the short copies after them do not wait for 6.
    const durations = [5, 5, 200, 200, 5, 800, 800, ...Array.from({ length: 30 }, () => 10)];
    const ran = await run(durations, new WavePace(4));
    const longest = Math.min(...ran.filter((x) => x.item === 5 || x.item === 6).map((x) => x.end));
    const short = ran.filter((x) => x.item >= 7);
    assert.ok(short.every((x) => x.end < longest), `the short copies ended by ${Math.max(...short.map((x) => x.end - ran[0]!.start)).toFixed(0)} ms, the long ones at ${(longest - ran[0]!.start).toFixed(0)}`);
  });

  it("keeps the bytes in flight under the budget: a wave ends where the budget does", async function () {
    const weights = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 100 : 40));
    const ran = await run(weights.map(() => 5), new WavePace(16), weights, 250);
    assert.equal(ran.length, 30);
  });

  it("rejects with the first failure and starts nothing after it", async function () {
    const started: number[] = [];
    await assert.rejects(runPaced([...Array(20).keys()], new WavePace(4), async (i) => {
      started.push(i);
      await sleep(2);
      if (i === 5) throw new Error("boom 5");
    }), /boom 5/);
    await sleep(20);
    assert.deepEqual(started, [...Array(8).keys()], "the wave with the failure ran; no wave after it started");
  });
});
