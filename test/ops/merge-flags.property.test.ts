/**
 * The merge promise as an invariant over seeded random histories: a cluster is created with
 * random zones, topology and sizes, edited by hand (a size, a group of the user's own, a
 * comment), then given random sets of flags as merges. After every merge:
 *
 *   - every field that changed is one the given flags name (the table of src/ops/expand.ts);
 *   - the user's own group and the comment are untouched;
 *   - a named field holds the flag's value;
 *   - a refused merge changed nothing at all.
 *
 * Seeds are reproducible (KSTATE_MERGE_SEED picks another base; failing seeds are kept in
 * test/fixtures/merge-seeds.json and always run).
 */
import * as assert from "node:assert/strict";
import { applyCluster, planCluster } from "../../src/ops/cluster";
import type { ClusterOptions } from "../../src/ops/options";
import { ClusterStore } from "../../src/store/cluster-store";
import { parseYaml } from "../../src/store/yaml";
import { openPath, resetMemoryStore, type VfsPath } from "../../src/vfs";
import { seededTrials } from "../support/seeds";

const NAME = "prop.k8s.example.com";
const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"];
const RUNS = 150;
const MERGES = 4;

type Doc = Record<string, any>;

function rng(seed: number): { next(): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return { next, pick: (xs) => xs[Math.floor(next() * xs.length)]!, chance: (p) => next() < p };
}

/** Every leaf of a document as `path = JSON value` (named list items keyed by name). */
function leaves(v: unknown, at: string, out: Map<string, string>): void {
  if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && typeof (x as Doc).name === "string")) {
    for (const x of v as Doc[]) leaves(x, `${at}[name=${x.name}]`, out);
  } else if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) leaves(x, at ? `${at}.${k}` : k, out);
  } else out.set(at, JSON.stringify(v));
}

async function readAll(folder: VfsPath): Promise<Map<string, { text: string; fields: Map<string, string> }>> {
  const out = new Map<string, { text: string; fields: Map<string, string> }>();
  for (const f of await folder.listTree()) {
    const text = (await folder.join(f.path).read()).data.toString();
    const fields = new Map<string, string>();
    const doc = parseYaml(text, f.path).toJS() as Doc;
    delete doc.metadata?.generation;
    delete doc.metadata?.managedFields;
    leaves(doc, "", fields);
    out.set(f.path, { text, fields });
  }
  return out;
}

/** The (file, field) pairs a set of flags may change on an existing cluster. */
function named(o: ClusterOptions, newZones: string[]): (file: string, field: string) => boolean {
  const nodes = (f: string) => /^instancegroup\/nodes-/.test(f);
  const cp = (f: string) => /^instancegroup\/control-plane-/.test(f);
  return (file, field) => {
    if (newZones.some((z) => file === `instancegroup/nodes-${z}`)) return true;
    if (file === "config" && newZones.some((z) => field.startsWith(`spec.subnets[name=${z}]`) || field.startsWith(`spec.subnets[name=utility-${z}]`))) return true;
    if (o.nodeCount && nodes(file) && /^spec\.(minSize|maxSize)$/.test(field)) return true;
    if (o.nodeSize !== undefined && nodes(file) && /^spec\.(machineType|mixedInstancesPolicy)/.test(field)) return true;
    if (o.controlPlaneSize !== undefined && cp(file) && /^spec\.(machineType|mixedInstancesPolicy)/.test(field)) return true;
    if ((o.nodeImage ?? o.image) !== undefined && nodes(file) && field === "spec.image") return true;
    if ((o.controlPlaneImage ?? o.image) !== undefined && cp(file) && field === "spec.image") return true;
    if (o.nodeVolumeSize !== undefined && nodes(file) && field === "spec.rootVolumeSize") return true;
    if (o.kubernetesVersion !== undefined && file === "config" && field === "spec.kubernetesVersion") return true;
    if (o.adminAccess !== undefined && file === "config" && /^spec\.(kubernetesApiAccess|sshAccess)/.test(field)) return true;
    return false;
  };
}

function randomFlags(r: ReturnType<typeof rng>, zones: string[]): ClusterOptions {
  const o: ClusterOptions = {};
  if (r.chance(0.35)) o.nodeCount = Math.floor(r.next() * 9);
  if (r.chance(0.35)) o.nodeSize = r.chance(0.3) ? ["m5.large", "m5a.large"] : r.pick(["m5.large", "m5.xlarge", "c5.2xlarge"]);
  if (r.chance(0.25)) o.controlPlaneSize = r.pick(["m5.xlarge", "m5.2xlarge"]);
  if (r.chance(0.2)) o.kubernetesVersion = r.pick(["v1.30.2", "v1.30.3", "v1.31.0"]);
  if (r.chance(0.15)) o.image = r.pick(["ubuntu/a", "ubuntu/b"]);
  if (r.chance(0.15)) o.nodeImage = r.pick(["ubuntu/c", "ubuntu/d"]);
  if (r.chance(0.2)) o.nodeVolumeSize = r.pick([40, 64, 128]);
  if (r.chance(0.15)) o.adminAccess = [r.pick(["10.0.0.0/8", "192.168.0.0/16"])];
  if (r.chance(0.25)) o.zones = [...zones.filter(() => r.chance(0.5)), r.pick(ZONES)];
  // Flags kops cannot apply to a running cluster, now and then.
  if (r.chance(0.08)) o.networkCidr = "10.9.0.0/16";
  if (r.chance(0.08)) o.cloud = "gce";
  if (r.chance(0.06)) o.controlPlaneCount = 3;
  if (Object.keys(o).length === 0) o.nodeCount = 2;
  return o;
}

async function history(seed: number): Promise<void> {
  const r = rng(seed);
  const store = `memfs://prop-${seed}`;
  resetMemoryStore(`prop-${seed}`);
  const cs = new ClusterStore(openPath(store));
  const folder = openPath(store).join(NAME);
  const zones = ZONES.slice(0, 1 + Math.floor(r.next() * 3));
  const base: ClusterOptions = { cloud: "aws", zones, kubernetesVersion: "v1.30.2", nodeSize: "m5.large", controlPlaneSize: "m5.xlarge", ...(r.chance(0.4) ? { topology: "private" as const } : {}) };
  await applyCluster(cs, { name: NAME, storeUrl: store, options: base });

  // A cluster as a user has it: a size set by hand, a group of their own, a comment.
  const ig = folder.join("instancegroup", `nodes-${zones[0]}`);
  await ig.write((await ig.read()).data.toString().replace(/maxSize: \d+/, "maxSize: 10"));
  const gpu = `apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  labels:\n    kops.k8s.io/cluster: ${NAME}\n  name: gpu-workers\nspec:\n  machineType: p3.2xlarge\n  maxSize: 2\n  minSize: 0\n  role: Node\n  subnets:\n  - ${zones[0]}\n`;
  await folder.join("instancegroup", "gpu-workers").write(gpu);
  const config = folder.join("config");
  await config.write((await config.read()).data.toString().replace("spec:\n", "spec:\n  # the user's own note\n"));

  for (let m = 0; m < MERGES; m++) {
    const before = await readAll(folder);
    const storedZones = [...before.keys()].filter((f) => f.startsWith("instancegroup/nodes-")).map((f) => f.slice("instancegroup/nodes-".length));
    const flags = randomFlags(r, storedZones);
    const where = `seed ${seed}, merge ${m + 1}: ${JSON.stringify(flags)}`;
    const plan = await planCluster(cs, { name: NAME, storeUrl: store, options: flags });
    if (plan.problems.length === 0) await applyCluster(cs, { name: NAME, storeUrl: store, options: flags });
    const after = await readAll(folder);
    if (plan.problems.length > 0) {
      assert.deepEqual([...after].map(([f, d]) => [f, d.text]), [...before].map(([f, d]) => [f, d.text]), `${where}: refused (${plan.problems.map((p) => p.message).join("; ")}), and yet something changed`);
      continue;
    }
    const newZones = (flags.zones ?? []).filter((z) => !before.has(`instancegroup/nodes-${z}`) && !storedZones.includes(z));
    const allowed = named(flags, newZones);
    for (const file of new Set([...before.keys(), ...after.keys()])) {
      const b = before.get(file)?.fields ?? new Map<string, string>();
      const a = after.get(file)?.fields ?? new Map<string, string>();
      for (const field of new Set([...b.keys(), ...a.keys()])) {
        if (b.get(field) === a.get(field)) continue;
        assert.ok(allowed(file, field), `${where}: ${file} ${field} changed (${b.get(field)} -> ${a.get(field)}), which no given flag names`);
      }
    }
    assert.equal(after.get("instancegroup/gpu-workers")!.text, gpu, `${where}: the user's own group changed`);
    assert.match(after.get("config")!.text, /# the user's own note/, `${where}: the comment went`);
    // A named field holds the flag's value.
    const sizes = Array.isArray(flags.nodeSize) ? flags.nodeSize : flags.nodeSize ? [flags.nodeSize] : [];
    for (const [file, d] of after) {
      if (!file.startsWith("instancegroup/nodes-")) continue;
      if (sizes.length) assert.equal(d.fields.get("spec.machineType"), JSON.stringify(sizes[0]), `${where}: ${file} machineType`);
      if (flags.nodeVolumeSize !== undefined) assert.equal(d.fields.get("spec.rootVolumeSize"), String(flags.nodeVolumeSize), `${where}: ${file} rootVolumeSize`);
    }
    // kops's 0 is "not given".
    if (flags.nodeCount) {
      const total = [...after].filter(([f]) => f.startsWith("instancegroup/nodes-")).reduce((n, [, d]) => n + Number(d.fields.get("spec.minSize")), 0);
      assert.equal(total, flags.nodeCount, `${where}: the node count is shared out whole`);
    }
  }
}

describe("merging flags into a cluster: random histories (property)", function () {
  this.timeout(300_000);
  seededTrials({
    fixture: "merge-seeds.json", variable: "KSTATE_MERGE_SEED", base: 20261129, runs: RUNS,
    title: (base) => `${RUNS} histories of ${MERGES} merges from base seed ${base}: only named fields change; refusals change nothing`,
  }, history);
});
