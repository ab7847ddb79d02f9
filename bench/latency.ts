/**
 * `npm run bench:latency`: kstate's commands beside kops, rclone and `aws s3 sync` at real-world
 * latency. MinIO sits behind toxiproxy, which adds the same latency to both directions (0, 10
 * and 40 ms each way by default), and in front of toxiproxy a counting proxy logs every request
 * with its start and end, so each run records its wall time, the tool's own CPU, its requests
 * and their longest sequential chain (test/support/counting-proxy.ts defines it). At each
 * latency every row runs its tools interleaved, several times, and keeps the medians.
 *
 * Settings (environment):
 *   KSTATE_LATENCY_MS            latencies each way, comma-separated (default 0,10,40)
 *   KSTATE_BENCH_RUNS            runs of each tool per row (default 5)
 *   KSTATE_BENCH_MIGRATE_RUNS    runs of each tool per migration row (default 3)
 *   KSTATE_LATENCY_ROWS          only these rows, comma-separated ids (default all; the others keep
 *                                the last run's figures, each dated): getCluster,
 *                                getClusters, getAll, getAllWide, merge, apply, export, migrate63,
 *                                migrate2000
 * The results file and the README's section hold what the run measured, nothing older, unless
 * KSTATE_LATENCY_ROWS picked rows.
 *
 * Every tool runs without NODE_EXTRA_CA_CERTS and AWS_CA_BUNDLE (bench/cli.ts says why). Figures
 * go to bench/results/latency.json and the "Latency" section of bench/README.md.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { makeS3Bucket, servers } from "../test/support/env";
import { CountingProxy } from "../test/support/counting-proxy";
import { MINIO_PASSWORD, MINIO_USER, startMinio, toolPath } from "../test/support/servers";
import { type Proxy, Toxiproxy } from "../test/support/toxiproxy";
import { clusterOf, createCluster, manyClusters, readText, wideCluster } from "./latency/fixtures";
import { measure, type Run } from "./latency/measure";
import { type RowResult, type ToolResult, writeLatencyTable } from "./latency/report";
import { type Context, type Row, rows } from "./latency/rows";
import { median, toolEnv } from "./support";

const exec = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..");
const RESULTS = path.join(REPO, "bench", "results", "latency.json");
const LATENCIES = (process.env.KSTATE_LATENCY_MS ?? "0,10,40").split(",").map(Number);
const RUNS = Number(process.env.KSTATE_BENCH_RUNS ?? 5);
const MIGRATE_RUNS = Number(process.env.KSTATE_BENCH_MIGRATE_RUNS ?? 3);
const ONLY = process.env.KSTATE_LATENCY_ROWS?.split(",");
const CLUSTER_FILES = 63;
const BIG_FILES = 2000;
const MANY_CLUSTERS = 100;
/** The instance groups of the wide cluster: the shape `get all` was first measured on (kops then made 11 requests). */
const WIDE_GROUPS = 8;

function need(tool: string): string {
  const p = `/usr/bin/${tool}`;
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: install Debian's rclone and awscli (v2) before npm run bench:latency`);
  return p;
}

function summarise(row: Row, runs: Map<string, Run[]>, latency: number): RowResult {
  const tools = row.tools.map((t): ToolResult => {
    const mine = runs.get(t.name)!;
    const middle = [...mine].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((mine.length - 1) / 2)]!;
    return {
      tool: t.name, wallMs: Math.round(median(mine.map((r) => r.wallMs))), cpuMs: Math.round(median(mine.map((r) => r.cpuMs))),
      requests: median(mine.map((r) => r.requests)), chain: median(mine.map((r) => r.chain)), methods: middle.methods,
      runs: mine.map((r) => ({ wallMs: Math.round(r.wallMs), cpuMs: r.cpuMs, requests: r.requests, chain: r.chain })),
    };
  });
  const [kstate, ...peers] = tools;
  const ratios = Object.fromEntries(peers.map((p) => [p.tool, Number((kstate!.wallMs / p.wallMs).toFixed(3))]));
  const result: RowResult = { id: row.id, date: new Date().toISOString(), runs: runs.get(row.tools[0]!.name)!.length, title: row.title, floor: row.floor, tools, ratios };
  if (row.goal && latency === 40) {
    const measured = ratios[row.goal.peer];
    if (measured === undefined) throw new Error(`${row.id}: the goal's peer ${row.goal.peer} is not among its tools`);
    result.goal = { ...row.goal, measured, met: measured <= row.goal.ratio };
  }
  return result;
}

/**
 * kstate keeps the names of a cluster's groups from one read to the next (src/cli/group-names.ts),
 * here in a folder of the bench's own, emptied before each row: a row's first kstate run reads as
 * on a new machine, the others as a user's next commands do.
 */
const CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-latency-cache-"));

/** Runs of each row so far, over all latencies: a writing row's next run must change what the last one wrote. */
const runsSoFar = new Map<string, number>();

async function runRow(row: Row, proxy: CountingProxy, latency: number): Promise<RowResult> {
  const count = row.migration ? MIGRATE_RUNS : RUNS;
  const first = runsSoFar.get(row.id) ?? 0;
  runsSoFar.set(row.id, first + count);
  const runs = new Map(row.tools.map((t) => [t.name, [] as Run[]]));
  fs.rmSync(CACHE_DIR, { recursive: true, force: true });
  fs.mkdirSync(CACHE_DIR);
  for (let r = 0; r < count; r++) {
    for (const t of row.tools) {
      const prepared = await t.prepare(first + r);
      const run = await measure(`${row.id} at ${latency} ms, ${t.name}`, prepared.command, proxy, row.timeoutMs);
      await prepared.check?.(run);
      runs.get(t.name)!.push(run);
      process.stderr.write(`  ${t.name}: ${Math.round(run.wallMs)} ms, CPU ${run.cpuMs} ms, ${run.requests} requests, chain ${run.chain}\n`);
    }
  }
  return summarise(row, runs, latency);
}

/** Both directions get `ms` of latency (none at 0); connections made before are closed. */
async function setLatency(proxy: Proxy, ms: number): Promise<void> {
  await proxy.heal();
  if (ms === 0) return;
  for (const stream of ["upstream", "downstream"] as const) await proxy.addToxic({ type: "latency", stream, attributes: { latency: ms } });
}

/** The stored nodes group of `cluster` with `edit` applied, in a file of its own per variant. */
async function manifests(store: string, cluster: string, edits: ((doc: string) => string)[]): Promise<string[]> {
  const doc = await readText(store, cluster, "instancegroup/nodes-fsn1");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-latency-manifests-"));
  return edits.map((edit, i) => {
    const changed = edit(doc);
    if (changed === doc) throw new Error(`the edit ${i} of ${cluster}'s nodes-fsn1 changed nothing:\n${doc}`);
    const file = path.join(dir, `${cluster}-${i}.yaml`);
    fs.writeFileSync(file, changed);
    return file;
  });
}

async function main(): Promise<void> {
  const [kops, rclone, aws] = [toolPath("kops"), need("rclone"), need("aws")];
  const loadAverageAtStart = os.loadavg().map((l) => Number(l.toFixed(1)));
  let toxiproxy: Toxiproxy | undefined;
  let counting: CountingProxy | undefined;
  try {
    servers.minio = await startMinio();
    toxiproxy = await Toxiproxy.start();
    const toxic = await toxiproxy.createProxy("minio", `127.0.0.1:${servers.minio.port}`);
    const { NODE_EXTRA_CA_CERTS: _certs, ...base } = toolEnv();
    const direct = { ...base, PATH: `/usr/bin:${base.PATH ?? "/bin"}` };

    process.stderr.write("writing the stores\n");
    const [readStore, manyStore, bigStore, writeStore] = await Promise.all([0, 1, 2, 3].map(async () => `s3://${await makeS3Bucket()}`)) as [string, string, string, string];
    const cluster = "bench.k8s.example.com";
    const wideClusterName = "wide.k8s.example.com";
    const bigCluster = "big.k8s.example.com";
    const writers = ["merge-kstate", "merge-kops", "apply-kstate", "apply-kops"].map((w) => `${w}.k8s.example.com`);
    const [clusterFiles, bigFiles] = await Promise.all([
      clusterOf(readStore, cluster, CLUSTER_FILES, direct), clusterOf(bigStore, bigCluster, BIG_FILES, direct),
      manyClusters(manyStore, MANY_CLUSTERS, 50), ...writers.map((w) => createCluster(writeStore, w, direct)),
      wideCluster(readStore, wideClusterName, WIDE_GROUPS, direct),
    ]);
    const nodeCount = (n: number) => (doc: string) => doc.replace(/maxSize: \d+/, `maxSize: ${n}`).replace(/minSize: \d+/, `minSize: ${n}`);
    const machineType = (t: string) => (doc: string) => doc.replace(/machineType: \S+/, `machineType: ${t}`);
    const files = {
      merge: await manifests(writeStore, writers[1]!, [nodeCount(2), nodeCount(3)]),
      applyKstate: await manifests(writeStore, writers[2]!, [machineType("cx32"), machineType("cx42")]),
      applyKops: await manifests(writeStore, writers[3]!, [machineType("cx32"), machineType("cx42")]),
    };
    const context = (endpoint: string): Context => ({
      endpoint, kops, rclone, aws, readStore, cluster, clusterFiles, wideCluster: wideClusterName, wideGroups: WIDE_GROUPS, manyStore, manyClusters: MANY_CLUSTERS, bigStore, bigCluster, bigFiles, writeStore,
      manifests: files,
      freshBucket: async () => `s3://${await makeS3Bucket()}`,
      env: {
        ...direct, S3_ENDPOINT: endpoint, KSTATE_CACHE_DIR: CACHE_DIR,
        KOPS_RUN_TOO_NEW_VERSION: "1", HCLOUD_TOKEN: "unused-offline", KOPS_FEATURE_FLAGS: "-ImageDigest",
        AWS_ACCESS_KEY_ID: MINIO_USER, AWS_SECRET_ACCESS_KEY: MINIO_PASSWORD, AWS_DEFAULT_REGION: "us-east-1", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true",
        AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_PROFILE: undefined,
        RCLONE_CONFIG: "/dev/null", RCLONE_CONFIG_MINIO_TYPE: "s3", RCLONE_CONFIG_MINIO_PROVIDER: "Minio", RCLONE_CONFIG_MINIO_ENDPOINT: endpoint,
        RCLONE_CONFIG_MINIO_ACCESS_KEY_ID: MINIO_USER, RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY: MINIO_PASSWORD, RCLONE_CONFIG_MINIO_REGION: "us-east-1",
      },
    });
    process.stderr.write(`${cluster}: ${clusterFiles} files; ${bigCluster}: ${bigFiles} files; ${MANY_CLUSTERS} clusters of 50 files\n`);

    const latencies: Record<string, RowResult[]> = {};
    // With KSTATE_LATENCY_ROWS, the rows not run keep the last run's figures (each row has its date).
    const last = ONLY && fs.existsSync(RESULTS) ? (JSON.parse(fs.readFileSync(RESULTS, "utf8")) as { latencies?: Record<string, RowResult[]> }).latencies ?? {} : {};
    const keptWith = (ms: string, done: RowResult[]): RowResult[] => {
      const order = rows(context("")).map((r) => r.id);
      const byId = new Map([...(last[ms] ?? []), ...done].map((r) => [r.id, r]));
      return order.flatMap((id) => byId.get(id) ?? []);
    };
    const versions = {
      node: process.version, kops: (await exec(kops, ["version", "--short"], { env: { ...direct, KOPS_RUN_TOO_NEW_VERSION: "1" } })).stdout.trim(),
      rclone: (await exec(rclone, ["version"])).stdout.split("\n")[0], aws: (await exec(aws, ["--version"])).stdout.trim(),
    };
    const write = () => {
      const results = {
        date: new Date().toISOString(),
        // The machine is shared: its load beside the figures says how much they were disturbed.
        machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverageAtStart, loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(1))) },
        runs: RUNS, migrateRuns: MIGRATE_RUNS, latencyMsEachWay: LATENCIES,
        store: { cluster: { files: clusterFiles }, bigCluster: { files: bigFiles }, manyClusters: { clusters: MANY_CLUSTERS, filesEach: 50 } },
        versions,
        latencies,
      };
      fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
      fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
      writeLatencyTable(path.join(REPO, "bench", "README.md"), results);
    };
    for (const ms of LATENCIES) {
      await setLatency(toxic, ms);
      counting = await CountingProxy.start(toxic.endpoint);
      const done: RowResult[] = [];
      for (const row of rows(context(counting.endpoint))) {
        if (ONLY && !ONLY.includes(row.id)) continue;
        process.stderr.write(`${ms} ms each way: ${row.id}\n`);
        done.push(await runRow(row, counting, ms));
      }
      latencies[String(ms)] = ONLY ? keptWith(String(ms), done) : done;
      await counting.close();
      counting = undefined;
      write(); // after each latency: a run that fails later keeps what it measured
    }
    process.stderr.write(`wrote ${RESULTS}\n`);
  } finally {
    await counting?.close();
    await toxiproxy?.stop();
    await servers.minio?.stop();
    fs.rmSync(CACHE_DIR, { recursive: true, force: true });
  }
}

// Exits when done: a kept-alive socket of a client that talked to the stopped servers must not hold the run open.
main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
