/**
 * `npm run bench:engine`, through the real CLI and the local backend:
 * 1. `pulumi preview` of examples/local beside the same program made of no-op dynamic resources,
 *    alternating: what is left between the two is the cost of kstate's providers;
 * 2. `pulumi preview` and a no-op `pulumi up` of one ClusterConfig in an empty MinIO bucket and in
 *    one that also holds 100,000 unrelated objects: the cost must not grow with the store.
 * 3. `pulumi preview` and a no-change `pulumi up` of N = 1, 10, 50 ClusterConfigs beside N no-op
 *    dynamic resources given the same inputs, alternating, on a file:// store; and the bytes each
 *    ClusterConfig takes in `pulumi stack export` beside a no-op resource's.
 * Figures go to bench/results/engine.json.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig } from "../src";
import { openPath } from "../src/vfs";
import { makeS3Bucket, openOptions, startAll, stopAll } from "../test/support/env";
import { engineEnv } from "../test/support/pulumi";
import { toolPath } from "../test/support/servers";
import { median } from "./support";

const RUNS = Number(process.env.KSTATE_BENCH_RUNS ?? 10);
const REPO = path.resolve(__dirname, "..", "..");
const RESULTS = path.join(REPO, "bench", "results", "engine.json");

const noopProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff() {
    return { changes: false };
  },
  async create(inputs) {
    return { id: "noop", outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
};

/** The shape of examples/local's StateStore, doing nothing. */
class NoopStore extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  constructor(name: string, props: Record<string, unknown>) {
    super(noopProvider, name, { ...props, versioning: undefined, encryption: undefined }, {}, "kstate-bench", "NoopStore");
  }
}

/** A no-op dynamic resource given what a ClusterConfig is given. */
class NoopCluster extends pulumi.dynamic.Resource {
  constructor(name: string, props: Record<string, unknown>) {
    super(noopProvider, name, props, {}, "kstate-bench", "NoopCluster");
  }
}

/** The engine's environment for a local backend in `stateDir` and file:// stores (no servers). */
function localEnv(stateDir: string): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: `file://${stateDir}`, PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", PULUMI_HOME: path.join(stateDir, "home"),
    ...(process.env.KSTATE_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.KSTATE_BENCH_NODE_OPTIONS } : {}),
  };
}

async function previewOverhead(): Promise<Record<string, unknown>> {
  const work = fs.mkdtempSync(path.join(REPO, ".kstate", "bench-"));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bench-engine-"));
  try {
    const envVars = localEnv(stateDir);
    const pulumiCommand = await PulumiCommand.get({ root: toolPath("pulumi") });
    const storeUrl = `file://${path.join(work, "store")}`;
    fs.writeFileSync(path.join(work, "Pulumi.yaml"), "name: kstate-local\nruntime: nodejs\n");
    const local = require(path.join(REPO, "dist", "examples", "local", "index.js")) as () => Promise<Record<string, unknown>>;
    const stacks: Record<string, Stack> = {
      kstate: await LocalWorkspace.createOrSelectStack({ projectName: "kstate-local", stackName: "bench", program: local }, { workDir: work, pulumiCommand, envVars }),
      noop: await LocalWorkspace.createOrSelectStack({
        projectName: "kstate-local", stackName: "bench-noop",
        program: async () => {
          const store = new NoopStore("local", { url: storeUrl, forceDestroy: false });
          return { storeUrl: store.url };
        },
      }, { workDir: work, pulumiCommand, envVars }),
    };
    await stacks.kstate!.setConfig("kstate-local:storeUrl", { value: storeUrl });
    for (const s of Object.values(stacks)) await s.up();

    const times: Record<string, number[]> = { kstate: [], noop: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const [name, stack] of Object.entries(stacks)) {
        const t = process.hrtime.bigint();
        const preview = await stack.preview();
        times[name]!.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (Object.keys(preview.changeSummary).some((k) => k !== "same")) throw new Error(`${name}: preview of an applied stack shows changes`);
      }
      process.stderr.write(`run ${i + 1}/${RUNS}: kstate ${times.kstate!.at(-1)!.toFixed(0)} ms, no-op ${times.noop!.at(-1)!.toFixed(0)} ms\n`);
    }
    const kstateMs = median(times.kstate!);
    const noopMs = median(times.noop!);
    const result = {
      preview: {
        date: new Date().toISOString(),
        what: "pulumi preview of examples/local (applied, no changes) vs the same program with no-op dynamic resources",
        runs: RUNS,
        kstateMedianMs: Math.round(kstateMs),
        noopMedianMs: Math.round(noopMs),
        overheadRatio: Number((kstateMs / noopMs).toFixed(3)),
        kstateMs: times.kstate!.map(Math.round),
        noopMs: times.noop!.map(Math.round),
      },
    };
    process.stderr.write(`median preview: kstate ${kstateMs.toFixed(0)} ms, no-op ${noopMs.toFixed(0)} ms, ratio ${(kstateMs / noopMs).toFixed(3)}\n`);
    for (const s of Object.values(stacks)) await s.destroy();
    return result;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

const UNRELATED = Number(process.env.KSTATE_BENCH_UNRELATED_OBJECTS ?? 100_000);

/** Fills a bucket with objects of other clusters and backups, 64 writes at a time. */
async function populate(url: string, count: number): Promise<void> {
  const root = openPath(url, openOptions());
  const body = Buffer.alloc(300, "x");
  let next = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < count) {
      const i = next++;
      const cluster = `other-${i % 500}.k8s.example.com`;
      const key = i % 3 === 0 ? `${cluster}/backups/etcd/main/${i}` : i % 3 === 1 ? `${cluster}/pki/private/ca-${i}/keyset.yaml` : `${cluster}/secrets/token-${i}`;
      await root.join(key).write(body);
      if (i % 10_000 === 0) process.stderr.write(`  populated ${i} of ${count} (${Math.round(i / ((Date.now() - started) / 1000 + 1e-9))}/s)\n`);
    }
  }));
}

async function storeScaling(): Promise<Record<string, unknown>> {
  await startAll();
  try {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bench-scale-"));
    const pulumiCommand = await PulumiCommand.get({ root: toolPath("pulumi") });
    const buckets = { empty: `s3://${await makeS3Bucket()}`, full: `s3://${await makeS3Bucket()}` };
    process.stderr.write(`putting ${UNRELATED} unrelated objects into ${buckets.full}\n`);
    await populate(buckets.full, UNRELATED);
    const stacks: Record<string, Stack> = {};
    for (const [name, url] of Object.entries(buckets)) {
      stacks[name] = await LocalWorkspace.createOrSelectStack({
        projectName: "kstate-bench-scale", stackName: name,
        program: async () => {
          const c = new ClusterConfig("dev", {
            store: url, name: "dev.k8s.example.com",
            options: { zones: ["us-east-1a", "us-east-1b", "us-east-1c"], kubernetesVersion: "v1.30.2", cloud: "aws", nodeSize: "m5.large" },
          });
          return { configBase: c.configBase };
        },
      }, { pulumiCommand, envVars: engineEnv(stateDir) });
      await stacks[name]!.up();
    }
    const times: Record<string, { preview: number[]; up: number[] }> = { empty: { preview: [], up: [] }, full: { preview: [], up: [] } };
    for (let i = 0; i < RUNS; i++) {
      for (const [name, stack] of Object.entries(stacks)) {
        let t = process.hrtime.bigint();
        await stack.preview();
        times[name]!.preview.push(Number(process.hrtime.bigint() - t) / 1e6);
        t = process.hrtime.bigint();
        const up = await stack.up();
        times[name]!.up.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (Object.keys(up.summary.resourceChanges ?? {}).some((k) => k !== "same")) throw new Error(`${name}: a no-op up changed something`);
      }
      process.stderr.write(`run ${i + 1}/${RUNS}: preview ${times.empty!.preview.at(-1)!.toFixed(0)} / ${times.full!.preview.at(-1)!.toFixed(0)} ms, up ${times.empty!.up.at(-1)!.toFixed(0)} / ${times.full!.up.at(-1)!.toFixed(0)} ms (empty / ${UNRELATED} objects)\n`);
    }
    const m = (xs: number[]) => Math.round(median(xs));
    const result = {
      date: new Date().toISOString(),
      what: `pulumi preview and a no-op pulumi up of one ClusterConfig (3 zones) on MinIO, in an empty bucket and in one with ${UNRELATED} unrelated objects`,
      runs: RUNS,
      unrelatedObjects: UNRELATED,
      previewMedianMs: { empty: m(times.empty!.preview), full: m(times.full!.preview) },
      noopUpMedianMs: { empty: m(times.empty!.up), full: m(times.full!.up) },
      previewRatio: Number((median(times.full!.preview) / median(times.empty!.preview)).toFixed(3)),
      noopUpRatio: Number((median(times.full!.up) / median(times.empty!.up)).toFixed(3)),
      samplesMs: times,
    };
    process.stderr.write(`preview ratio ${result.previewRatio}, no-op up ratio ${result.noopUpRatio}\n`);
    fs.rmSync(stateDir, { recursive: true, force: true });
    return result;
  } finally {
    await stopAll();
  }
}

const SIZES = (process.env.KSTATE_BENCH_SIZES ?? "1,10,50").split(",").map(Number);

/** What each resource of the program is given: options as examples/local gives them. */
function clusterArgs(store: string, i: number) {
  return {
    store, name: `c${i}.k8s.example.com`,
    options: { cloud: "aws", zones: ["us-east-1a", "us-east-1b"], nodeCount: 2, nodeSize: "t3.large", kubernetesVersion: "v1.30.2" },
    spec: { kubelet: { maxPods: 110 } },
  };
}

/** Bytes of each resource of `type` in the stack's export, as `pulumi stack export` prints them (indented) and compact. */
async function stateBytes(stack: Stack, type: string): Promise<{ indented: number; compact: number }> {
  const exported = await stack.exportStack();
  const resources = (exported.deployment as { resources: { type: string }[] }).resources.filter((r) => r.type === type);
  const per = (f: (r: unknown) => number) => Math.round(resources.map(f).reduce((a, b) => a + b, 0) / resources.length);
  return { indented: per((r) => Buffer.byteLength(JSON.stringify(r, null, 4))), compact: per((r) => Buffer.byteLength(JSON.stringify(r))) };
}

async function perResource(): Promise<Record<string, unknown>> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bench-n-"));
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bench-n-store-"));
  const runs = Number(process.env.KSTATE_BENCH_N_RUNS ?? 5);
  try {
    const pulumiCommand = await PulumiCommand.get({ root: toolPath("pulumi") });
    const store = `file://${storeDir}`;
    const rows: Record<string, unknown>[] = [];
    for (const n of SIZES) {
      const stacks: Record<"kstate" | "noop", Stack> = {
        kstate: await LocalWorkspace.createOrSelectStack({
          projectName: "kstate-bench-n", stackName: `kstate-${n}`,
          program: async () => {
            for (let i = 0; i < n; i++) new ClusterConfig(`c${i}`, clusterArgs(store, i));
          },
        }, { pulumiCommand, envVars: localEnv(stateDir) }),
        noop: await LocalWorkspace.createOrSelectStack({
          projectName: "kstate-bench-n", stackName: `noop-${n}`,
          program: async () => {
            for (let i = 0; i < n; i++) new NoopCluster(`c${i}`, clusterArgs(store, i));
          },
        }, { pulumiCommand, envVars: localEnv(stateDir) }),
      };
      for (const s of Object.values(stacks)) await s.up();
      const times = { kstate: { preview: [] as number[], up: [] as number[] }, noop: { preview: [] as number[], up: [] as number[] } };
      for (let r = 0; r < runs; r++) {
        for (const [name, stack] of Object.entries(stacks) as ["kstate" | "noop", Stack][]) {
          let t = process.hrtime.bigint();
          const preview = await stack.preview();
          times[name].preview.push(Number(process.hrtime.bigint() - t) / 1e6);
          if (Object.keys(preview.changeSummary).some((k) => k !== "same")) throw new Error(`${name} N=${n}: preview of an applied stack shows changes`);
          t = process.hrtime.bigint();
          const up = await stack.up();
          times[name].up.push(Number(process.hrtime.bigint() - t) / 1e6);
          if (Object.keys(up.summary.resourceChanges ?? {}).some((k) => k !== "same")) throw new Error(`${name} N=${n}: a no-change up changed something`);
        }
        process.stderr.write(`N=${n} run ${r + 1}/${runs}: preview ${times.kstate.preview.at(-1)!.toFixed(0)} / ${times.noop.preview.at(-1)!.toFixed(0)} ms, up ${times.kstate.up.at(-1)!.toFixed(0)} / ${times.noop.up.at(-1)!.toFixed(0)} ms (kstate / no-op)\n`);
      }
      const m = (xs: number[]) => Math.round(median(xs));
      const row = {
        n,
        previewMedianMs: { kstate: m(times.kstate.preview), noop: m(times.noop.preview) },
        upMedianMs: { kstate: m(times.kstate.up), noop: m(times.noop.up) },
        previewRatio: Number((median(times.kstate.preview) / median(times.noop.preview)).toFixed(3)),
        upRatio: Number((median(times.kstate.up) / median(times.noop.up)).toFixed(3)),
        stateBytesPerResource: { kstate: await stateBytes(stacks.kstate, "pulumi-nodejs:dynamic/kstate:ClusterConfig"), noop: await stateBytes(stacks.noop, "pulumi-nodejs:dynamic/kstate-bench:NoopCluster") },
        samplesMs: times,
      };
      process.stderr.write(`N=${n}: preview ratio ${row.previewRatio}, up ratio ${row.upRatio}, state ${JSON.stringify(row.stateBytesPerResource)}\n`);
      rows.push(row);
      for (const s of Object.values(stacks)) await s.destroy();
    }
    return {
      date: new Date().toISOString(),
      what: "pulumi preview and a no-change pulumi up of N ClusterConfigs (2 zones, examples/local's options) on a file:// store vs N no-op dynamic resources given the same inputs, alternating; medians; state bytes per resource from pulumi stack export",
      runs,
      rows,
    };
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
    fs.rmSync(storeDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? "all";
  const previous = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, "utf8")) as Record<string, unknown> : {};
  const result: Record<string, unknown> = { ...previous };
  if (which === "all" || which === "preview") Object.assign(result, await previewOverhead());
  if (which === "all" || which === "scale") result.storeScaling = await storeScaling();
  if (which === "all" || which === "n") {
    // A run of some sizes (KSTATE_BENCH_SIZES) replaces those rows and keeps the others.
    const run = await perResource();
    const kept = ((result.perResource as { rows?: { n: number }[] } | undefined)?.rows ?? []).filter((r) => !SIZES.includes(r.n));
    result.perResource = { ...run, rows: [...kept, ...(run.rows as { n: number }[])].sort((x, y) => x.n - y.n) };
  }
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`wrote ${RESULTS}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
