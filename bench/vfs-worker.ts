/**
 * One VFS benchmark case in its own process, so that its peak RSS is its own.
 * Usage: node vfs-worker.js '<json case>'; prints one JSON result line.
 */
import { randomFillSync } from "node:crypto";
import { Readable } from "node:stream";
import { openPath, type OpenOptions } from "../src/vfs";

interface Case {
  kind: "object" | "tree";
  url: string;
  options: OpenOptions;
  bytes?: number;
  files?: number;
}

/** Random bytes in 64 KiB chunks (as a file stream gives them), made as they are consumed. */
function generated(total: number, chunk = 64 * 1024): Readable {
  let sent = 0;
  return Readable.from((function* () {
    while (sent < total) {
      const n = Math.min(chunk, total - sent);
      sent += n;
      yield randomFillSync(Buffer.allocUnsafe(n));
    }
  })());
}

function rssMiB(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

async function objectCase(c: Case): Promise<Record<string, number>> {
  const bytes = c.bytes!;
  const p = openPath(c.url, c.options);
  let t = process.hrtime.bigint();
  await p.writeStream(generated(bytes));
  const writeSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const peakRssAfterWriteMiB = rssMiB();
  t = process.hrtime.bigint();
  const { stream } = await p.readStream();
  let read = 0;
  for await (const chunk of stream) read += (chunk as Buffer).length;
  const readSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (read !== bytes) throw new Error(`read ${read} bytes, wrote ${bytes}`);
  await p.remove();
  const mb = bytes / 1e6;
  return { bytes, writeSeconds, readSeconds, writeMBps: mb / writeSeconds, readMBps: mb / readSeconds, peakRssAfterWriteMiB, peakRssMiB: rssMiB() };
}

async function treeCase(c: Case): Promise<Record<string, number>> {
  const root = openPath(c.url, c.options);
  const files = c.files!;
  const body = Buffer.alloc(200, "x");
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < files) {
      const i = next++;
      await root.join(`cluster-${i % 50}.example.com`, "instancegroup", `nodes-${i}`).write(body);
    }
  }));
  const populateSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const t = process.hrtime.bigint();
  const listed = await root.listTree();
  const listSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (listed.length !== files) throw new Error(`listed ${listed.length} files, wrote ${files}`);
  return { files, populateSeconds, listSeconds, listFilesPerSecond: files / listSeconds, peakRssMiB: rssMiB() };
}

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2]!) as Case;
  const result = c.kind === "object" ? await objectCase(c) : await treeCase(c);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
