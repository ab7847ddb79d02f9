import * as assert from "node:assert/strict";
import { AdaptivePace, FixedPace, type Pace, runPaced } from "../../src/ops/copy-pace";

/**
 * The limits an adaptive pace goes through over `files` files against a store that serves
 * `rate(limit)` files per second, on a clock that moves by each file's share of a second.
 */
function limitsOver(rate: (inFlight: number) => number, files = 2000): number[] {
  let now = 0;
  const pace = new AdaptivePace({ now: () => now });
  const seen = [pace.limit];
  for (let i = 0; i < files; i++) {
    now += 1000 / rate(pace.limit);
    pace.finished();
    if (pace.limit !== seen[seen.length - 1]) seen.push(pace.limit);
  }
  return seen;
}

/** A store `roundTripMs` away that serves at most `capacity` files per second. */
const store = (roundTripMs: number, capacity: number) => (inFlight: number) => Math.min(inFlight / (roundTripMs / 1000), capacity);

describe("the pace of a migration's copies", function () {
  const cases = [
    { name: "far away (85 ms a round trip), a store that keeps up: grows to the cap", rate: store(85, 2000), limits: [16, 32, 64] },
    { name: "on loopback, the store's work sets the pace: one doubling that does not pay, back to 16", rate: store(1, 600), limits: [16, 32, 16] },
    { name: "far away, a store that serves 300 files/s: grows while it pays, back to 32", rate: store(85, 300), limits: [16, 32, 64, 32] },
  ];
  for (const c of cases) {
    it(c.name, function () {
      assert.deepEqual(limitsOver(c.rate), c.limits);
    });
  }

  it("a short run stays at the start: too few files to measure a doubling", function () {
    assert.deepEqual(limitsOver(store(85, 2000), 40), [16]);
  });

  /** Runs `items` (weights) through runPaced; records the most in flight, by count and by weight. */
  async function observe(items: number[], pace: Pace, budget?: number): Promise<{ most: number; mostWeight: number; order: number[] }> {
    let running = 0;
    let weight = 0;
    const seen = { most: 0, mostWeight: 0, order: [] as number[] };
    await runPaced(items.map((w, i) => ({ w, i })), pace, async ({ w, i }) => {
      running++;
      weight += w;
      assert.ok(running <= pace.limit, `${running} in flight, limit ${pace.limit}`);
      seen.most = Math.max(seen.most, running);
      seen.mostWeight = Math.max(seen.mostWeight, weight);
      seen.order.push(i);
      await new Promise((r) => setImmediate(r));
      running--;
      weight -= w;
    }, ({ w }) => w, budget);
    return seen;
  }

  it("a fixed pace keeps exactly its number in flight, in order", async function () {
    const seen = await observe(Array.from({ length: 50 }, () => 1), new FixedPace(7));
    assert.equal(seen.most, 7);
    assert.deepEqual(seen.order, [...Array(50).keys()]);
  });

  it("follows a limit that grows during the run", async function () {
    let done = 0;
    const pace: Pace = { get limit() { return done < 10 ? 2 : 6; }, finished() { done++; } };
    const seen = await observe(Array.from({ length: 60 }, () => 1), pace);
    assert.equal(seen.most, 6);
  });

  it("keeps the bytes in flight under the budget; a file over it runs with nothing new beside it", async function () {
    const seen = await observe([300, 100, 100, 100, 50, 50, 50, 50, 50, 50], new FixedPace(16), 250);
    assert.equal(seen.mostWeight, 300, "the 300 ran, and nothing started beside it");
    const small = await observe(Array.from({ length: 40 }, () => 50), new FixedPace(16), 250);
    assert.equal(small.most, 5);
    assert.equal(small.mostWeight, 250);
  });

  it("rejects with the first failure and starts nothing after it", async function () {
    const started: number[] = [];
    await assert.rejects(runPaced([...Array(20).keys()], new FixedPace(2), async (i) => {
      started.push(i);
      await new Promise((r) => setImmediate(r));
      if (i === 3) throw new Error("boom 3");
    }), /boom 3/);
    await new Promise((r) => setImmediate(r));
    assert.ok(Math.max(...started) <= 4, `started ${started.join(",")}`);
  });

  it("an empty list is done at once", async function () {
    await runPaced([], new FixedPace(4), async () => assert.fail("nothing to run"));
  });
});
