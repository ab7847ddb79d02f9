/**
 * `npm run bench:cli`: `kstate get cluster NAME` beside `kops get cluster NAME` on one MinIO store,
 * 20 runs each, interleaved; then `kstate get clusters` beside `kops get clusters` on a store of
 * 1,000 clusters with about 50 kops files each (5 runs each, medians). Same list checked. Figures
 * go to bench/results/cli.json.
 *
 * Both tools run without NODE_EXTRA_CA_CERTS: where the machine sets it (for a proxy's CA, say),
 * every Node.js process reads and parses that bundle before any of its code runs (about 40 ms
 * here), which says nothing about kstate and which kops, a Go program, never pays. The `get
 * cluster` figures with the machine's own environment are recorded beside, for reference.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { openPath } from "../src/vfs";
import { makeS3Bucket, openOptions, startAll, stopAll } from "../test/support/env";
import { toolPath } from "../test/support/servers";
import { median, toolEnv } from "./support";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..");
const RESULTS = path.join(REPO, "bench", "results", "cli.json");
const RUNS = Number(process.env.KSTATE_BENCH_RUNS ?? 20);
const LIST_RUNS = Number(process.env.KSTATE_BENCH_LIST_RUNS ?? 5);
const CLUSTERS = Number(process.env.KSTATE_BENCH_CLUSTERS ?? 1000);
const FILES_PER_CLUSTER = 50;

function config(name: string, store: string): string {
  return `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  creationTimestamp: "2026-11-20T00:00:00Z"\n  name: ${name}\nspec:\n  cloudProvider: aws\n  configBase: ${store}/${name}\n  kubernetesVersion: v1.30.2\n  subnets:\n  - name: us-east-1a\n    type: Public\n    zone: us-east-1a\n`;
}


async function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  const t = process.hrtime.bigint();
  const { stdout } = await run(cmd, args, { env, maxBuffer: 64 << 20 });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, stdout };
}

async function main(): Promise<void> {
  await startAll();
  try {
    const kops = toolPath("kops");
    const kstate = path.join(REPO, "bin", "kstate.js");
    const machineEnv = toolEnv();
    const { NODE_EXTRA_CA_CERTS: extraCerts, ...env } = machineEnv;
    const results: Record<string, unknown> = { date: new Date().toISOString(), runs: RUNS };

    const single = `s3://${await makeS3Bucket()}`;
    await openPath(single, openOptions()).join("dev.k8s.example.com", "config").write(config("dev.k8s.example.com", single));
    const getCluster = async (toolEnvironment: NodeJS.ProcessEnv) => {
      const times: Record<string, number[]> = { kstate: [], kops: [] };
      for (let i = 0; i < RUNS; i++) {
        times.kstate!.push((await time(process.execPath, [kstate, "get", "cluster", "dev.k8s.example.com", "--state", single], toolEnvironment)).ms);
        times.kops!.push((await time(kops, ["get", "cluster", "dev.k8s.example.com", "--state", single], toolEnvironment)).ms);
      }
      return {
        kstateMedianMs: Math.round(median(times.kstate!)), kopsMedianMs: Math.round(median(times.kops!)),
        ratio: Number((median(times.kstate!) / median(times.kops!)).toFixed(3)), samplesMs: times,
      };
    };
    const clean = await getCluster(env);
    results.getCluster = clean;
    process.stderr.write(`get cluster: kstate ${clean.kstateMedianMs} ms, kops ${clean.kopsMedianMs} ms (median of ${RUNS})\n`);
    if (extraCerts !== undefined) {
      const withCerts = await getCluster(machineEnv);
      results.getClusterWithMachineNodeExtraCaCerts = { ...withCerts, samplesMs: undefined };
      process.stderr.write(`get cluster with NODE_EXTRA_CA_CERTS as the machine sets it: kstate ${withCerts.kstateMedianMs} ms, kops ${withCerts.kopsMedianMs} ms\n`);
    }

    const big = `s3://${await makeS3Bucket()}`;
    const root = openPath(big, openOptions());
    process.stderr.write(`populating ${big}: ${CLUSTERS} clusters x ${FILES_PER_CLUSTER} files\n`);
    let next = 0;
    const total = CLUSTERS * FILES_PER_CLUSTER;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < total) {
        const i = next++;
        const c = Math.floor(i / FILES_PER_CLUSTER);
        const k = i % FILES_PER_CLUSTER;
        const name = `c${String(c).padStart(4, "0")}.k8s.example.com`;
        const file = k === 0 ? "config" : k < 4 ? `instancegroup/nodes-${k}` : k < 20 ? `pki/private/ca-${k}/keyset.yaml` : k < 30 ? `secrets/token-${k}` : `addons/a-${k}/k8s-1.16.yaml`;
        await root.join(name, file).write(k === 0 ? config(name, big) : k < 4 ? `apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  name: nodes-${k}\nspec:\n  role: Node\n` : "x".repeat(300));
      }
    }));
    const listTimes: Record<string, number[]> = { kstate: [], kops: [] };
    let ks = { ms: 0, stdout: "" };
    let kp = { ms: 0, stdout: "" };
    for (let i = 0; i < LIST_RUNS; i++) {
      ks = await time(process.execPath, [kstate, "get", "clusters", "--state", big], env);
      kp = await time(kops, ["get", "clusters", "--state", big], env);
      listTimes.kstate!.push(ks.ms);
      listTimes.kops!.push(kp.ms);
    }
    const names = (out: string) => out.trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0]).sort();
    const same = JSON.stringify(names(ks.stdout)) === JSON.stringify(names(kp.stdout));
    const kstateMs = median(listTimes.kstate!);
    const kopsMs = median(listTimes.kops!);
    results.getClusters = {
      clusters: CLUSTERS, objects: total, runs: LIST_RUNS, kstateMedianMs: Math.round(kstateMs), kopsMedianMs: Math.round(kopsMs),
      ratio: Number((kstateMs / kopsMs).toFixed(3)), sameList: same, listed: names(ks.stdout).length, samplesMs: listTimes,
    };
    process.stderr.write(`get clusters (${CLUSTERS} clusters, ${total} objects): kstate ${kstateMs.toFixed(0)} ms, kops ${kopsMs.toFixed(0)} ms (median of ${LIST_RUNS}), same list: ${same}\n`);
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`wrote ${RESULTS}\n`);
  } finally {
    await stopAll();
  }
}

main().catch(async (e: unknown) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
