/**
 * Group names kept from an earlier read (GroupNameHints) only ever make reads earlier, as an
 * invariant over seeded random stores: whatever the names say (right, stale, missing, out of order,
 * names of no group), and whatever changes between the read ahead and the listing (a group made or
 * deleted), `readCluster` and `readClusterValues` give what a read without names gives once the
 * change is made, fail where it fails, and keep the listing's names afterwards. When the names are
 * the listing's, the whole cluster is one round of requests.
 *
 * Seeds are reproducible (KSTATE_HINTS_SEED picks another base; failing seeds are kept in
 * test/fixtures/group-hints-seeds.json and always run).
 */
import * as assert from "node:assert/strict";
import { ClusterStore, type GroupNameHints } from "../../src/store/cluster-store";
import { openPath, resetMemoryStore } from "../../src/vfs";
import { Rng } from "../support/kops-documents";
import { requestsOf, rounds } from "../support/request-rounds";
import { seededTrials } from "../support/seeds";

const NAME = "hints.k8s.example.com";
const UNIVERSE = ["control-plane-a", "nodes-a", "nodes-b", "nodes-c", "bastions", "gpu", "spot-1", "spot-2"];

const groupText = (name: string, size: number) =>
  `apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  name: ${name}\n  labels:\n    kops.k8s.io/cluster: ${NAME}\nspec:\n  role: Node\n  minSize: ${size}\n  maxSize: ${size}\n`;
const CONFIG = `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${NAME}\nspec:\n  kubernetesVersion: 1.30.2\n`;
/** A document that is no InstanceGroup: reading it fails, naming the file. */
const BROKEN = "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: wrong\n";

/** Hints in memory, by cluster URL, as the CLI keeps them on disk. */
class MemoryHints implements GroupNameHints {
  readonly kept = new Map<string, readonly string[]>();
  get(cluster: string) {
    return this.kept.get(cluster);
  }
  set(cluster: string, names: readonly string[]) {
    this.kept.set(cluster, [...names]);
  }
}

/** What a read gave, comparable: each document's text and revision by file, or the failure's kind. */
async function outcome(read: () => Promise<{ config: { text: string } | undefined; groups: Map<string, { text: string; revision?: string }> }>): Promise<unknown> {
  try {
    const r = await read();
    return { config: r.config?.text, groups: [...r.groups].map(([n, d]) => [n, d.text, d.revision ?? "(values)"]) };
  } catch (e) {
    return { failed: (e as Error).name, naming: /instancegroup\/[\w-]+/.exec((e as Error).message)?.[0] };
  }
}

async function trial(seed: number): Promise<void> {
  const r = new Rng(seed);
  const storeName = `hints-${seed}`;
  resetMemoryStore(storeName);
  const root = openPath(`memfs://${storeName}`);
  const folder = root.join(NAME, "instancegroup");
  if (r.chance(0.9)) await root.join(NAME, "config").write(CONFIG);
  const stored = r.some(UNIVERSE, 0.5);
  // At most one broken document: with two, either may be the failure named.
  const broken = r.chance(0.1) && stored.length > 0 ? r.pick(stored) : undefined;
  for (const g of stored) await folder.join(g).write(g === broken ? BROKEN : groupText(g, r.int(0, 9)));

  // The names kept: none, the stored ones, or a random mix of stored, absent and foreign names, in any order.
  const hints = new MemoryHints();
  const cluster = root.join(NAME).url;
  const kind = r.int(0, 3);
  if (kind === 1) hints.set(cluster, [...stored].sort());
  if (kind >= 2) hints.set(cluster, [...r.some(UNIVERSE, 0.5), ...(r.chance(0.3) ? ["gone-long-ago"] : [])].sort(() => r.next() - 0.5));

  // Between the read ahead and the listing, another writer may make or delete a group (a read of
  // the values lists by itself, so nothing changes in between there).
  const useValues = r.chance(0.3);
  const change = useValues ? 0 : r.int(0, 2);
  const absent = UNIVERSE.filter((g) => !stored.includes(g));
  const target = change === 1 && absent.length > 0 ? r.pick(absent) : change === 2 && stored.length > 0 ? r.pick(stored) : undefined;
  const hinted = new ClusterStore(root, hints);
  const given = hints.get(cluster);
  let got: unknown;
  const log = await requestsOf(storeName, async () => {
    if (useValues) {
      got = await outcome(() => hinted.readClusterValues(NAME));
      return;
    }
    const listing = (async () => {
      await new Promise((done) => setImmediate(done));
      if (target !== undefined && change === 1) await folder.join(target).create(groupText(target, 1));
      if (target !== undefined && change === 2) await folder.join(target).remove();
      return hinted.listInstanceGroups(NAME);
    })();
    got = await outcome(() => hinted.readCluster(NAME, listing));
    await listing.catch(() => {});
  });
  const plain = new ClusterStore(root);
  const expected = await outcome(() => (useValues ? plain.readClusterValues(NAME) : plain.readCluster(NAME)));
  assert.deepEqual(got, expected, `hints ${JSON.stringify(given)}, stored ${JSON.stringify(stored)}, broken ${broken}, ${["no change", "made", "deleted"][change]} ${target}`);

  const listed = await plain.listInstanceGroups(NAME);
  if (!("failed" in (expected as object))) assert.deepEqual(hints.get(cluster) ?? [], listed, "the listing's names are kept");
  if (useValues && given !== undefined && JSON.stringify(given) === JSON.stringify([...stored].sort()) && broken === undefined) {
    assert.equal(rounds(log), 1, "named right, the cluster is one round");
  }
}

describe("group names kept from an earlier read (seeded, memfs)", function () {
  seededTrials({
    fixture: "group-hints-seeds.json", variable: "KSTATE_HINTS_SEED", base: 20261201, runs: 300,
    title: "300 random stores, names and changes: the same result as reading without names, and the listing's names kept",
  }, trial);

  it("a cluster whose groups the names give is read in one round; without names, in two", async function () {
    resetMemoryStore("hints-rounds");
    const root = openPath("memfs://hints-rounds");
    await root.join(NAME, "config").write(CONFIG);
    for (const g of UNIVERSE) await root.join(NAME, "instancegroup", g).write(groupText(g, 1));
    const hints = new MemoryHints();
    const store = new ClusterStore(root, hints);
    const first = await requestsOf("hints-rounds", async () => void (await store.readCluster(NAME)));
    const second = await requestsOf("hints-rounds", async () => void (await store.readCluster(NAME)));
    assert.deepEqual([rounds(first), rounds(second)], [2, 1]);
    assert.equal(second.length, first.length, "no read more");
  });
});
