/**
 * `npm run bench:migrate`: a generated store of 10,000 kops-like files (200 B to 256 KiB) plus one
 * 1 GiB file, moved MinIO bucket to MinIO bucket and MinIO to fake-gcs-server by `kstate migrate`,
 * side by side in one run with `rclone sync --checksum` (at its defaults and at 16 transfers,
 * kstate's starting pace where the bytes pass through it) and `aws s3 sync` (S3 pair). kstate runs at its default pace. Each tool runs as its own process under
 * /usr/bin/time (wall time, peak RSS, its own CPU) into a fresh destination bucket, with MinIO's
 * CPU read from /proc. The 10,000-file S3 move runs KSTATE_BENCH_REPEATS times per tool
 * (default 3, interleaved) and counts the median; the moves with the 1 GiB file run once.
 * Figures go to bench/results/migrate.json and a table in bench/README.md.
 * KSTATE_BENCH_PAIRS=s3 or =gcs runs one pair and keeps the other's figures from the last run.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { randomFillSync } from "node:crypto";
import { MAX_IN_FLIGHT, SERVER_COPY_WAVE } from "../src/ops/copy-pace";
import { openPath } from "../src/vfs";
import { gcsOptions, makeGcsBucket, makeS3Bucket, openOptions, s3Options, servers, startAll, stopAll } from "../test/support/env";
import { MINIO_PASSWORD, MINIO_USER, toolPath } from "../test/support/servers";
import { median, toolEnv } from "./support";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..");
const RESULTS = path.join(REPO, "bench", "results", "migrate.json");
const FILES = Number(process.env.KSTATE_BENCH_FILES ?? 10_000);
const BIG_MIB = Number(process.env.KSTATE_BENCH_BIG_MIB ?? 1024);
/** Runs of each tool on the 10,000-file move; the median counts (one machine, run-to-run noise). */
const REPEATS = Number(process.env.KSTATE_BENCH_REPEATS ?? 3);
/**
 * The Node.js kstate runs on: the newest the tools hold (24), where `migrate` starts itself with
 * glibc's MALLOC_MMAP_THRESHOLD_ set (bin/kstate.js); KSTATE_BENCH_NODE names another.
 */
const KSTATE_NODE = process.env.KSTATE_BENCH_NODE ?? toolPath("node24");
/** rclone's transfers and checkers in its second row: kstate's starting pace where the bytes pass through it. */
const CONCURRENCY = 16;
const PAIRS = process.env.KSTATE_BENCH_PAIRS ?? "s3,gcs";
const CLUSTER = "bench.k8s.example.com";

interface Measured {
  tool: string;
  wallSeconds: number;
  peakRssMiB: number;
  /** CPU the tool itself used (user + system). */
  cpuSeconds: number;
  /** CPU the S3 server (MinIO) used during the run. */
  serverCpuSeconds: number;
  filesPerSecond: number;
  mbPerSecond: number;
}

interface Tool {
  name: string;
  cmd: string;
  args: (destination: string) => string[];
}

function need(tool: string): string {
  for (const p of [`/usr/bin/${tool}`, `/usr/local/bin/${tool}`]) if (fs.existsSync(p)) return p;
  throw new Error(`${tool} is not installed: apt-get install rclone awscli (Debian's packages) before npm run bench:migrate`);
}

/** CPU seconds a process has used so far (Linux /proc). */
function cpuOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, 100 per second on Linux
}

async function timed(tool: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, files: number, bytes: number): Promise<Measured> {
  const out = path.join(os.tmpdir(), `kstate-time-${process.pid}-${Date.now()}`);
  const serverPid = servers.minio!.process.pid!;
  const serverBefore = cpuOf(serverPid);
  try {
    await run("/usr/bin/time", ["-f", "%e %U %S %M", "-o", out, cmd, ...args], { env, maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${tool} failed: ${(e as Error).message}\n${(e as { stderr?: string }).stderr ?? ""}`);
  }
  const [wall, user, system, rssKiB] = fs.readFileSync(out, "utf8").trim().split(/\s+/).slice(-4).map(Number) as [number, number, number, number];
  fs.rmSync(out, { force: true });
  const m: Measured = {
    tool, wallSeconds: wall, peakRssMiB: Math.round(rssKiB / 102.4) / 10, cpuSeconds: Number((user + system).toFixed(2)),
    serverCpuSeconds: Number((cpuOf(serverPid) - serverBefore).toFixed(2)),
    filesPerSecond: Math.round(files / wall), mbPerSecond: Math.round(bytes / 1e6 / wall),
  };
  process.stderr.write(`  ${tool}: ${wall}s, ${m.peakRssMiB} MiB peak, ${m.cpuSeconds} CPU s, server ${m.serverCpuSeconds} CPU s\n`);
  return m;
}

function sizeOf(i: number): number {
  // Sizes spread from 200 B to 256 KiB, most of them small, as in a real store.
  return Math.round(200 + (256 * 1024 - 200) * ((i * 2654435761) % 1000 / 1000) ** 3);
}

async function populate(url: string): Promise<number> {
  const root = openPath(url, openOptions()).join(CLUSTER);
  let bytes = 0;
  await root.join("config").write(`apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  configBase: ${url}/${CLUSTER}\n  kubernetesVersion: v1.30.2\n`);
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < FILES) {
      const i = next++;
      const size = sizeOf(i);
      const name = [`secrets/system:token-${i}`, `pki/private/ca-${i}/keyset.yaml`, `backups/etcd/main/${i}/etcd.backup.gz`, `addons/addon-${i}.addons.k8s.io/k8s-1.16.yaml`, `instancegroup/nodes-${i}`][i % 5]!;
      bytes += size;
      await root.join(name).write(randomFillSync(Buffer.alloc(size)));
    }
  }));
  return bytes;
}

async function addBigFile(url: string): Promise<number> {
  let sent = 0;
  const big = BIG_MIB * 1024 * 1024;
  await openPath(url, openOptions()).join(CLUSTER, "backups/etcd/main/full/etcd.db").writeStream(Readable.from((function* () {
    while (sent < big) {
      sent += 1024 * 1024;
      yield randomFillSync(Buffer.alloc(1024 * 1024));
    }
  })()));
  return big;
}

/** Each tool `repeats` times, interleaved, each into a fresh bucket. */
async function compare(tools: Tool[], fresh: () => Promise<string>, repeats: number, env: NodeJS.ProcessEnv, files: number, bytes: number): Promise<Measured[]> {
  const runs: Measured[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const t of tools) runs.push(await timed(t.name, t.cmd, t.args(await fresh()), env, files, bytes));
  }
  return runs;
}

/** Per tool: the run with the median wall time, and the ratios of kstate's median to each peer's. */
function summarise(runs: Measured[]): { medians: Measured[]; ratios: Record<string, number> } {
  const names = [...new Set(runs.map((r) => r.tool))];
  const medians = names.map((n) => {
    const mine = runs.filter((r) => r.tool === n).sort((a, b) => a.wallSeconds - b.wallSeconds);
    return { ...mine[Math.floor((mine.length - 1) / 2)]!, wallSeconds: Number(median(mine.map((r) => r.wallSeconds)).toFixed(2)), peakRssMiB: Math.max(...mine.map((r) => r.peakRssMiB)) };
  });
  const kstate = medians.find((m) => m.tool === "kstate")!;
  const ratio = (prefix: string) => {
    const peer = medians.find((m) => m.tool.startsWith(prefix));
    return peer ? Number((kstate.wallSeconds / peer.wallSeconds).toFixed(3)) : undefined;
  };
  const ratios: Record<string, number> = {};
  for (const [key, prefix] of [["ratioToRcloneSameConcurrency", "rclone (--transfers"], ["ratioToRcloneDefaults", "rclone (defaults)"], ["ratioToAwsS3Sync", "aws"]] as const) {
    const r = ratio(prefix);
    if (r !== undefined) ratios[key] = r;
  }
  return { medians, ratios };
}

async function main(): Promise<void> {
  const rclone = need("rclone");
  const aws = need("aws");
  await startAll();
  try {
    const s3 = s3Options();
    const gcs = gcsOptions();
    const source = await makeS3Bucket();
    process.stderr.write(`populating s3://${source}/${CLUSTER}: ${FILES} files\n`);
    const smallBytes = await populate(`s3://${source}`);
    const env: NodeJS.ProcessEnv = {
      ...toolEnv(),
      STORAGE_EMULATOR_HOST: gcs.endpoint, GOOGLE_CLOUD_PROJECT: "kstate-test",
      AWS_ACCESS_KEY_ID: MINIO_USER, AWS_SECRET_ACCESS_KEY: MINIO_PASSWORD, AWS_DEFAULT_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true",
      RCLONE_CONFIG_MINIO_TYPE: "s3", RCLONE_CONFIG_MINIO_PROVIDER: "Minio", RCLONE_CONFIG_MINIO_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_MINIO_ACCESS_KEY_ID: MINIO_USER, RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY: MINIO_PASSWORD, RCLONE_CONFIG_MINIO_REGION: "us-east-1",
      RCLONE_CONFIG_FAKEGCS_TYPE: "google cloud storage", RCLONE_CONFIG_FAKEGCS_ENDPOINT: `${gcs.endpoint}/storage/v1/`,
      RCLONE_CONFIG_FAKEGCS_ANONYMOUS: "true", RCLONE_CONFIG_FAKEGCS_PROJECT_NUMBER: "kstate-test", RCLONE_CONFIG_FAKEGCS_BUCKET_POLICY_ONLY: "true",
    };
    const peer = (remote: string) => (to: string) => `${remote}:${to.replace(/^[a-z0-9]+:\/\//, "")}/${CLUSTER}`;
    const tools = (remote: string, withAws: boolean): Tool[] => [
      { name: "kstate", cmd: KSTATE_NODE, args: (to) => [path.join(REPO, "bin", "kstate.js"), "migrate", CLUSTER, "--from", `s3://${source}`, "--to", to, "--yes"] },
      { name: "rclone (defaults)", cmd: rclone, args: (to) => ["sync", "--checksum", `minio:${source}/${CLUSTER}`, peer(remote)(to)] },
      { name: `rclone (--transfers ${CONCURRENCY} --checkers ${CONCURRENCY})`, cmd: rclone, args: (to) => ["sync", "--checksum", "--transfers", String(CONCURRENCY), "--checkers", String(CONCURRENCY), `minio:${source}/${CLUSTER}`, peer(remote)(to)] },
      ...(withAws ? [{ name: "aws s3 sync", cmd: aws, args: (to: string) => ["s3", "sync", "--only-show-errors", "--endpoint-url", s3.endpoint!, `s3://${source}/${CLUSTER}`, `${to}/${CLUSTER}`] }] : []),
    ];
    const freshS3 = async () => `s3://${await makeS3Bucket()}`;
    const freshGcs = async () => `gs://${await makeGcsBucket()}`;
    const results: Record<string, unknown> = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      concurrency: CONCURRENCY,
      repeats: REPEATS,
      versions: { kstateNode: (await run(KSTATE_NODE, ["--version"])).stdout.trim(), rclone: (await run(rclone, ["version"])).stdout.split("\n")[0], aws: (await run(aws, ["--version"])).stdout.trim() },
    };

    const previous = fs.existsSync(RESULTS) ? (JSON.parse(fs.readFileSync(RESULTS, "utf8")) as Record<string, unknown>) : {};
    const kstatePeak = (rows: Measured[]) => rows.find((m) => m.tool === "kstate")!.peakRssMiB;
    let small: ReturnType<typeof summarise> | undefined;
    if (PAIRS.includes("s3")) {
      process.stderr.write(`S3 -> S3, ${FILES + 1} files, ${REPEATS} runs of each tool\n`);
      small = summarise(await compare(tools("minio", true), freshS3, REPEATS, env, FILES + 1, smallBytes));
    }
    process.stderr.write(`adding a ${BIG_MIB} MiB file\n`);
    const fullBytes = smallBytes + await addBigFile(`s3://${source}`);
    results.store = { files: FILES + 2, bytes: fullBytes, bigFileMiB: BIG_MIB, filesWithoutBigFile: FILES + 1, bytesWithoutBigFile: smallBytes };
    if (small) {
      process.stderr.write(`S3 -> S3, ${FILES + 2} files with the big one\n`);
      const full = summarise(await compare(tools("minio", true), freshS3, 1, env, FILES + 2, fullBytes));
      results.s3ToS3 = {
        // The 10,000-file move: the headline ratios.
        ...small.ratios,
        peakRssMiB: Math.max(kstatePeak(small.medians), kstatePeak(full.medians)),
        files10k: { runs: small.medians },
        withBigFile: { runs: full.medians, ...full.ratios },
      };
    } else results.s3ToS3 = previous.s3ToS3;
    if (PAIRS.includes("gcs")) {
      process.stderr.write(`S3 -> GCS, ${FILES + 2} files with the big one\n`);
      const gcsRows = summarise(await compare(tools("fakegcs", false), freshGcs, 1, env, FILES + 2, fullBytes));
      results.s3ToGcs = { runs: gcsRows.medians, ...gcsRows.ratios, peakRssMiB: kstatePeak(gcsRows.medians) };
    } else results.s3ToGcs = previous.s3ToGcs;
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    writeTable(results);
    process.stderr.write(`wrote ${RESULTS}\n`);
  } finally {
    await stopAll();
  }
}

function writeTable(results: Record<string, unknown>): void {
  type Row = Measured;
  const rows = (title: string, ms: Row[] | undefined) => (ms ?? []).map((m) => `| ${title} | ${m.tool} | ${m.wallSeconds} | ${m.filesPerSecond} | ${m.mbPerSecond} | ${m.peakRssMiB} | ${m.cpuSeconds ?? ""} | ${m.serverCpuSeconds ?? ""} |`).join("\n");
  const store = results.store as { files: number; bytes: number; bigFileMiB: number; filesWithoutBigFile: number };
  const s3 = results.s3ToS3 as { files10k: { runs: Row[] }; withBigFile: { runs: Row[] }; ratioToRcloneSameConcurrency: number; ratioToRcloneDefaults: number };
  const gcs = results.s3ToGcs as { runs?: Row[] } | undefined;
  const many = (store.filesWithoutBigFile - 1).toLocaleString("en-US");
  const big = store.bigFileMiB >= 1024 ? `${store.bigFileMiB / 1024} GiB` : `${store.bigFileMiB} MiB`;
  const table = `## Migration (\`npm run bench:migrate\`, ${String(results.date).slice(0, 10)})

A generated store of ${store.filesWithoutBigFile} kops-like files (200 B to 256 KiB), then the same plus one
${store.bigFileMiB} MiB file (${store.files} files, ${(store.bytes / 2 ** 30).toFixed(2)} GiB), one cluster, on loopback (${(results.machine as { cpus: number }).cpus} cores shared by
the tool and the servers). kstate runs at its default pace (MinIO to MinIO, where the server copies:
waves of ${SERVER_COPY_WAVE} files; to fake-gcs-server: ${CONCURRENCY}, doubling to ${MAX_IN_FLIGHT} while that copies faster) and verifies every file by hash; its writes
ask for AES256 server-side encryption, as kops's do, the other tools' do not. The ${many}-file rows
are the median of ${String(results.repeats)} interleaved runs; "CPU s" is the tool's own CPU, "server CPU s" MinIO's.

| pair | tool | wall s | files/s | MB/s | peak RSS MiB | CPU s | server CPU s |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows(`MinIO -> MinIO, ${many} files`, s3.files10k.runs)}
${rows(`MinIO -> MinIO, with the ${big} file`, s3.withBigFile.runs)}
${rows(`MinIO -> fake-gcs-server, with the ${big} file`, gcs?.runs)}

${many}-file S3 -> S3: kstate / rclone at \`--transfers ${CONCURRENCY} --checkers ${CONCURRENCY}\` = ${s3.ratioToRcloneSameConcurrency}, / rclone at its defaults = ${s3.ratioToRcloneDefaults}.
`;
  const readme = path.join(REPO, "bench", "README.md");
  const existing = fs.existsSync(readme) ? fs.readFileSync(readme, "utf8") : "# Benchmarks\n\nFigures from the runs recorded in `bench/results/`.\n";
  const start = existing.indexOf("## Migration");
  const rest = start < 0 ? "" : existing.slice(start).replace(/^## Migration[\s\S]*?(?=\n## |$)/, "");
  fs.writeFileSync(readme, `${(start < 0 ? existing : existing.slice(0, start)).trimEnd()}\n\n${table}${rest}`);
}

main().catch(async (e: unknown) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
