/**
 * The fault harness: toxiproxy between kstate and a MinIO and a fake-gcs-server of its own, the
 * buckets and cluster each trial works on, one trial (every operation at once through the proxy,
 * under whatever fault is on, then each checked against the server directly and run again), and
 * the tallies the reliability report records. test/reliability/faults.test.ts holds the scenarios.
 *
 * Each backend gets its own server, behind its own proxy: MinIO with a fixed data folder and
 * port, so that it can be killed and started again on the same data; fake-gcs-server with its
 * `-external-url` set to the proxy, so that the resumable-upload session URLs it hands out lead
 * back through the proxy and the upload's data chunks meet the faults too.
 */
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { rewriteConfigBase, syncCluster } from "../../src/ops/migrate";
import { configBaseOf } from "../../src/store/layout";
import { parseYaml } from "../../src/store/yaml";
import { AlreadyExistsError, KstateError, NotFoundError, type OpenOptions, openPath, PreconditionFailedError, type VfsPath, type WriteResult } from "../../src/vfs";
import { record } from "../reliability/report";
import { kstate } from "./cli";
import { uniqueName } from "./env";
import { freePort, MINIO_PASSWORD, MINIO_USER, type RunningServer, startFakeGcs, startMinio } from "./servers";
import { type Proxy, type Toxic, type ToxicSpec, Toxiproxy } from "./toxiproxy";

export const CLUSTER = "faults.k8s.example.com";
export const IG = "instancegroup/nodes-us-east-1a";
/** Per request, under a fault: a black-holed request is given up after this long. */
export const TIMEOUT_MS = 1500;
/** Longest any one operation may take, faults and retries included; longer is a hang. */
export const HANG_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// The two backends, each behind its proxy

export interface Target {
  name: "s3" | "gcs";
  scheme: "s3" | "gs";
  proxy: Proxy;
  /** The server itself (for MinIO: killed and restarted by a scenario). */
  server: RunningServer;
  /** Larger than the backend's single-request limit: S3 multipart (6 MiB parts), GCS resumable (8 MiB). */
  streamSize: number;
  options(endpoint: string, extra?: Partial<OpenOptions>): OpenOptions;
  /** The CLI's and the Pulumi engine's variables for a server at `endpoint`. */
  env(endpoint: string): Record<string, string>;
  makeBucket(): Promise<string>;
}

function s3Target(proxy: Proxy, server: RunningServer): Target {
  return {
    name: "s3", scheme: "s3", proxy, server, streamSize: 7 * 1024 * 1024,
    options: (endpoint, extra) => ({ s3: { endpoint, region: "us-east-1", accessKeyId: MINIO_USER, secretAccessKey: MINIO_PASSWORD }, timeoutMs: 10_000, ...extra }),
    env: (endpoint) => ({ S3_ENDPOINT: endpoint, S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: MINIO_USER, S3_SECRET_ACCESS_KEY: MINIO_PASSWORD }),
    makeBucket: async () => {
      const s3 = await import("@aws-sdk/client-s3");
      const client = new s3.S3Client({
        endpoint: server.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: MINIO_USER, secretAccessKey: MINIO_PASSWORD },
      });
      const bucket = uniqueName("faults");
      await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
      client.destroy();
      return bucket;
    },
  };
}

function gcsTarget(proxy: Proxy, server: RunningServer): Target {
  return {
    name: "gcs", scheme: "gs", proxy, server, streamSize: 9 * 1024 * 1024,
    options: (endpoint, extra) => ({ gcs: { endpoint, projectId: "kstate-test" }, timeoutMs: 10_000, ...extra }),
    env: (endpoint) => ({ STORAGE_EMULATOR_HOST: endpoint }),
    makeBucket: async () => {
      const { Storage } = await import("@google-cloud/storage");
      const bucket = uniqueName("faults");
      await new Storage({ apiEndpoint: server.endpoint, projectId: "kstate-test" }).createBucket(bucket);
      return bucket;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Tallies

export interface Tally {
  trials: number;
  operations: number;
  successes: number;
  failures: number;
  /** Stale conditional writes refused as they should be (PreconditionFailed): neither of the above. */
  refusals: number;
  /** Conditional writes and creates that failed as a conflict with their own applied earlier attempt. */
  falseConflicts: number;
  lostFiles: number;
  corruptFiles: number;
  lostUpdates: number;
  /** Conditional writes with a stale revision that were applied anyway. */
  staleWritesApplied: number;
  /** Failures whose error was not a KstateError naming the URL (or, for the CLI, exit 0 / no URL). */
  unclearErrors: number;
  /** Operations that, run again without the fault, did not end where they should. */
  notConverged: number;
  /** What went wrong, for the assertion message. */
  problems: string[];
  /** Failure messages seen (a few), for the record. */
  sampleErrors: string[];
}

export function newTally(): Tally {
  return {
    trials: 0, operations: 0, successes: 0, failures: 0, refusals: 0, falseConflicts: 0, lostFiles: 0, corruptFiles: 0, lostUpdates: 0, staleWritesApplied: 0,
    unclearErrors: 0, notConverged: 0, problems: [], sampleErrors: [],
  };
}

export function flag(t: Tally, counter: "lostFiles" | "corruptFiles" | "lostUpdates" | "staleWritesApplied" | "unclearErrors" | "notConverged" | "falseConflicts", what: string): void {
  t[counter]++;
  t.problems.push(`${counter}: ${what}`);
}

export function recordTally(scenario: string, t: Tally, extra: Record<string, number> = {}): void {
  record(scenario, {
    trials: t.trials, operations: t.operations, successes: t.successes, failures: t.failures, refusals: t.refusals, falseConflicts: t.falseConflicts, lostFiles: t.lostFiles,
    corruptFiles: t.corruptFiles, lostUpdates: t.lostUpdates, staleWritesApplied: t.staleWritesApplied, unclearErrors: t.unclearErrors,
    notConverged: t.notConverged, ...extra,
  });
  if (t.sampleErrors.length) record(scenario, { sampleErrors: t.sampleErrors.slice(0, 4).join(" | ") });
}

export function assertClean(t: Tally): void {
  assert.deepEqual(
    { lostFiles: t.lostFiles, corruptFiles: t.corruptFiles, lostUpdates: t.lostUpdates, staleWritesApplied: t.staleWritesApplied, unclearErrors: t.unclearErrors, notConverged: t.notConverged, falseConflicts: t.falseConflicts },
    { lostFiles: 0, corruptFiles: 0, lostUpdates: 0, staleWritesApplied: 0, unclearErrors: 0, notConverged: 0, falseConflicts: 0 },
    t.problems.join("\n"),
  );
  assert.equal(t.successes + t.failures + t.refusals, t.operations);
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

/** Runs `fn`, never longer than HANG_MS: an operation that does not settle is a hang. */
export async function settle<T>(what: string, fn: () => Promise<T>): Promise<Outcome<T>> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${what} did not settle within ${HANG_MS / 1000}s`)), HANG_MS);
  });
  try {
    const value = await Promise.race([fn(), hang]);
    return { ok: true, value, ms: Date.now() - started };
  } catch (error) {
    if (String((error as Error)?.message).startsWith("HANG:")) throw error;
    return { ok: false, error, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

export async function readOrUndefined(p: VfsPath): Promise<Buffer | undefined> {
  try {
    return (await p.read()).data;
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
}

export function same(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a !== undefined && b !== undefined && a.equals(b);
}

function describeBytes(b: Buffer | undefined): string {
  return b === undefined ? "absent" : `${b.length} bytes`;
}

/** A VFS failure must be a KstateError whose message names `url`. */
function checkVfsError(t: Tally, op: string, error: unknown, url: string): void {
  const message = (error as Error)?.message ?? String(error);
  if (t.sampleErrors.length < 6 && !PreconditionFailedError.isInstance(error)) t.sampleErrors.push(message.slice(0, 200));
  if (!KstateError.isInstance(error)) flag(t, "unclearErrors", `${op}: not a KstateError: ${String(error)}`);
  else if (!message.includes(url)) flag(t, "unclearErrors", `${op}: message does not name ${url}: ${message}`);
}

/**
 * What a write left on the server (read directly): the old or the new bytes, never anything else,
 * and the new ones with the reported revision when it reported success. Returns what is there.
 */
async function checkWritten(t: Tally, op: string, outcome: Outcome<unknown>, file: VfsPath, url: string, old: Buffer, next: Buffer): Promise<Buffer | undefined> {
  const actual = await readOrUndefined(file);
  if (actual === undefined) flag(t, "lostFiles", `${url} is gone`);
  else if (!same(actual, old) && !same(actual, next)) flag(t, "corruptFiles", `${url}: ${describeBytes(actual)}, neither old (${old.length}) nor new (${next.length})`);
  if (outcome.ok) {
    if (!same(actual, next)) flag(t, "lostUpdates", `${url}: ${op} reported success but the server holds ${describeBytes(actual)}`);
    const revision = (await file.stat()).revision;
    const reported = (outcome.value as WriteResult).revision;
    if (revision !== reported) flag(t, "lostUpdates", `${url}: ${op} reported revision ${reported}, the server has ${revision}`);
  }
  return actual;
}

export function yamlOf(b: Buffer): Record<string, any> {
  return parseYaml(b.toString("utf8"), "test").toJS() as Record<string, any>;
}

// ---------------------------------------------------------------------------------------------
// One trial: every operation at once through the proxy, under whatever fault is on

export interface Fixture {
  target: Target;
  /** Buckets: VFS files, the CLI's cluster, the migration's source and destinations. */
  vfsBucket: string;
  cliBucket: string;
  srcBucket: string;
  dstBucket: string;
  /** The exported cluster folder the CLI applies. */
  exportDir: string;
  /** The migration's source files, as written. */
  sourceFiles: Map<string, Buffer>;
  /** The next maxSize the CLI applies. */
  nextMaxSize: number;
  trialNo: number;
}

export interface TrialOptions {
  /** Options for the VFS operations through the proxy (timeouts, retries). */
  vfs?: Partial<OpenOptions>;
  /** Runs alongside the operations: what happens to the server or proxy meanwhile. */
  during?: () => Promise<void>;
}

interface Case {
  name: string;
  /** The failure this operation must end in, when it must fail. */
  refused?: (error: unknown) => boolean;
  prepare(): Promise<void>;
  run(): Promise<unknown>;
  /** After the fault is gone: check against the server directly, then run again and check that. */
  verify(outcome: Outcome<unknown>, t: Tally): Promise<void>;
}

/** A write of `next` over `old`, checked against the server, then made `again` without the fault. */
function writeCase(proxied: VfsPath, direct: VfsPath, spec: {
  name: string;
  key: string;
  old: Buffer;
  next: Buffer;
  /** The write under the fault; `base` is the old bytes' revision. */
  write(file: VfsPath, base: string): Promise<unknown>;
  /** Beyond naming the URL, what a failure must not be. */
  failed?(t: Tally, error: unknown, actual: Buffer | undefined, url: string): void;
  again(file: VfsPath): Promise<unknown>;
}): Case {
  const { name, key, old, next } = spec;
  let base = "";
  return {
    name,
    prepare: async () => {
      base = (await direct.join(key).write(old)).revision;
    },
    run: () => spec.write(proxied.join(key), base),
    verify: async (outcome, t) => {
      const url = proxied.join(key).url;
      const actual = await checkWritten(t, name, outcome, direct.join(key), url, old, next);
      if (!outcome.ok) {
        checkVfsError(t, name, outcome.error, url);
        spec.failed?.(t, outcome.error, actual, url);
      }
      const again = await settle(`${name} again ${url}`, () => spec.again(proxied.join(key)));
      if (!again.ok || !same(await readOrUndefined(direct.join(key)), next)) flag(t, "notConverged", `${url}: ${again.ok ? "wrong bytes" : String(again.error)}`);
    },
  };
}

function vfsCases(fx: Fixture, proxied: VfsPath, direct: VfsPath, prefix: string): Case[] {
  const { target } = fx;
  const cases: Case[] = [];

  // Plain writes: small, multi-MiB in one request, and streamed past the single-request limit.
  for (const [name, size] of [["small", 700], ["large", 3 * 1024 * 1024], ["stream", target.streamSize]] as const) {
    const next = randomBytes(size + 13);
    cases.push(writeCase(proxied, direct, {
      name: `write ${name}`, key: `${prefix}/${name}`, old: randomBytes(size), next,
      write: (p) => {
        if (name !== "stream") return p.write(next);
        // In 256 KiB chunks, as a file or network stream would come.
        const chunks = Array.from({ length: Math.ceil(next.length / (256 * 1024)) }, (_, i) => next.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
        return p.writeStream(Readable.from(chunks));
      },
      again: (p) => p.write(next),
    }));
  }

  // A conditional write on the revision just read.
  {
    const next = Buffer.from(`new ${randomBytes(8).toString("hex")}\n`);
    cases.push(writeCase(proxied, direct, {
      name: "conditional write", key: `${prefix}/conditional`, old: Buffer.from(`old ${randomBytes(8).toString("hex")}\n`), next,
      write: (p, base) => p.write(next, { ifRevision: base }),
      // Its own earlier attempt applied: the write id must have turned that into a success (or,
      // when even that look fails, an error saying the outcome is unknown), never a conflict.
      failed: (t, error, actual, url) => {
        if (PreconditionFailedError.isInstance(error) && same(actual, next)) flag(t, "falseConflicts", `${url}: reported a conflict although its own write is stored`);
      },
      // Again: read, and write on what was read unless it is already there.
      again: async (p) => {
        const current = await p.read();
        if (!current.data.equals(next)) await p.write(next, { ifRevision: current.revision });
      },
    }));
  }

  // A conditional write on a revision that is no longer current: never applied, whatever the retries.
  {
    const key = `${prefix}/stale`;
    const v2 = Buffer.from(`second ${randomBytes(8).toString("hex")}\n`);
    const v3 = Buffer.from(`third ${randomBytes(8).toString("hex")}\n`);
    let stale = "";
    cases.push({
      name: "stale conditional write",
      refused: (e) => PreconditionFailedError.isInstance(e),
      prepare: async () => {
        stale = (await direct.join(key).write(`first ${randomBytes(8).toString("hex")}\n`)).revision;
        await direct.join(key).write(v2);
      },
      run: () => proxied.join(key).write(v3, { ifRevision: stale }),
      verify: async (outcome, t) => {
        const url = proxied.join(key).url;
        const actual = await readOrUndefined(direct.join(key));
        if (!same(actual, v2)) {
          if (same(actual, v3)) flag(t, "staleWritesApplied", `${url}: a write on a stale revision replaced the current bytes`);
          else if (actual === undefined) flag(t, "lostFiles", `${url} is gone`);
          else flag(t, "corruptFiles", `${url}: neither the current nor the refused bytes`);
        }
        if (outcome.ok) flag(t, "staleWritesApplied", `${url}: a write on a stale revision reported success`);
        else checkVfsError(t, "stale conditional write", outcome.error, url);
      },
    });
  }

  // A create-only write.
  {
    const key = `${prefix}/created`;
    const next = Buffer.from(`created ${randomBytes(8).toString("hex")}\n`);
    cases.push({
      name: "create",
      prepare: async () => undefined,
      run: () => proxied.join(key).create(next),
      verify: async (outcome, t) => {
        const url = proxied.join(key).url;
        const actual = await readOrUndefined(direct.join(key));
        if (actual !== undefined && !same(actual, next)) flag(t, "corruptFiles", `${url}: not the created bytes`);
        if (outcome.ok) {
          if (!same(actual, next)) flag(t, actual === undefined ? "lostFiles" : "lostUpdates", `${url}: create reported success, the server holds ${describeBytes(actual)}`);
        } else {
          checkVfsError(t, "create", outcome.error, url);
          if (AlreadyExistsError.isInstance(outcome.error) && same(actual, next)) flag(t, "falseConflicts", `${url}: reported "already exists" although its own create is stored`);
        }
        const again = await settle(`create ${url} again`, async () => {
          if ((await readOrUndefined(proxied.join(key))) === undefined) await proxied.join(key).create(next);
        });
        if (!again.ok || !same(await readOrUndefined(direct.join(key)), next)) flag(t, "notConverged", `${url}: ${again.ok ? "wrong bytes" : String(again.error)}`);
      },
    });
  }
  return cases;
}

/** `kstate apply -f` of the exported cluster with the nodes group's maxSize changed. */
function applyCase(fx: Fixture): Case {
  const { target } = fx;
  const store = `${target.scheme}://${fx.cliBucket}`;
  const direct = openPath(store, target.options(target.server.endpoint)).join(CLUSTER);
  const maxSize = fx.nextMaxSize++;
  let oldIg: Buffer | undefined;
  let oldConfig: Buffer | undefined;
  const apply = () => kstate(["apply", "-f", fx.exportDir, "--yes"], { env: { ...target.env(target.proxy.endpoint), KOPS_STATE_STORE: store } });
  return {
    name: "kstate apply",
    prepare: async () => {
      const file = path.join(fx.exportDir, IG);
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/maxSize: \d+/, `maxSize: ${maxSize}`));
      oldIg = await readOrUndefined(direct.join(IG));
      oldConfig = await readOrUndefined(direct.join("config"));
    },
    run: async () => {
      const r = await apply();
      if (r.code !== 0) throw Object.assign(new Error(r.stderr), { exitCode: r.code });
      return r;
    },
    verify: async (outcome, t) => {
      const url = direct.join(IG).url;
      const during = await readOrUndefined(direct.join(IG));
      if (!outcome.ok) {
        const stderr = (outcome.error as Error).message;
        if (t.sampleErrors.length < 6) t.sampleErrors.push(`apply: ${stderr.trim().slice(0, 200)}`);
        // The store's own files (its encryption policy) are read beside the cluster's: either may be the one named.
        if (!stderr.includes(`${target.scheme}://${fx.cliBucket}/`)) flag(t, "unclearErrors", `kstate apply failed without naming the store: ${JSON.stringify(stderr)}`);
      }
      if (!same(await readOrUndefined(direct.join("config")), oldConfig)) flag(t, "corruptFiles", `${direct.join("config").url} changed; apply only changes ${IG}`);
      // Again, without the fault.
      const again = await settle("kstate apply again", apply);
      const after = await readOrUndefined(direct.join(IG));
      // 4: the faulty run had written it all, so there is nothing left to do.
      if (!again.ok || (again.value.code !== 0 && again.value.code !== 4)) flag(t, "notConverged", `apply again: ${again.ok ? again.value.stderr : String(again.error)}`);
      if (after === undefined) return flag(t, "lostFiles", `${url} is gone`);
      if (yamlOf(after).spec?.maxSize !== maxSize) flag(t, "notConverged", `${url}: maxSize is ${yamlOf(after).spec?.maxSize}, not ${maxSize}, after apply again`);
      if (during === undefined) flag(t, "lostFiles", `${url} was gone after the faulty apply`);
      else if (!same(during, oldIg) && !same(during, after)) flag(t, "corruptFiles", `${url}: neither the old document nor the applied one`);
      if (outcome.ok && !same(during, after)) flag(t, "lostUpdates", `${url}: apply reported success, the document was not applied`);
    },
  };
}

/** `syncCluster` of a small cluster between two buckets behind the proxy. */
function migrateCase(fx: Fixture): Case {
  const { target, sourceFiles } = fx;
  const sub = `t${fx.trialNo}`;
  const via = target.options(target.proxy.endpoint, { timeoutMs: 10_000 });
  const direct = target.options(target.server.endpoint);
  const source = openPath(`${target.scheme}://${fx.srcBucket}/${CLUSTER}`, via);
  const destination = openPath(`${target.scheme}://${fx.dstBucket}/${sub}/${CLUSTER}`, via);
  const sourceDirect = openPath(`${target.scheme}://${fx.srcBucket}/${CLUSTER}`, direct);
  const destDirect = openPath(`${target.scheme}://${fx.dstBucket}/${sub}/${CLUSTER}`, direct);
  const expected = new Map(sourceFiles);
  expected.set("config", Buffer.from(rewriteConfigBase(sourceFiles.get("config")!.toString("utf8"), "config", configBaseOf(destDirect.url))));

  const check = async (t: Tally, complete: boolean, stage: string) => {
    const listed = await destDirect.listTree();
    for (const f of listed) if (!expected.has(f.path)) flag(t, "corruptFiles", `${stage}: ${destDirect.join(f.path).url} is not a source file`);
    for (const [p, want] of expected) {
      const got = await readOrUndefined(destDirect.join(p));
      if (got === undefined) {
        if (complete) flag(t, stage === "again" ? "notConverged" : "lostFiles", `${stage}: ${destDirect.join(p).url} missing after a reported success`);
      } else if (!got.equals(want)) flag(t, "corruptFiles", `${stage}: ${destDirect.join(p).url}: ${got.length} bytes, not the source's ${want.length}`);
      const src = await readOrUndefined(sourceDirect.join(p));
      if (!same(src, sourceFiles.get(p))) flag(t, "corruptFiles", `${stage}: source ${sourceDirect.join(p).url} changed`);
    }
  };
  return {
    name: "migrate",
    prepare: async () => undefined,
    run: async () => {
      const result = await syncCluster(source, destination, { concurrency: 4 });
      if (!result.verified) throw new Error(`sync reported success without verification: ${JSON.stringify(result)}`);
      return result;
    },
    verify: async (outcome, t) => {
      if (!outcome.ok) {
        const message = (outcome.error as Error)?.message ?? String(outcome.error);
        if (t.sampleErrors.length < 6) t.sampleErrors.push(`migrate: ${message.slice(0, 200)}`);
        if (!KstateError.isInstance(outcome.error)) flag(t, "unclearErrors", `migrate: not a KstateError: ${String(outcome.error)}`);
        else if (!message.includes(`${target.scheme}://${fx.srcBucket}/`) && !message.includes(`${target.scheme}://${fx.dstBucket}/`)) {
          flag(t, "unclearErrors", `migrate: message names neither store: ${message}`);
        }
      }
      await check(t, outcome.ok, "under the fault");
      const again = await settle("migrate again", () => syncCluster(source, destination, { concurrency: 4 }));
      if (!again.ok || !again.value.verified) flag(t, "notConverged", `migrate again: ${again.ok ? "not verified" : String(again.error)}`);
      await check(t, true, "again");
    },
  };
}

export async function runTrial(fx: Fixture, t: Tally, fault: () => Promise<void>, options: TrialOptions = {}): Promise<void> {
  const { target } = fx;
  fx.trialNo++;
  const store = `${target.scheme}://${fx.vfsBucket}`;
  const proxied = openPath(store, target.options(target.proxy.endpoint, { timeoutMs: TIMEOUT_MS, ...options.vfs }));
  const direct = openPath(store, target.options(target.server.endpoint));
  const cases = [...vfsCases(fx, proxied, direct, `trial-${fx.trialNo}`), applyCase(fx), migrateCase(fx)];
  for (const c of cases) await c.prepare();

  await fault();
  let outcomes: Outcome<unknown>[];
  try {
    const during = options.during?.();
    outcomes = await Promise.all(cases.map((c) => settle(`${target.name} ${c.name}`, () => c.run())));
    await during;
  } finally {
    await target.proxy.heal();
  }
  t.trials++;
  for (const [i, c] of cases.entries()) {
    const outcome = outcomes[i]!;
    t.operations++;
    if (outcome.ok) t.successes++;
    else if (c.refused?.(outcome.error)) t.refusals++;
    else t.failures++;
    await c.verify(outcome, t);
  }
}
export interface Fault {
  name: string;
  trials: number;
  toxics: (ToxicSpec & Toxic)[];
  options?: TrialOptions;
  /** What the trial must show, beyond the invariants. */
  expect?: (t: Tally) => void;
}

// ---------------------------------------------------------------------------------------------
// The bench: servers, proxies and fixtures for both backends

/** toxiproxy, a MinIO and a fake-gcs-server of its own, and a fixture per backend. */
export class FaultBench {
  private constructor(readonly toxiproxy: Toxiproxy, readonly minio: RunningServer, readonly gcs: RunningServer, readonly fixtures: Map<Target["name"], Fixture>) {}

  static async start(): Promise<FaultBench> {
    const toxiproxy = await Toxiproxy.start();
    const minio = await startMinio();
    const gcsProxyPort = await freePort();
    const gcs = await startFakeGcs({ publicPort: gcsProxyPort });
    const targets = [
      s3Target(await toxiproxy.createProxy("minio", `127.0.0.1:${minio.port}`), minio),
      gcsTarget(await toxiproxy.createProxy("fake-gcs", `127.0.0.1:${gcs.port}`, gcsProxyPort), gcs),
    ];
    const fixtures = new Map<Target["name"], Fixture>();
    for (const target of targets) fixtures.set(target.name, await prepareFixture(target));
    return new FaultBench(toxiproxy, minio, gcs, fixtures);
  }

  fixture(name: Target["name"]): Fixture {
    return this.fixtures.get(name)!;
  }

  async stop(): Promise<void> {
    await this.toxiproxy.stop();
    await this.minio.stop();
    await this.gcs.stop();
    for (const fx of this.fixtures.values()) fs.rmSync(fx.exportDir, { recursive: true, force: true });
  }
}

/** The buckets, the CLI's cluster (created and exported straight against the server) and the migration's source. */
async function prepareFixture(target: Target): Promise<Fixture> {
  const [vfsBucket, cliBucket, srcBucket, dstBucket] = await Promise.all([target.makeBucket(), target.makeBucket(), target.makeBucket(), target.makeBucket()]);
  const store = `${target.scheme}://${cliBucket}`;
  const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-faults-export-"));
  const direct = { ...target.env(target.server.endpoint), KOPS_STATE_STORE: store };
  const created = await kstate(["create", "cluster", CLUSTER, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env: direct });
  assert.equal(created.code, 0, created.stderr);
  const exported = await kstate(["export", CLUSTER, "--to", exportDir], { env: direct });
  assert.equal(exported.code, 0, exported.stderr);
  // The migration's source: a small kops-like cluster, one file of a few MiB.
  const src = openPath(`${target.scheme}://${srcBucket}/${CLUSTER}`, target.options(target.server.endpoint));
  const sourceFiles = new Map<string, Buffer>([
    ["config", Buffer.from(`apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  configBase: ${src.url}\n  kubernetesVersion: v1.30.2\n`)],
    [IG, Buffer.from(`apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  name: nodes-us-east-1a\nspec:\n  role: Node\n`)],
    ["secrets/system:dns", Buffer.from('{"Data":"c2VjcmV0"}')],
    ["pki/private/kubernetes-ca/keyset.yaml", randomBytes(3000)],
    ["backups/etcd/main/etcd.backup.gz", randomBytes(2 * 1024 * 1024 + 17)],
    ["kops-version.txt", Buffer.from("1.36.2")],
  ]);
  for (const [p, data] of sourceFiles) await src.join(p).write(data);
  return { target, vfsBucket, cliBucket, srcBucket, dstBucket, exportDir, sourceFiles, nextMaxSize: 2, trialNo: 0 };
}

/** Runs `scenario`'s trials on a new tally, records it with the seconds taken, and asserts it clean. */
export async function tallied(scenario: string, trials: (t: Tally) => Promise<void>): Promise<Tally> {
  const t = newTally();
  const started = Date.now();
  await trials(t);
  recordTally(scenario, t, { seconds: Math.round((Date.now() - started) / 1000) });
  assertClean(t);
  return t;
}
