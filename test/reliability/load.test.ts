/**
 * Load: a bounded run of many concurrent writers (35 on MinIO, 34 on file://) across four
 * clusters, mixing direct VFS read-modify-writes, `kstate apply -f DIR --yes` and `pulumi up`.
 *
 * Every acknowledged change must be there at the end and every rejected one must have been a
 * conflict (PreconditionFailedError from the VFS, exit 3 from the CLI, a conflict from the
 * engine). Each write sets the writer's own field (disjoint) and increments a counter shared by
 * every writer of that document (overlapping): at the end each own field holds the writer's last
 * acknowledged value and each counter equals the number of acknowledged increments. A write
 * that was acknowledged and then overwritten by a writer that had not seen it (a lost update)
 * leaves a counter short; a rejected write that landed anyway leaves it long.
 *
 * Who writes what, per cluster:
 *  - c0, c1: `config` (3 VFS writers, spec.cloudLabels, and the Pulumi stacks (3 ups each), each owning its
 *    own cloudLabel through ClusterConfig.spec) and `instancegroup/nodes-us-east-1a` (3 VFS
 *    writers, spec.nodeLabels);
 *  - c2, c3: `instancegroup/nodes-us-east-1a` (4 VFS writers), and one instance group
 *    `apply-<k>` per CLI writer (3 per cluster), each also rewritten, unchanged and conditionally,
 *    by a "toucher" VFS writer, so the apply races a new revision of the very document it writes.
 *  `kstate apply -f DIR` refuses (exit 3) a document changed in the store since `export` wrote
 *  DIR (the folder records each revision), as well as one that changes between apply's own read
 *  and write. An apply writer's folder holds only `config` (which nobody changes on c2 and c3) and
 *  its own group, so its conflicts come from the toucher of that group.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applyCluster } from "../../src/ops/cluster";
import { ClusterStore } from "../../src/store/cluster-store";
import { getIn, parseYaml, setIn, stringifyYaml } from "../../src/store/yaml";
import { openPath, PreconditionFailedError, type VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { StackProcess } from "../support/stack-process";
import { record } from "./report";
import { s3Env } from "../support/stores";

const CLUSTERS = ["c0", "c1", "c2", "c3"].map((c) => `${c}.load.k8s.example.com`);
const NODES = "instancegroup/nodes-us-east-1a";
const CONFIG = "config";
const COUNTER = "load-counter";
/** Rounds (acknowledged changes) per writer: the bound of the run. */
const VFS_ROUNDS = 20;
const TOUCH_ROUNDS = 40;
const CLI_ROUNDS = 8;
const UPS = 3;
/** Attempts per change before a writer gives up (a failure of the test, not a lost update). */
const MAX_ATTEMPTS = 80;
const UP_ATTEMPTS = 5;

interface Backend {
  name: string;
  store: () => Promise<string>;
  /** What the in-process CLI needs in its environment to reach the store. */
  env: () => Record<string, string>;
  stacks: number;
}

const backends: Backend[] = [
  {
    name: "s3 (MinIO)",
    store: async () => `s3://${await makeS3Bucket()}`,
    env: () => (s3Env()),
    stacks: 3,
  },
  {
    name: "file://",
    store: async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-load-"))}`,
    env: () => ({}),
    stacks: 2,
  },
];

/** Where a document keeps the writers' labels: spec.cloudLabels on a Cluster, spec.nodeLabels on a group. */
function labelsPath(file: string): string[] {
  return file === CONFIG ? ["spec", "cloudLabels"] : ["spec", "nodeLabels"];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

class Run {
  /** Acknowledged increments of each document's counter, by `cluster/file`. */
  readonly increments = new Map<string, number>();
  /** The last acknowledged value of each owned field, by `cluster/file` then label. */
  readonly lastAcked = new Map<string, Map<string, string>>();
  readonly latency: Record<string, number[]> = { vfs: [], touch: [], apply: [], "pulumi up": [] };
  readonly conflicts: Record<string, number> = { vfs: 0, touch: 0, apply: 0, "pulumi up": 0 };
  readonly acknowledged: Record<string, number> = { vfs: 0, touch: 0, apply: 0, "pulumi up": 0 };
  /** Rejections that were not conflicts, and writers that gave up: each fails the test. */
  readonly failures: string[] = [];
  inFlight = 0;
  peakInFlight = 0;
  active = 0;
  peakActive = 0;

  ack(cluster: string, file: string, label: string, value: string, increments: boolean): void {
    const key = `${cluster}/${file}`;
    if (increments) this.increments.set(key, (this.increments.get(key) ?? 0) + 1);
    const fields = this.lastAcked.get(key) ?? new Map<string, string>();
    fields.set(label, value);
    this.lastAcked.set(key, fields);
  }

  /** Times one operation (one attempt) of a kind, counting the operations in flight. */
  async timed<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.latency[kind]!.push(performance.now() - started);
      this.inFlight--;
    }
  }

  async writer(fn: () => Promise<void>): Promise<void> {
    this.active++;
    this.peakActive = Math.max(this.peakActive, this.active);
    try {
      await fn();
    } catch (e) {
      this.failures.push(`writer failed: ${e instanceof Error ? e.stack : String(e)}`);
    } finally {
      this.active--;
    }
  }
}

/** One read-modify-write of a document through the VFS: own label := value, counter += 1. */
async function vfsWriter(run: Run, root: VfsPath, cluster: string, file: string, id: string): Promise<void> {
  const doc = root.join(cluster, file);
  const label = `load-${id}`;
  for (let round = 1; round <= VFS_ROUNDS; round++) {
    const value = String(round);
    for (let attempt = 1; ; attempt++) {
      const done = await run.timed("vfs", async () => {
        const { data, revision } = await doc.read();
        const parsed = parseYaml(data.toString("utf8"), doc.url);
        const labels = labelsPath(file);
        setIn(parsed, [...labels, label], value);
        setIn(parsed, [...labels, COUNTER], String(Number(getIn(parsed, [...labels, COUNTER]) ?? 0) + 1));
        try {
          await doc.write(stringifyYaml(parsed), { ifRevision: revision });
          return true;
        } catch (e) {
          if (PreconditionFailedError.isInstance(e)) return false;
          throw e;
        }
      });
      if (done) break;
      run.conflicts.vfs!++;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`${id}: gave up on ${cluster}/${file} after ${attempt} conflicts`);
      await sleep(Math.random() * 10 * Math.min(attempt, 5));
    }
    run.acknowledged.vfs!++;
    run.ack(cluster, file, label, value, true);
    await sleep(Math.random() * 20);
  }
}

/** Rewrites a document's bytes unchanged, conditionally: a new revision under an apply's feet. */
async function toucher(run: Run, root: VfsPath, cluster: string, file: string): Promise<void> {
  const doc = root.join(cluster, file);
  for (let round = 1; round <= TOUCH_ROUNDS; round++) {
    for (let attempt = 1; ; attempt++) {
      const done = await run.timed("touch", async () => {
        const { data, revision } = await doc.read();
        try {
          await doc.write(data, { ifRevision: revision });
          return true;
        } catch (e) {
          if (PreconditionFailedError.isInstance(e)) return false;
          throw e;
        }
      });
      if (done) break;
      run.conflicts.touch!++;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`toucher gave up on ${cluster}/${file} after ${attempt} conflicts`);
      await sleep(Math.random() * 20);
    }
    run.acknowledged.touch!++;
    await sleep(Math.random() * 30);
  }
}

/** export, change the writer's own group in the folder, apply --yes; exit 3 is a conflict, retried. */
async function cliWriter(run: Run, store: string, storeEnv: Record<string, string>, cluster: string, group: string, id: string): Promise<void> {
  const file = `instancegroup/${group}`;
  const label = `load-${id}`;
  const env = { ...storeEnv, KOPS_STATE_STORE: store };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kstate-load-${id}-`));
  try {
    for (let round = 1; round <= CLI_ROUNDS; round++) {
      const value = String(round);
      for (let attempt = 1; ; attempt++) {
        const code = await run.timed("apply", async () => {
          fs.rmSync(dir, { recursive: true, force: true });
          const exported = await kstate(["export", cluster, "--to", dir], { env });
          if (exported.code !== 0) throw new Error(`${id}: export exited ${exported.code}: ${exported.stderr}`);
          // Only config and the writer's own group: apply keeps the stored groups it is not given.
          for (const g of fs.readdirSync(path.join(dir, "instancegroup"))) if (g !== group) fs.rmSync(path.join(dir, "instancegroup", g));
          const target = path.join(dir, "instancegroup", group);
          const parsed = parseYaml(fs.readFileSync(target, "utf8"), target);
          const labels = labelsPath(file);
          setIn(parsed, [...labels, label], value);
          setIn(parsed, [...labels, COUNTER], String(Number(getIn(parsed, [...labels, COUNTER]) ?? 0) + 1));
          fs.writeFileSync(target, stringifyYaml(parsed));
          const applied = await kstate(["apply", "-f", dir, "--yes"], { env });
          if (applied.code !== 0 && applied.code !== 3) throw new Error(`${id}: apply exited ${applied.code} (not a conflict): ${applied.stderr}`);
          return applied.code;
        });
        if (code === 0) break;
        run.conflicts.apply!++;
        if (attempt >= MAX_ATTEMPTS) throw new Error(`${id}: gave up on ${cluster}/${file} after ${attempt} conflicts`);
        await sleep(Math.random() * 30);
      }
      run.acknowledged.apply!++;
      run.ack(cluster, file, label, value, true);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const CONFLICT = /ConflictError|PreconditionFailed|another writer changed/;

/** `pulumi up` of a stack whose ClusterConfig owns one cloudLabel; a conflict is retried. */
async function pulumiWriter(run: Run, stack: StackProcess, store: string, cluster: string, label: string): Promise<void> {
  for (let n = 1; n <= UPS; n++) {
    const value = `up-${n}`;
    stack.program = { load: { store, name: cluster, spec: { cloudLabels: { [label]: value } }, onConflict: "fail" } };
    for (let attempt = 1; ; attempt++) {
      const ok = await run.timed("pulumi up", async () => {
        try {
          await stack.up();
          return true;
        } catch (e) {
          if (CONFLICT.test(String(e))) return false;
          throw e;
        }
      });
      if (ok) break;
      run.conflicts["pulumi up"]!++;
      if (attempt >= UP_ATTEMPTS) throw new Error(`pulumi ${label}: gave up after ${attempt} conflicts`);
    }
    run.acknowledged["pulumi up"]!++;
    run.ack(cluster, CONFIG, label, value, false);
  }
}

for (const backend of backends) {
  describe(`load: concurrent writers on ${backend.name}`, function () {
    this.timeout(400_000);

    it("32+ writers at once (VFS, kstate apply, pulumi up): every acknowledged change is there, every rejection was a conflict", async function () {
      const started = Date.now();
      const store = await backend.store();
      const root = openPath(store, openOptions());
      const clusterStore = new ClusterStore(root);
      for (const cluster of CLUSTERS) {
        await applyCluster(clusterStore, { name: cluster, storeUrl: store, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" } });
      }
      // One group per CLI writer on c2 and c3, shaped like the node group.
      const applyGroups = new Map<string, string[]>();
      for (const cluster of CLUSTERS.slice(2)) {
        const nodes = (await root.join(cluster, NODES).read()).data.toString("utf8");
        const groups = [0, 1, 2].map((k) => `apply-${k}`);
        for (const g of groups) {
          const doc = parseYaml(nodes, NODES);
          setIn(doc, ["metadata", "name"], g);
          await root.join(cluster, "instancegroup", g).create(stringifyYaml(doc));
        }
        applyGroups.set(cluster, groups);
      }

      const run = new Run();
      const stacks: { stack: StackProcess; cluster: string; label: string }[] = [];
      for (let i = 0; i < backend.stacks; i++) {
        const cluster = CLUSTERS[i % 2]!;
        const label = `load-pulumi-${i}`;
        // Each stack in a process of its own, as separate `pulumi up`s are (stack-process.ts).
        const stack = await StackProcess.start("kstate-load", uniqueName(`load${i}`));
        stacks.push({ stack, cluster, label });
      }

      const writers: (() => Promise<void>)[] = [];
      for (const [c, cluster] of CLUSTERS.entries()) {
        if (c < 2) {
          for (let j = 0; j < 3; j++) writers.push(() => vfsWriter(run, root, cluster, CONFIG, `c${c}-config-${j}`));
          for (let j = 0; j < 3; j++) writers.push(() => vfsWriter(run, root, cluster, NODES, `c${c}-nodes-${j}`));
        } else {
          for (let j = 0; j < 4; j++) writers.push(() => vfsWriter(run, root, cluster, NODES, `c${c}-nodes-${j}`));
          for (const g of applyGroups.get(cluster)!) {
            writers.push(() => cliWriter(run, store, backend.env(), cluster, g, `c${c}-${g}`));
            writers.push(() => toucher(run, root, cluster, `instancegroup/${g}`));
          }
        }
      }
      for (const s of stacks) writers.push(() => pulumiWriter(run, s.stack, store, s.cluster, s.label));

      const loadStarted = Date.now();
      await Promise.all(writers.map((w) => run.writer(w)));
      const loadSeconds = (Date.now() - loadStarted) / 1000;

      // Straight from the store: every counter and every owned field.
      let lostUpdates = 0;
      let phantomWrites = 0;
      let corruptFiles = 0;
      const problems: string[] = [];
      const files = new Set([...run.increments.keys(), ...run.lastAcked.keys()]);
      for (const key of [...files].sort()) {
        const slash = key.indexOf("/");
        const cluster = key.slice(0, slash);
        const file = key.slice(slash + 1);
        let labels: Record<string, unknown>;
        try {
          const doc = parseYaml((await root.join(cluster, file).read()).data.toString("utf8"), key);
          labels = ((doc.toJS() as { spec: Record<string, Record<string, unknown> | undefined> }).spec[labelsPath(file)[1]!]) ?? {};
        } catch (e) {
          corruptFiles++;
          problems.push(`${key}: unreadable: ${String(e)}`);
          continue;
        }
        const acked = run.increments.get(key) ?? 0;
        const counter = Number(labels[COUNTER] ?? 0);
        if (counter < acked) {
          lostUpdates += acked - counter;
          problems.push(`${key}: counter ${counter}, ${acked} acknowledged increments (${acked - counter} lost)`);
        } else if (counter > acked) {
          phantomWrites += counter - acked;
          problems.push(`${key}: counter ${counter}, only ${acked} acknowledged increments`);
        }
        for (const [label, value] of run.lastAcked.get(key) ?? []) {
          if (labels[label] !== value) {
            lostUpdates++;
            problems.push(`${key}: ${label} is ${JSON.stringify(labels[label])}, last acknowledged ${JSON.stringify(value)}`);
          }
        }
      }

      const kinds = Object.keys(run.latency);
      const byKind = Object.fromEntries(kinds.map((k) => [k, {
        operations: run.latency[k]!.length, acknowledged: run.acknowledged[k]!, conflicts: run.conflicts[k]!,
        p50Ms: percentile(run.latency[k]!, 50), p99Ms: percentile(run.latency[k]!, 99),
      }]));
      const all = kinds.flatMap((k) => run.latency[k]!);
      const operations = all.length;
      const conflicts = kinds.reduce((n, k) => n + run.conflicts[k]!, 0);
      record(`load: ${backend.name}`, {
        trials: operations, lostFiles: 0, corruptFiles, lostUpdates, phantomWrites, conflicts,
        writers: writers.length, peakActiveWriters: run.peakActive, peakInFlight: run.peakInFlight,
        p50Ms: percentile(all, 50), p99Ms: percentile(all, 99), loadSeconds, seconds: (Date.now() - started) / 1000,
        unexpectedFailures: run.failures.length, byKind,
      });
      process.stdout.write(`      ${writers.length} writers (peak ${run.peakActive} active, ${run.peakInFlight} operations in flight), ${operations} operations, ${conflicts} conflicts, lostUpdates ${lostUpdates}, phantomWrites ${phantomWrites}, corruptFiles ${corruptFiles}, ${loadSeconds.toFixed(1)} s of load\n`);
      for (const k of kinds) process.stdout.write(`        ${k}: ${JSON.stringify(byKind[k])}\n`);
      for (const p of problems.slice(0, 20)) process.stdout.write(`        ! ${p}\n`);

      await Promise.all(stacks.map((s) => s.stack.close()));

      assert.deepEqual(run.failures, [], "every rejection was a conflict and every writer finished");
      assert.ok(run.peakActive >= 32, `at least 32 writers at once (peak ${run.peakActive})`);
      assert.ok(run.peakInFlight >= 32, `at least 32 operations in flight at once (peak ${run.peakInFlight})`);
      assert.equal(run.acknowledged.vfs, 20 * VFS_ROUNDS);
      assert.equal(run.acknowledged.touch, 6 * TOUCH_ROUNDS);
      assert.equal(run.acknowledged.apply, 6 * CLI_ROUNDS);
      assert.equal(run.acknowledged["pulumi up"], backend.stacks * UPS);
      assert.equal(corruptFiles, 0, problems.join("\n"));
      assert.equal(phantomWrites, 0, problems.join("\n"));
      assert.equal(lostUpdates, 0, problems.join("\n"));
    });
  });
}
