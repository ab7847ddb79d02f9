/**
 * `npm run bench:vfs`: moves a 512 MiB object through the s3 (MinIO) and gs (fake-gcs-server)
 * backends and lists a 10,000-file tree on each backend. Each case runs in its own process so
 * its peak RSS is its own. Figures go to bench/results/vfs.json.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { makeGcsBucket, makeS3Bucket, openOptions, startAll, stopAll, uniqueName } from "../test/support/env";

const run = promisify(execFile);
const OBJECT_BYTES = Number(process.env.KSTATE_BENCH_OBJECT_MIB ?? 512) * 1024 * 1024;
const TREE_FILES = Number(process.env.KSTATE_BENCH_TREE_FILES ?? 10_000);
const RESULTS = path.resolve(__dirname, "..", "..", "bench", "results", "vfs.json");

async function worker(spec: object): Promise<Record<string, number>> {
  const { stdout } = await run(process.execPath, [path.join(__dirname, "vfs-worker.js"), JSON.stringify(spec)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, number>;
}

async function main(): Promise<void> {
  await startAll();
  const options = openOptions();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bench-"));
  try {
    const s3Bucket = await makeS3Bucket();
    const gsBucket = await makeGcsBucket();
    const results: Record<string, unknown> = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      servers: { s3: "MinIO (single drive, loopback)", gs: "fake-gcs-server (memory backend, loopback)" },
      object: {} as Record<string, unknown>,
      tree: {} as Record<string, unknown>,
    };
    const object = results.object as Record<string, unknown>;
    const tree = results.tree as Record<string, unknown>;
    for (const [name, url] of [["s3", `s3://${s3Bucket}/big.bin`], ["gs", `gs://${gsBucket}/big.bin`]] as const) {
      process.stderr.write(`object ${name}: ${OBJECT_BYTES / 2 ** 20} MiB… `);
      object[name] = await worker({ kind: "object", url, options, bytes: OBJECT_BYTES });
      process.stderr.write(`${JSON.stringify(object[name])}\n`);
    }
    const treeUrls = [
      ["s3", `s3://${s3Bucket}/tree`], ["gs", `gs://${gsBucket}/tree`], ["file", `file://${tmp}/tree`], ["memfs", `memfs://${uniqueName("bench")}`],
    ] as const;
    for (const [name, url] of treeUrls) {
      process.stderr.write(`tree ${name}: ${TREE_FILES} files… `);
      tree[name] = await worker({ kind: "tree", url, options, files: TREE_FILES });
      process.stderr.write(`${JSON.stringify(tree[name])}\n`);
    }
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`wrote ${RESULTS}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await stopAll();
  }
}

main().catch(async (e: unknown) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
