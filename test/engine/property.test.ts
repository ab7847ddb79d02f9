/**
 * Random sequences of ordinary program changes, applied by two stacks to one store through the
 * real Pulumi CLI. After every step:
 *   - the changes `preview` listed are exactly the changes in the stored bytes after `up`;
 *   - no field another manager owns changed, and no document it owns something in went away;
 *   - a second `up` is a no-op, byte for byte;
 *   - `refresh` reports nothing, and `preview` after it is clean;
 * and a step that preview refuses (a conflict, an invalid cluster, a shared cluster's creator
 * destroyed) is refused by `up` too, with the store byte-identical.
 *
 * The same sequences run two ways. Through the provider in this process, driven as the engine
 * drives it (check, diff, create/update/delete, read): 4 sequences of 100 steps, fast. And through
 * the real Pulumi CLI, each stack's program in a process of its own, where each operation costs
 * seconds of CPU: 4 sequences side by side, 20 steps in all under `npm test`, 200 under
 * `npm run test:property` (KSTATE_PROPERTY_STEPS). After every step `up` is followed by
 * `refresh`, which must find nothing; every fifth step also runs a second `up` and a `preview`.
 *
 * KSTATE_PROPERTY_SEED picks the first seed (else a fresh one, printed in the test's name; the
 * others follow it). Seeds that once failed are kept in test/fixtures/property/seeds.json and
 * replayed first, both ways.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ClusterConfigArgs } from "../../src";
import { type ClusterConfigInputs, type ClusterConfigOutputs, provider } from "../../src/providers/cluster-config";
import { valueAt } from "../../src/ops/cluster";
import { parsePath } from "../../src/store/field-path";
import { BEFORE_FIRST_APPLY, ownersOf } from "../../src/store/managed-fields";
import { parseYaml } from "../../src/store/yaml";
import { openPath, type VfsPath } from "../../src/vfs";
import { uniqueName } from "../support/env";
import { StackProcess } from "../support/stack-process";
import { describeStoredChanges, type Files, previewedChanges, readFolder, sorted } from "../support/store-changes";

const CLUSTER = "prop.k8s.example.com";
const SEEDS_FILE = path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "property", "seeds.json");
const ENGINE_STEPS = Number(process.env.KSTATE_PROPERTY_STEPS ?? 20);
const PROVIDER_STEPS = 100;
const SEQUENCES = 4;

/** mulberry32: a small seeded generator, so a seed names one sequence forever. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Doc = Record<string, unknown>;

/** One stack's program, as plain data the generator changes. */
interface Program {
  present: boolean;
  spelling: number;
  options?: { cloud: string; zones: string[]; nodeSize: string; nodeCount?: number; kubernetesVersion: string };
  spec: Record<string, Doc | unknown>;
  groups: Record<string, Doc>;
  secrets: Record<string, string>;
}

type Who = "a" | "b";

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function initial(): Record<Who, Program> {
  return {
    a: { present: true, spelling: 0, options: { cloud: "aws", zones: ["us-east-1a"], nodeSize: "m5.large", kubernetesVersion: "v1.30.2" }, spec: {}, groups: {}, secrets: {} },
    b: { present: false, spelling: 0, spec: {}, groups: {}, secrets: {} },
  };
}

const SPEC_FIELDS: { path: string[]; values: unknown[] }[] = [
  { path: ["kubelet", "maxPods"], values: [100, 110, 120] },
  { path: ["kubelet", "cpuCFSQuota"], values: [true, false] },
  { path: ["kubeAPIServer", "maxRequestsInflight"], values: [400, 800] },
  { path: ["kubeControllerManager", "horizontalPodAutoscalerSyncPeriod"], values: ["15s", "30s"] },
];

function setPath(obj: Doc, p: string[], v: unknown): void {
  let node = obj;
  for (const k of p.slice(0, -1)) node = (node[k] ??= {}) as Doc;
  node[p[p.length - 1]!] = v;
}

function unsetPath(obj: Doc, p: string[]): void {
  const parents: Doc[] = [];
  let node: Doc | undefined = obj;
  for (const k of p.slice(0, -1)) {
    parents.push(node!);
    node = node?.[k] as Doc | undefined;
    if (!node) return;
  }
  delete node[p[p.length - 1]!];
  for (let i = p.length - 2; i >= 0; i--) {
    const parent = parents[i]!;
    if (Object.keys(parent[p[i]!] as Doc).length === 0) delete parent[p[i]!];
  }
}

/** One random change to the world; its name says what it is. */
function mutate(world: Record<Who, Program>, rnd: () => number): { who: Who; what: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const who: Who = world.b.present ? pick(["a", "a", "b"] as const) : rnd() < 0.12 ? "b" : "a";
  const p = world[who];
  if (!p.present) {
    p.present = true;
    if (who === "a") Object.assign(p, initial().a);
    return { who, what: "stack added" };
  }
  const kinds = ["spec set", "spec set", "spec unset", "group add", "group change", "group remove", "secret", "spelling", "destroy"];
  if (p.options) kinds.push("node size", "node count", "kubernetes version", "zones");
  const kind = pick(kinds);
  switch (kind) {
    case "node size": p.options!.nodeSize = pick(["m5.large", "m5.xlarge", "t3.large"]); return { who, what: `${kind} ${p.options!.nodeSize}` };
    case "node count": p.options!.nodeCount = pick([1, 2, 3]); return { who, what: `${kind} ${p.options!.nodeCount}` };
    case "kubernetes version": p.options!.kubernetesVersion = pick(["v1.30.2", "v1.30.5", "v1.31.0"]); return { who, what: `${kind} ${p.options!.kubernetesVersion}` };
    case "zones": p.options!.zones = pick([["us-east-1a"], ["us-east-1a", "us-east-1b"], ["us-east-1a", "us-east-1b", "us-east-1c"]]); return { who, what: `${kind} ${p.options!.zones.join(",")}` };
    case "spec set": {
      const f = pick(SPEC_FIELDS);
      const v = pick(f.values);
      setPath(p.spec as Doc, f.path, v);
      return { who, what: `spec ${f.path.join(".")}=${JSON.stringify(v)}` };
    }
    case "spec unset": {
      const f = pick(SPEC_FIELDS);
      unsetPath(p.spec as Doc, f.path);
      return { who, what: `spec unset ${f.path.join(".")}` };
    }
    case "group add": {
      const name = pick(["gpu", "batch", `${who}-extra`]);
      p.groups[name] = { role: "Node", subnets: ["us-east-1a"], machineType: pick(["p3.2xlarge", "c5.large"]), minSize: pick([0, 1]), maxSize: pick([1, 3]) };
      return { who, what: `group add ${name}` };
    }
    case "group change": {
      const name = pick([...Object.keys(p.groups), "nodes-us-east-1a"]);
      const g = (p.groups[name] ??= {});
      if (rnd() < 0.5) g.maxSize = pick([1, 2, 5]);
      else g.nodeLabels = { team: pick(["red", "blue"]) };
      return { who, what: `group change ${name} ${JSON.stringify(g)}` };
    }
    case "group remove": {
      const names = Object.keys(p.groups);
      if (names.length === 0) return { who, what: "group remove (none)" };
      const name = pick(names);
      delete p.groups[name];
      return { who, what: `group remove ${name}` };
    }
    case "secret": {
      const name = pick([`${who}-one`, `${who}-two`, "shared"]);
      if (name in p.secrets && rnd() < 0.4) delete p.secrets[name];
      else p.secrets[name] = pick(["alpha", "beta", "gamma"]);
      return { who, what: `secret ${name}` };
    }
    case "spelling": p.spelling = pick([0, 1, 2]); return { who, what: `store spelled ${p.spelling}` };
    default:
      p.present = false;
      return { who, what: "destroyed" };
  }
}

function spelled(dir: string, spelling: number): string {
  return [`file://${dir}`, `file://${dir}/`, dir][spelling]!;
}

function argsOf(p: Program, dir: string): ClusterConfigArgs {
  const args: ClusterConfigArgs = { store: spelled(dir, p.spelling), name: CLUSTER };
  if (p.options) args.options = clone(p.options);
  if (Object.keys(p.spec).length > 0) args.spec = clone(p.spec) as Doc;
  if (Object.keys(p.groups).length > 0) args.instanceGroups = clone(p.groups);
  if (Object.keys(p.secrets).length > 0) args.secrets = clone(p.secrets);
  return args;
}

function plain(bytes: Buffer | undefined, file: string): Doc | undefined {
  return bytes === undefined ? undefined : (parseYaml(bytes.toString(), file).toJS() as Doc);
}

/** Fields other managers own in `before` that differ in `after` (or whose document went). */
function othersTouched(before: Files, after: Files, manager: string): string[] {
  const out: string[] = [];
  for (const [file, bytes] of before) {
    if (file !== "config" && !file.startsWith("instancegroup/")) continue;
    const b = plain(bytes, file);
    const a = plain(after.get(file), file);
    for (const [m, paths] of ownersOf(b)) {
      if (m === manager || m === BEFORE_FIRST_APPLY || paths.size === 0) continue;
      if (!a) {
        out.push(`${file} (owned in part by ${m}) was deleted`);
        continue;
      }
      for (const p of paths) {
        if (p === ".") continue;
        if (JSON.stringify(valueAt(b, parsePath(p))) !== JSON.stringify(valueAt(a, parsePath(p)))) out.push(`${file}: ${p} (owned by ${m})`);
      }
    }
  }
  return out;
}

function same(a: Files, b: Files): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v) === true);
}

function nothingChanged(summary: Record<string, number> | undefined): boolean {
  return Object.keys(summary ?? {}).every((k) => k === "same");
}

/** What a sequence needs of the engine, for one stack. */
interface Driver {
  name: string;
  /** The plan lines the preview printed, or the error that refused it. */
  preview(): Promise<string[] | Error>;
  /** True when something changed; an Error when refused. */
  up(): Promise<boolean | Error>;
  /** What refresh found changed (false when nothing). */
  refresh(): Promise<string | false>;
  /** Ends what the driver started (a stack's process). */
  close?(): Promise<void>;
}

/**
 * The real CLI: each stack's program runs in a process of its own (stack-process.ts), so sequences
 * side by side never share the SDK's per-process state. Each has its own local backend.
 */
async function engineDrivers(world: Record<Who, Program>, dir: string): Promise<Record<Who, Driver>> {
  const out = {} as Record<Who, Driver>;
  for (const who of ["a", "b"] as const) {
    const stack = await StackProcess.start("kstate-property", `${who}-${uniqueName("p")}`);
    const declare = () => (stack.program = world[who].present ? { cluster: argsOf(world[who], dir) } : {});
    out[who] = {
      name: `pulumi:kstate-property/${stack.name}/cluster`,
      preview: () => (declare(), stack.preview()).then((r) => previewedChanges(r, CLUSTER), (e: unknown) => e as Error),
      up: () => (declare(), stack.up()).then((r) => {
        // The program declares the resource whenever the stack is present: the engine deleting or
        // replacing it then is a fault of the run, shown with everything the engine printed.
        const changes = r.summary?.resourceChanges ?? {};
        if (world[who].present && (changes.delete || changes.replace)) return new Error(`the engine deleted or replaced a declared ClusterConfig (${JSON.stringify(changes)}):\n${r.stdout}\n${r.stderr}`);
        return !nothingChanged(changes);
      }, (e: unknown) => e as Error),
      refresh: () => (declare(), stack.refresh()).then((r) => (nothingChanged(r.summary?.resourceChanges) ? false : r.stdout)),
      close: () => stack.close(),
    };
  }
  return out;
}

/**
 * The provider in this process, called as the engine calls it: `check` with the old inputs, `diff`
 * with the old outputs, then `create`, `update` or `delete`; refresh is `read` then `diff`.
 * What `check` prints is what a preview shows.
 */
function providerDrivers(world: Record<Who, Program>, dir: string, seed: number): Record<Who, Driver> {
  const out = {} as Record<Who, Driver>;
  for (const who of ["a", "b"] as const) {
    const name = `pulumi:kstate-property/${who}-${seed}/cluster`;
    let state: { id: string; inputs: ClusterConfigInputs; outputs: ClusterConfigOutputs } | undefined;
    const inputs = () => ({ ...(argsOf(world[who], dir) as ClusterConfigInputs), manager: name });
    // As the engine previews: check, then (once the resource exists) diff; either may plan, print
    // the plan's lines and refuse it (check plans only inputs it has not planned before).
    const check = async (withDiff = false): Promise<{ inputs: ClusterConfigInputs; lines: string[] } | Error> => {
      const printed: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stderr.write;
      try {
        const r = await provider.check(state?.inputs ?? ({} as ClusterConfigInputs), inputs());
        if (r.failures?.length) return new Error(r.failures.map((f) => `${f.property}: ${f.reason}`).join("\n"));
        if (withDiff && state) await provider.diff(state.id, state.outputs, r.inputs!);
        return { inputs: r.inputs!, lines: previewedChanges({ stdout: printed.join(""), stderr: "" }, CLUSTER) };
      } catch (e) {
        return e as Error;
      } finally {
        process.stderr.write = write;
      }
    };
    out[who] = {
      name,
      async preview() {
        if (!world[who].present) return [];
        const c = await check(true);
        return c instanceof Error ? c : c.lines;
      },
      async up() {
        try {
          if (!world[who].present) {
            if (!state) return false;
            await provider.delete(state.id, state.outputs);
            state = undefined;
            return true;
          }
          const c = await check();
          if (c instanceof Error) return c;
          if (!state) {
            const created = await provider.create(c.inputs);
            state = { id: created.id, inputs: c.inputs, outputs: created.outs! };
            return true;
          }
          const d = await provider.diff(state.id, state.outputs, c.inputs);
          if (d.replaces?.length) throw new Error(`replace of ${d.replaces.join(", ")}`);
          const changed = d.changes === true;
          if (changed) state.outputs = (await provider.update(state.id, state.outputs, c.inputs)).outs!;
          state.inputs = c.inputs;
          return changed;
        } catch (e) {
          return e as Error;
        }
      },
      async refresh() {
        if (!state) return false;
        const r = await provider.read(state.id, state.outputs);
        if (!r.id) {
          state = undefined;
          return "the resource is gone";
        }
        const d = await provider.diff(state.id, r.props!, state.inputs);
        const was = state.outputs;
        state.outputs = r.props!;
        if (!d.changes) return false;
        const lines = await this.preview();
        return `outputs before ${JSON.stringify(was)}\nafter ${JSON.stringify(r.props)}\nplan now: ${lines instanceof Error ? lines.message : lines.join("\n")}`;
      },
    };
  }
  return out;
}

type Drivers = (world: Record<Who, Program>, dir: string, seed: number) => Promise<Record<Who, Driver>>;

async function runSequence(seed: number, count: number, drivers: Drivers): Promise<{ applied: number; refused: number }> {
  const rnd = random(seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-prop-"));
  const folder = openPath(`file://${dir}`).join(CLUSTER);
  const world = initial();
  const stacks = await drivers(world, dir, seed);
  try {
    return await runSteps(seed, count, rnd, world, folder, stacks);
  } finally {
    await Promise.all(Object.values(stacks).map((d) => d.close?.()));
  }
}

/** `count` random steps from the first `up`, checking the invariants after each. */
async function runSteps(seed: number, count: number, rnd: () => number, world: Record<Who, Program>, folder: VfsPath, stacks: Record<Who, Driver>): Promise<{ applied: number; refused: number }> {
  const first = await stacks.a.up();
  if (first instanceof Error) throw first;
  let applied = 0;
  let refused = 0;
  for (let step = 1; step <= count; step++) {
    const saved = clone(world);
    const { who, what } = mutate(world, rnd);
    const where = `seed ${seed}, step ${step} (${who}: ${what})`;
    const stack = stacks[who];
    const before = await readFolder(folder);
    const listed = await stack.preview();
    if (listed instanceof Error) {
      // Refused at preview: up refuses too, and writes nothing.
      assert.ok((await stack.up()) instanceof Error, `${where}: preview refused (${listed.message.slice(0, 3000)}) but up did not`);
      assert.ok(same(before, await readFolder(folder)), `${where}: a refused up changed the store`);
      Object.assign(world, saved);
      refused++;
      continue;
    }
    const up = await stack.up();
    if (up instanceof Error) {
      // Only a delete may be refused at up (delete runs no check): the store is byte-identical.
      assert.equal(what, "destroyed", `${where}: up failed after a clean preview: ${up.message.slice(0, 6000)}`);
      assert.ok(same(before, await readFolder(folder)), `${where}: a refused destroy changed the store`);
      assert.match(up.message, /refusing to delete/, where);
      Object.assign(world, saved);
      refused++;
      continue;
    }
    const after = await readFolder(folder);
    if (what !== "destroyed") assert.deepEqual(sorted(describeStoredChanges(before, after)), sorted(listed), `${where}: preview listed other changes than up made`);
    assert.deepEqual(othersTouched(before, after, stack.name), [], `${where}: another manager's fields changed`);
    const refreshed = await stack.refresh();
    assert.equal(refreshed, false, `${where}: refresh found a change: ${refreshed}`);
    if (step % 5 === 0) {
      assert.equal(await stack.up(), false, `${where}: a second up changed something`);
      assert.ok(same(after, await readFolder(folder)), `${where}: a second up wrote to the store`);
      assert.deepEqual(await stack.preview(), [], `${where}: preview after refresh is not clean`);
    }
    applied++;
  }
  return { applied, refused };
}

function knownSeeds(): number[] {
  return fs.existsSync(SEEDS_FILE) ? (JSON.parse(fs.readFileSync(SEEDS_FILE, "utf8")) as { seeds: { seed: number }[] }).seeds.map((s) => s.seed) : [];
}

function keepSeed(seed: number, reason: string): void {
  const file = fs.existsSync(SEEDS_FILE) ? (JSON.parse(fs.readFileSync(SEEDS_FILE, "utf8")) as { seeds: { seed: number; reason: string }[] }) : { seeds: [] };
  if (file.seeds.some((s) => s.seed === seed)) return;
  file.seeds.push({ seed, reason: reason.split("\n")[0]!.slice(0, 300) });
  fs.mkdirSync(path.dirname(SEEDS_FILE), { recursive: true });
  fs.writeFileSync(SEEDS_FILE, `${JSON.stringify(file, null, 2)}\n`);
}

const inProcess: Drivers = async (world, dir, seed) => providerDrivers(world, dir, seed);

/** Runs sequences side by side, or one after another (the in-process driver reads what `check` prints). */
async function sequences(seeds: number[], steps: number, drivers: Drivers, together: boolean): Promise<void> {
  const results = together
    ? await Promise.allSettled(seeds.map((seed) => runSequence(seed, steps, drivers)))
    : await seeds.reduce<Promise<PromiseSettledResult<{ applied: number; refused: number }>[]>>(async (acc, seed) => [...(await acc), ...(await Promise.allSettled([runSequence(seed, steps, drivers)]))], Promise.resolve([]));
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [{ seed: seeds[i]!, error: r.reason as Error }] : []));
  for (const f of failed) keepSeed(f.seed, f.error.message);
  const done = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  process.stdout.write(`      ${done.reduce((n, r) => n + r.applied, 0)} steps applied, ${done.reduce((n, r) => n + r.refused, 0)} refused\n`);
  if (failed.length > 0) throw failed[0]!.error;
}

describe("property: random program changes by two stacks on one store", function () {
  this.timeout(0);
  const first = process.env.KSTATE_PROPERTY_SEED !== undefined ? Number(process.env.KSTATE_PROPERTY_SEED) : Math.floor(Math.random() * 2 ** 31);
  const seeds = Array.from({ length: SEQUENCES }, (_, i) => first + i);
  const known = knownSeeds();

  describe("through the provider, as the engine calls it", function () {
    for (const seed of known) it(`replays kept seed ${seed}`, () => runSequence(seed, PROVIDER_STEPS, inProcess).then(() => undefined));
    it(`seeds ${seeds.join(", ")}: ${SEQUENCES} sequences of ${PROVIDER_STEPS} steps, one after another`, () => sequences(seeds, PROVIDER_STEPS, inProcess, false));
  });

  describe("through the real Pulumi CLI", function () {
    for (const seed of known) it(`replays kept seed ${seed}: 20 steps`, () => runSequence(seed, 20, engineDrivers as Drivers).then(() => undefined));
    it(`seeds ${seeds.join(", ")}: ${ENGINE_STEPS} steps in ${SEQUENCES} sequences side by side`, () => sequences(seeds, Math.ceil(ENGINE_STEPS / SEQUENCES), engineDrivers as Drivers, true));
  });
});
