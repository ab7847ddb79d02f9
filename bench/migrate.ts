/**
 * `npm run bench:migrate`: a generated store of 10,000 kops-like files (200 B to 256 KiB) plus one
 * 1 GiB file, moved MinIO bucket to MinIO bucket and MinIO to fake-gcs-server by `kstate migrate`,
 * side by side in one run with `rclone sync --checksum` (at its defaults and at kstate's
 * concurrency) and `aws s3 sync` (S3 pair). Each tool runs as its own process under
 * /usr/bin/time for wall time and peak RSS, into a fresh destination bucket.
 * Figures go to bench/results/migrate.json and a table in bench/README.md.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { randomFillSync } from "node:crypto";
import { openPath } from "../src/vfs";
import { gcsOptions, makeGcsBucket, makeS3Bucket, openOptions, s3Options, startAll, stopAll } from "../test/support/env";
import { MINIO_PASSWORD, MINIO_USER } from "../test/support/servers";
import { toolEnv } from "./support";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..");
const RESULTS = path.join(REPO, "bench", "results", "migrate.json");
const FILES = Number(process.env.KSTATE_BENCH_FILES ?? 10_000);
const BIG_MIB = Number(process.env.KSTATE_BENCH_BIG_MIB ?? 1024);
const CONCURRENCY = 16;
const CLUSTER = "bench.k8s.example.com";

interface Measured {
  tool: string;
  wallSeconds: number;
  peakRssMiB: number;
  filesPerSecond: number;
  mbPerSecond: number;
}

function need(tool: string): string {
  for (const p of [`/usr/bin/${tool}`, `/usr/local/bin/${tool}`]) if (fs.existsSync(p)) return p;
  throw new Error(`${tool} is not installed: apt-get install rclone awscli (Debian's packages) before npm run bench:migrate`);
}

async function timed(tool: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, bytes: number): Promise<Measured> {
  const out = path.join(os.tmpdir(), `kstate-time-${process.pid}-${Date.now()}`);
  try {
    await run("/usr/bin/time", ["-f", "%e %M", "-o", out, cmd, ...args], { env, maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${tool} failed: ${(e as Error).message}\n${(e as { stderr?: string }).stderr ?? ""}`);
  }
  const [wall, rssKiB] = fs.readFileSync(out, "utf8").trim().split(/\s+/).slice(-2).map(Number) as [number, number];
  fs.rmSync(out, { force: true });
  const m = { tool, wallSeconds: wall, peakRssMiB: Math.round(rssKiB / 102.4) / 10, filesPerSecond: Math.round((FILES + 2) / wall), mbPerSecond: Math.round(bytes / 1e6 / wall) };
  process.stderr.write(`  ${tool}: ${wall}s, ${m.peakRssMiB} MiB peak\n`);
  return m;
}

async function populate(url: string): Promise<number> {
  const root = openPath(url, openOptions()).join(CLUSTER);
  let bytes = 0;
  await root.join("config").write(`apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  configBase: ${url}/${CLUSTER}\n  kubernetesVersion: v1.30.2\n`);
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < FILES) {
      const i = next++;
      // Sizes spread from 200 B to 256 KiB, most of them small, as in a real store.
      const size = Math.round(200 + (256 * 1024 - 200) * ((i * 2654435761) % 1000 / 1000) ** 3);
      const name = [`secrets/system:token-${i}`, `pki/private/ca-${i}/keyset.yaml`, `backups/etcd/main/${i}/etcd.backup.gz`, `addons/addon-${i}.addons.k8s.io/k8s-1.16.yaml`, `instancegroup/nodes-${i}`][i % 5]!;
      bytes += size;
      await root.join(name).write(randomFillSync(Buffer.alloc(size)));
    }
  }));
  let sent = 0;
  const big = BIG_MIB * 1024 * 1024;
  await root.join("backups/etcd/main/full/etcd.db").writeStream(Readable.from((function* () {
    while (sent < big) {
      sent += 1024 * 1024;
      yield randomFillSync(Buffer.alloc(1024 * 1024));
    }
  })()));
  return bytes + big;
}

async function main(): Promise<void> {
  const rclone = need("rclone");
  const aws = need("aws");
  await startAll();
  try {
    const s3 = s3Options();
    const gcs = gcsOptions();
    const source = await makeS3Bucket();
    process.stderr.write(`populating s3://${source}/${CLUSTER}: ${FILES} files and a ${BIG_MIB} MiB file\n`);
    const bytes = await populate(`s3://${source}`);
    const env: NodeJS.ProcessEnv = {
      ...toolEnv(),
      STORAGE_EMULATOR_HOST: gcs.endpoint, GOOGLE_CLOUD_PROJECT: "kstate-test",
      AWS_ACCESS_KEY_ID: MINIO_USER, AWS_SECRET_ACCESS_KEY: MINIO_PASSWORD, AWS_DEFAULT_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true",
      RCLONE_CONFIG_MINIO_TYPE: "s3", RCLONE_CONFIG_MINIO_PROVIDER: "Minio", RCLONE_CONFIG_MINIO_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_MINIO_ACCESS_KEY_ID: MINIO_USER, RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY: MINIO_PASSWORD, RCLONE_CONFIG_MINIO_REGION: "us-east-1",
      RCLONE_CONFIG_FAKEGCS_TYPE: "google cloud storage", RCLONE_CONFIG_FAKEGCS_ENDPOINT: `${gcs.endpoint}/storage/v1/`,
      RCLONE_CONFIG_FAKEGCS_ANONYMOUS: "true", RCLONE_CONFIG_FAKEGCS_PROJECT_NUMBER: "kstate-test", RCLONE_CONFIG_FAKEGCS_BUCKET_POLICY_ONLY: "true",
    };
    const kstate = (to: string) => [path.join(REPO, "bin", "kstate.js"), "migrate", CLUSTER, "--from", `s3://${source}`, "--to", to, "--yes", "--concurrency", String(CONCURRENCY)];
    const results: Record<string, unknown> = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      store: { files: FILES + 2, bytes, bigFileMiB: BIG_MIB },
      concurrency: CONCURRENCY,
      versions: { rclone: (await run(rclone, ["version"])).stdout.split("\n")[0], aws: (await run(aws, ["--version"])).stdout.trim() },
    };

    process.stderr.write("S3 -> S3 (MinIO to MinIO)\n");
    const s3s3: Measured[] = [];
    s3s3.push(await timed("kstate", process.execPath, kstate(`s3://${await makeS3Bucket()}`), env, bytes));
    s3s3.push(await timed("rclone (defaults)", rclone, ["sync", "--checksum", `minio:${source}/${CLUSTER}`, `minio:${await makeS3Bucket()}/${CLUSTER}`], env, bytes));
    s3s3.push(await timed(`rclone (--transfers ${CONCURRENCY} --checkers ${CONCURRENCY})`, rclone, ["sync", "--checksum", "--transfers", String(CONCURRENCY), "--checkers", String(CONCURRENCY), `minio:${source}/${CLUSTER}`, `minio:${await makeS3Bucket()}/${CLUSTER}`], env, bytes));
    s3s3.push(await timed("aws s3 sync", aws, ["s3", "sync", "--only-show-errors", "--endpoint-url", s3.endpoint!, `s3://${source}/${CLUSTER}`, `s3://${await makeS3Bucket()}/${CLUSTER}`], env, bytes));

    const s3gcs: Measured[] = [];
    const onlyS3 = process.env.KSTATE_BENCH_PAIRS === "s3";
    if (!onlyS3) {
      process.stderr.write("S3 -> GCS (MinIO to fake-gcs-server)\n");
      s3gcs.push(await timed("kstate", process.execPath, kstate(`gs://${await makeGcsBucket()}`), env, bytes));
      s3gcs.push(await timed("rclone (defaults)", rclone, ["sync", "--checksum", `minio:${source}/${CLUSTER}`, `fakegcs:${await makeGcsBucket()}/${CLUSTER}`], env, bytes));
      s3gcs.push(await timed(`rclone (--transfers ${CONCURRENCY} --checkers ${CONCURRENCY})`, rclone, ["sync", "--checksum", "--transfers", String(CONCURRENCY), "--checkers", String(CONCURRENCY), `minio:${source}/${CLUSTER}`, `fakegcs:${await makeGcsBucket()}/${CLUSTER}`], env, bytes));
    }

    const ratio = (rows: Measured[], tool: string) => Number((rows[0]!.wallSeconds / rows.find((r) => r.tool.startsWith(tool))!.wallSeconds).toFixed(3));
    results.s3ToS3 = {
      runs: s3s3,
      ratioToRcloneSameConcurrency: ratio(s3s3, "rclone (--transfers"),
      ratioToRcloneDefaults: ratio(s3s3, "rclone (defaults)"),
      ratioToAwsS3Sync: ratio(s3s3, "aws"),
      peakRssMiB: s3s3[0]!.peakRssMiB,
    };
    if (onlyS3) {
      const previous = fs.existsSync(RESULTS) ? (JSON.parse(fs.readFileSync(RESULTS, "utf8")) as Record<string, unknown>) : {};
      results.s3ToGcs = previous.s3ToGcs;
      s3gcs.push(...(((previous.s3ToGcs as { runs?: Measured[] } | undefined)?.runs) ?? []));
    } else results.s3ToGcs = {
      runs: s3gcs,
      ratioToRcloneSameConcurrency: ratio(s3gcs, "rclone (--transfers"),
      ratioToRcloneDefaults: ratio(s3gcs, "rclone (defaults)"),
      peakRssMiB: s3gcs[0]!.peakRssMiB,
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    writeTable(results, s3s3, s3gcs);
    process.stderr.write(`wrote ${RESULTS}\n`);
  } finally {
    await stopAll();
  }
}

function writeTable(results: Record<string, unknown>, s3s3: Measured[], s3gcs: Measured[]): void {
  const rows = (title: string, ms: Measured[]) => ms.map((m) => `| ${title} | ${m.tool} | ${m.wallSeconds} | ${m.filesPerSecond} | ${m.mbPerSecond} | ${m.peakRssMiB} |`).join("\n");
  const store = results.store as { files: number; bytes: number; bigFileMiB: number };
  const table = `## Migration (\`npm run bench:migrate\`, ${String(results.date).slice(0, 10)})

${store.files} files (${(store.bytes / 2 ** 30).toFixed(2)} GiB, one of them ${store.bigFileMiB} MiB), one cluster, on loopback
(${(results.machine as { cpus: number }).cpus} cores). kstate runs at concurrency ${CONCURRENCY} and verifies every file by hash; its writes ask for
AES256 server-side encryption, as kops's do, the other tools' do not.

| pair | tool | wall s | files/s | MB/s | peak RSS MiB |
| --- | --- | ---: | ---: | ---: | ---: |
${rows("MinIO -> MinIO", s3s3)}
${rows("MinIO -> fake-gcs-server", s3gcs)}
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
