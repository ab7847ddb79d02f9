/**
 * Fault injection: toxiproxy between kstate and MinIO, and between kstate and fake-gcs-server.
 * Under latency, bandwidth limits, connections reset or cut mid-body, answers lost after the
 * server acted, black holes (timeouts), the server unreachable, and MinIO killed and restarted,
 * each trial runs at once: VFS writes of a small file, a multi-MiB file and a streamed file over
 * the single-request limit (S3 multipart, GCS resumable), a conditional write, a conditional
 * write with a stale revision, a create, `kstate apply -f` of an exported cluster with one
 * changed field, and a `syncCluster` migration of a small cluster. ClusterConfig updates go
 * through the real Pulumi CLI. Then the fault is removed and the store is read straight from the
 * server (not through the proxy): every document is exactly the old or the new bytes, every
 * reported success really applied, every failure is a KstateError (or a CLI exit code and
 * message) naming the URL, and running again without the fault converges.
 *
 * Each backend gets its own server here, behind its own proxy: MinIO with a fixed data folder and
 * port, so that it can be killed and started again on the same data; fake-gcs-server with its
 * `-external-url` set to the proxy, so that the resumable-upload session URLs it hands out lead
 * back through the proxy and the upload's data chunks meet the faults too.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import type { Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig } from "../../src";
import { rewriteConfigBase, syncCluster } from "../../src/ops/sync";
import { configBaseOf } from "../../src/store/layout";
import { parseYaml } from "../../src/store/yaml";
import { AlreadyExistsError, KstateError, NotFoundError, type OpenOptions, openPath, PreconditionFailedError, type VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { withProcessEnv } from "../support/cli-stores";
import { uniqueName } from "../support/env";
import { engineEnv, inlineStack, newStateDir } from "../support/pulumi";
import { freePort, MINIO_PASSWORD, MINIO_USER, toolPath, waitUntilReady } from "../support/servers";
import { type Proxy, type Toxic, type ToxicSpec, Toxiproxy } from "../support/toxiproxy";
import { record } from "./report";

const CLUSTER = "faults.k8s.example.com";
const IG = "instancegroup/nodes-us-east-1a";
/** Per request, under a fault: a black-holed request is given up after this long. */
const TIMEOUT_MS = 1500;
/** Longest any one operation may take, faults and retries included; longer is a hang. */
const HANG_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Servers of our own, behind proxies

interface OwnServer {
  port: number;
  endpoint: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function spawnServer(bin: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let buffer = "";
  const keep = (c: Buffer) => {
    buffer = (buffer + c.toString()).slice(-8000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, output: () => buffer };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

/** MinIO on a fixed port and data folder; `restart` brings it back on both. */
class OwnMinio implements OwnServer {
  child!: ChildProcess;
  output!: () => string;
  readonly endpoint: string;
  private readonly kmsKey = `kstate-test-key:${randomBytes(32).toString("base64")}`;

  private constructor(readonly port: number, private readonly consolePort: number, readonly dataDir: string) {
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  static async start(): Promise<OwnMinio> {
    const m = new OwnMinio(await freePort(), await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), "kstate-faults-minio-")));
    await m.launch();
    return m;
  }

  async launch(): Promise<void> {
    ({ child: this.child, output: this.output } = spawnServer(toolPath("minio"), [
      "server", this.dataDir, "--address", `127.0.0.1:${this.port}`, "--console-address", `127.0.0.1:${this.consolePort}`, "--quiet",
    ], { MINIO_ROOT_USER: MINIO_USER, MINIO_ROOT_PASSWORD: MINIO_PASSWORD, MINIO_KMS_SECRET_KEY: this.kmsKey, MINIO_BROWSER: "off", MINIO_UPDATE: "off" }));
    await waitUntilReady(`${this.endpoint}/minio/health/live`, this.child, "minio", this.output);
  }

  /** SIGKILL: no chance to finish anything in flight. */
  kill(): Promise<void> {
    return kill(this.child);
  }

  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function startFakeGcs(port: number, publicPort: number): Promise<OwnServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-faults-gcs-"));
  const { child, output } = spawnServer(toolPath("fake-gcs-server"), [
    "-scheme", "http", "-host", "127.0.0.1", "-port", String(port), "-backend", "memory",
    "-external-url", `http://127.0.0.1:${publicPort}`, "-public-host", `127.0.0.1:${publicPort}`, "-log-level", "error",
  ], {});
  await waitUntilReady(`http://127.0.0.1:${port}/_internal/healthcheck`, child, "fake-gcs-server", output);
  return { port, endpoint: `http://127.0.0.1:${port}`, dataDir, child, output };
}

// ---------------------------------------------------------------------------------------------
// The two backends

interface Target {
  name: "s3" | "gcs";
  scheme: "s3" | "gs";
  proxy: Proxy;
  /** Straight to the server. */
  directEndpoint: string;
  /** Larger than the backend's single-request limit: S3 multipart (6 MiB parts), GCS resumable (8 MiB). */
  streamSize: number;
  options(endpoint: string, extra?: Partial<OpenOptions>): OpenOptions;
  /** The CLI's and the Pulumi engine's variables for a server at `endpoint`. */
  env(endpoint: string): Record<string, string>;
  makeBucket(): Promise<string>;
}

function s3Target(proxy: Proxy, server: OwnMinio): Target {
  return {
    name: "s3", scheme: "s3", proxy, directEndpoint: server.endpoint, streamSize: 7 * 1024 * 1024,
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

function gcsTarget(proxy: Proxy, server: OwnServer): Target {
  return {
    name: "gcs", scheme: "gs", proxy, directEndpoint: server.endpoint, streamSize: 9 * 1024 * 1024,
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

interface Tally {
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

function newTally(): Tally {
  return {
    trials: 0, operations: 0, successes: 0, failures: 0, refusals: 0, falseConflicts: 0, lostFiles: 0, corruptFiles: 0, lostUpdates: 0, staleWritesApplied: 0,
    unclearErrors: 0, notConverged: 0, problems: [], sampleErrors: [],
  };
}

function flag(t: Tally, counter: "lostFiles" | "corruptFiles" | "lostUpdates" | "staleWritesApplied" | "unclearErrors" | "notConverged" | "falseConflicts", what: string): void {
  t[counter]++;
  t.problems.push(`${counter}: ${what}`);
}

function recordTally(scenario: string, t: Tally, extra: Record<string, number> = {}): void {
  record(scenario, {
    trials: t.trials, operations: t.operations, successes: t.successes, failures: t.failures, refusals: t.refusals, falseConflicts: t.falseConflicts, lostFiles: t.lostFiles,
    corruptFiles: t.corruptFiles, lostUpdates: t.lostUpdates, staleWritesApplied: t.staleWritesApplied, unclearErrors: t.unclearErrors,
    notConverged: t.notConverged, ...extra,
  });
  if (t.sampleErrors.length) record(scenario, { sampleErrors: t.sampleErrors.slice(0, 4).join(" | ") });
}

function assertClean(t: Tally): void {
  assert.deepEqual(
    { lostFiles: t.lostFiles, corruptFiles: t.corruptFiles, lostUpdates: t.lostUpdates, staleWritesApplied: t.staleWritesApplied, unclearErrors: t.unclearErrors, notConverged: t.notConverged, falseConflicts: t.falseConflicts },
    { lostFiles: 0, corruptFiles: 0, lostUpdates: 0, staleWritesApplied: 0, unclearErrors: 0, notConverged: 0, falseConflicts: 0 },
    t.problems.join("\n"),
  );
  assert.equal(t.successes + t.failures + t.refusals, t.operations);
}

// ---------------------------------------------------------------------------------------------
// Helpers

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

/** Runs `fn`, never longer than HANG_MS: an operation that does not settle is a hang. */
async function settle<T>(what: string, fn: () => Promise<T>): Promise<Outcome<T>> {
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

async function readOrUndefined(p: VfsPath): Promise<Buffer | undefined> {
  try {
    return (await p.read()).data;
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
}

function same(a: Buffer | undefined, b: Buffer | undefined): boolean {
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

function yamlOf(b: Buffer): Record<string, any> {
  return parseYaml(b.toString("utf8"), "test").toJS() as Record<string, any>;
}

// ---------------------------------------------------------------------------------------------
// One trial: every operation at once through the proxy, under whatever fault is on

interface Fixture {
  target: Target;
  /** Buckets: VFS files, the CLI's cluster, the migration's source and destinations. */
  vfsBucket: string;
  cliBucket: string;
  srcBucket: string;
  dstBucket: string;
  /** The exported cluster folder the CLI applies. */
  exportDir: string;
  /** The next maxSize the CLI applies. */
  nextMaxSize: number;
  trialNo: number;
}

interface TrialOptions {
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

function vfsCases(fx: Fixture, proxied: VfsPath, direct: VfsPath, prefix: string): Case[] {
  const { target } = fx;
  const cases: Case[] = [];

  // Plain writes: small, multi-MiB in one request, and streamed past the single-request limit.
  for (const [name, size] of [["small", 700], ["large", 3 * 1024 * 1024], ["stream", target.streamSize]] as const) {
    const key = `${prefix}/${name}`;
    const old = randomBytes(size);
    const next = randomBytes(size + 13);
    cases.push({
      name: `write ${name}`,
      prepare: async () => {
        await direct.join(key).write(old);
      },
      run: () => {
        const p = proxied.join(key);
        if (name !== "stream") return p.write(next);
        // In 256 KiB chunks, as a file or network stream would come.
        const chunks = Array.from({ length: Math.ceil(next.length / (256 * 1024)) }, (_, i) => next.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
        return p.writeStream(Readable.from(chunks));
      },
      verify: async (outcome, t) => {
        const url = proxied.join(key).url;
        const actual = await readOrUndefined(direct.join(key));
        if (actual === undefined) flag(t, "lostFiles", `${url} is gone`);
        else if (!same(actual, old) && !same(actual, next)) flag(t, "corruptFiles", `${url}: ${describeBytes(actual)}, neither old (${old.length}) nor new (${next.length})`);
        if (outcome.ok) {
          if (!same(actual, next)) flag(t, "lostUpdates", `${url}: write reported success but the server holds ${describeBytes(actual)}`);
          const revision = (await direct.join(key).stat()).revision;
          const reported = (outcome.value as { revision: string }).revision;
          if (revision !== reported) flag(t, "lostUpdates", `${url}: write reported revision ${reported}, the server has ${revision}`);
        } else checkVfsError(t, `write ${name}`, outcome.error, url);
        // Again, without the fault.
        const again = await settle(`rewrite ${url}`, () => proxied.join(key).write(next));
        if (!again.ok || !same(await readOrUndefined(direct.join(key)), next)) flag(t, "notConverged", `${url}: ${again.ok ? "wrong bytes" : String(again.error)}`);
      },
    });
  }

  // A conditional write on the revision just read.
  {
    const key = `${prefix}/conditional`;
    const old = Buffer.from(`old ${randomBytes(8).toString("hex")}\n`);
    const next = Buffer.from(`new ${randomBytes(8).toString("hex")}\n`);
    let base = "";
    cases.push({
      name: "conditional write",
      prepare: async () => {
        base = (await direct.join(key).write(old)).revision;
      },
      run: () => proxied.join(key).write(next, { ifRevision: base }),
      verify: async (outcome, t) => {
        const url = proxied.join(key).url;
        const actual = await readOrUndefined(direct.join(key));
        if (actual === undefined) flag(t, "lostFiles", `${url} is gone`);
        else if (!same(actual, old) && !same(actual, next)) flag(t, "corruptFiles", `${url}: neither old nor new`);
        if (outcome.ok) {
          if (!same(actual, next)) flag(t, "lostUpdates", `${url}: conditional write reported success, the server holds the old bytes`);
          const revision = (await direct.join(key).stat()).revision;
          if (revision !== (outcome.value as { revision: string }).revision) flag(t, "lostUpdates", `${url}: reported revision is not the stored one`);
        } else {
          checkVfsError(t, "conditional write", outcome.error, url);
          // Its own earlier attempt applied: the write id must have turned that into a success (or,
          // when even that look fails, an error saying the outcome is unknown), never a conflict.
          if (PreconditionFailedError.isInstance(outcome.error) && same(actual, next)) flag(t, "falseConflicts", `${url}: reported a conflict although its own write is stored`);
        }
        // Again: read, and write on what was read unless it is already there.
        const again = await settle(`conditional rewrite ${url}`, async () => {
          const current = await proxied.join(key).read();
          if (!current.data.equals(next)) await proxied.join(key).write(next, { ifRevision: current.revision });
        });
        if (!again.ok || !same(await readOrUndefined(direct.join(key)), next)) flag(t, "notConverged", `${url}: ${again.ok ? "wrong bytes" : String(again.error)}`);
      },
    });
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
  const direct = openPath(store, target.options(target.directEndpoint)).join(CLUSTER);
  const maxSize = fx.nextMaxSize++;
  let oldIg: Buffer | undefined;
  let oldConfig: Buffer | undefined;
  const apply = () => withProcessEnv(target.env(target.proxy.endpoint), () => kstate(["apply", "-f", fx.exportDir, "--yes"], { env: { KOPS_STATE_STORE: store } }));
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
        if (!stderr.includes(`${target.scheme}://${fx.cliBucket}/${CLUSTER}`)) flag(t, "unclearErrors", `kstate apply failed without naming the store: ${JSON.stringify(stderr)}`);
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
function migrateCase(fx: Fixture, sourceFiles: Map<string, Buffer>): Case {
  const { target } = fx;
  const sub = `t${fx.trialNo}`;
  const via = target.options(target.proxy.endpoint, { timeoutMs: 10_000 });
  const direct = target.options(target.directEndpoint);
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

async function runTrial(fx: Fixture, t: Tally, fault: () => Promise<void>, options: TrialOptions, sourceFiles: Map<string, Buffer>): Promise<void> {
  const { target } = fx;
  fx.trialNo++;
  const store = `${target.scheme}://${fx.vfsBucket}`;
  const proxied = openPath(store, target.options(target.proxy.endpoint, { timeoutMs: TIMEOUT_MS, ...options.vfs }));
  const direct = openPath(store, target.options(target.directEndpoint));
  const cases = [...vfsCases(fx, proxied, direct, `trial-${fx.trialNo}`), applyCase(fx), migrateCase(fx, sourceFiles)];
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

// ---------------------------------------------------------------------------------------------
// The faults

interface Fault {
  name: string;
  trials: number;
  toxics: (ToxicSpec & Toxic)[];
  options?: TrialOptions;
  /** What the trial must show, beyond the invariants. */
  expect?: (t: Tally) => void;
}

const FAULTS: Fault[] = [
  {
    name: "latency",
    trials: 1,
    // Every answer late, every request cut in small pieces.
    toxics: [
      { type: "latency", stream: "downstream", attributes: { latency: 150, jitter: 50 } },
      { type: "slicer", stream: "upstream", attributes: { average_size: 4096, size_variation: 2048, delay: 20 } },
    ],
    expect: (t) => assert.deepEqual([t.failures, t.refusals], [0, t.trials], `nothing fails under latency alone: ${t.sampleErrors.join(" | ")}`),
  },
  {
    name: "bandwidth",
    trials: 1,
    toxics: [
      { type: "bandwidth", stream: "upstream", attributes: { rate: 4096 } },
      { type: "bandwidth", stream: "downstream", attributes: { rate: 4096 } },
    ],
    // The proxy takes a whole 6 MiB part at once and trickles it on: the client then hears
    // nothing for ~1.5 s, which the 1.5 s silence timeout would rightly call a timeout.
    options: { vfs: { timeoutMs: 10_000 } },
    // Slow is not silent: the per-request timeout is about silence, not length.
    expect: (t) => assert.deepEqual([t.failures, t.refusals], [0, t.trials], `nothing fails under a bandwidth limit alone: ${t.sampleErrors.join(" | ")}`),
  },
  {
    name: "reset mid-body",
    trials: 3,
    // Half the connections reset (RST) 25 ms into their first request: large bodies mid-way.
    toxics: [{ type: "reset_peer", stream: "upstream", toxicity: 0.5, attributes: { timeout: 25 } }],
  },
  {
    name: "cut mid-body",
    trials: 3,
    // Half the connections closed after 256 KiB of requests: bodies truncated.
    toxics: [{ type: "limit_data", stream: "upstream", toxicity: 0.5, attributes: { bytes: 256 * 1024 } }],
  },
  {
    name: "answers lost",
    trials: 3,
    // Half the connections closed as the answer starts: the server acted, the client never hears.
    toxics: [{ type: "limit_data", stream: "downstream", toxicity: 0.5, attributes: { bytes: 0 } }],
  },
  {
    name: "timeout",
    trials: 1,
    // A third of the connections black-holed for 4 s and then closed: VFS requests (1.5 s
    // timeout) give up first; the CLI (30 s default) sees the close.
    toxics: [{ type: "timeout", stream: "upstream", toxicity: 0.35, attributes: { timeout: 4000 } }],
    options: { vfs: { timeoutMs: TIMEOUT_MS, retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 1000 } } },
  },
];

// ---------------------------------------------------------------------------------------------

describe("faults: toxiproxy between kstate and MinIO / fake-gcs-server", function () {
  this.timeout(180_000);
  let toxiproxy: Toxiproxy;
  let minio: OwnMinio;
  let gcs: OwnServer;
  const targets: Target[] = [];
  const fixtures = new Map<string, Fixture>();
  const sources = new Map<string, Map<string, Buffer>>();

  before(async function () {
    this.timeout(120_000);
    toxiproxy = await Toxiproxy.start();
    minio = await OwnMinio.start();
    const gcsProxyPort = await freePort();
    gcs = await startFakeGcs(await freePort(), gcsProxyPort);
    targets.push(
      s3Target(await toxiproxy.createProxy("minio", `127.0.0.1:${minio.port}`), minio),
      gcsTarget(await toxiproxy.createProxy("fake-gcs", `127.0.0.1:${gcs.port}`, gcsProxyPort), gcs),
    );
    for (const target of targets) {
      const [vfsBucket, cliBucket, srcBucket, dstBucket] = await Promise.all([target.makeBucket(), target.makeBucket(), target.makeBucket(), target.makeBucket()]);
      // The CLI's cluster, created and exported straight against the server.
      const store = `${target.scheme}://${cliBucket}`;
      const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-faults-export-"));
      await withProcessEnv(target.env(target.directEndpoint), async () => {
        const created = await kstate(["create", "cluster", CLUSTER, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env: { KOPS_STATE_STORE: store } });
        assert.equal(created.code, 0, created.stderr);
        const exported = await kstate(["export", CLUSTER, "--to", exportDir], { env: { KOPS_STATE_STORE: store } });
        assert.equal(exported.code, 0, exported.stderr);
      });
      // The migration's source: a small kops-like cluster, one file of a few MiB.
      const src = openPath(`${target.scheme}://${srcBucket}/${CLUSTER}`, target.options(target.directEndpoint));
      const files = new Map<string, Buffer>([
        ["config", Buffer.from(`apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  configBase: ${src.url}\n  kubernetesVersion: v1.30.2\n`)],
        [IG, Buffer.from(`apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  name: nodes-us-east-1a\nspec:\n  role: Node\n`)],
        ["secrets/system:dns", Buffer.from('{"Data":"c2VjcmV0"}')],
        ["pki/private/kubernetes-ca/keyset.yaml", randomBytes(3000)],
        ["backups/etcd/main/etcd.backup.gz", randomBytes(2 * 1024 * 1024 + 17)],
        ["kops-version.txt", Buffer.from("1.36.2")],
      ]);
      for (const [p, data] of files) await src.join(p).write(data);
      sources.set(target.name, files);
      fixtures.set(target.name, { target, vfsBucket, cliBucket, srcBucket, dstBucket, exportDir, nextMaxSize: 2, trialNo: 0 });
    }
  });

  after(async function () {
    await toxiproxy?.stop();
    await minio?.stop();
    if (gcs) await kill(gcs.child);
    for (const fx of fixtures.values()) fs.rmSync(fx.exportDir, { recursive: true, force: true });
  });

  for (const backend of ["s3", "gcs"] as const) {
    for (const fault of FAULTS) {
      it(`${backend}: ${fault.name}: every operation succeeds or fails naming the URL; nothing half-written; again converges`, async function () {
        const fx = fixtures.get(backend)!;
        const t = newTally();
        const started = Date.now();
        for (let i = 0; i < fault.trials; i++) {
          await runTrial(fx, t, async () => {
            for (const toxic of fault.toxics) await fx.target.proxy.addToxic(toxic);
          }, fault.options ?? {}, sources.get(backend)!);
        }
        recordTally(`faults: ${backend} ${fault.name}`, t, { seconds: Math.round((Date.now() - started) / 1000) });
        assertClean(t);
        fault.expect?.(t);
      });
    }

    it(`${backend}: server unreachable (proxy disabled), then back: each operation gets through on retries or fails naming the URL; again converges`, async function () {
      const fx = fixtures.get(backend)!;
      const t = newTally();
      const started = Date.now();
      await runTrial(fx, t, () => fx.target.proxy.setEnabled(false), {
        vfs: { retry: { attempts: 8, baseDelayMs: 200, maxDelayMs: 1500 } },
        during: async () => {
          await sleep(700);
          await fx.target.proxy.setEnabled(true);
        },
      }, sources.get(backend)!);
      recordTally(`faults: ${backend} unreachable`, t, { seconds: Math.round((Date.now() - started) / 1000) });
      assertClean(t);
    });
  }

  it("s3: MinIO killed mid-operation and restarted on the same data and port", async function () {
    const fx = fixtures.get("s3")!;
    const t = newTally();
    const started = Date.now();
    for (let trial = 0; trial < 2; trial++) {
      await runTrial(fx, t, async () => {
        // Slow enough that the large writes are in flight when the server dies.
        await fx.target.proxy.addToxic({ type: "bandwidth", stream: "upstream", attributes: { rate: 4096 } });
      }, {
        vfs: { timeoutMs: 5000, retry: { attempts: 8, baseDelayMs: 250, maxDelayMs: 2000 } },
        during: async () => {
          await sleep(trial === 0 ? 300 : 900);
          await minio.kill();
          await sleep(500);
          await minio.launch();
        },
      }, sources.get("s3")!);
    }
    recordTally("faults: s3 minio killed and restarted", t, { seconds: Math.round((Date.now() - started) / 1000) });
    assertClean(t);
  });

  // ClusterConfig through the real Pulumi CLI, its provider process talking through the proxy.
  for (const backend of ["s3", "gcs"] as const) {
    it(`${backend}: ClusterConfig updates through the Pulumi CLI under lost answers and an unreachable server`, async function () {
      this.timeout(240_000);
      const target = targets.find((x) => x.name === backend)!;
      const t = newTally();
      const started = Date.now();
      const bucket = await target.makeBucket();
      const store = `${target.scheme}://${bucket}`;
      const direct = openPath(store, target.options(target.directEndpoint)).join(CLUSTER);
      let nodeSize = "m5.large";
      const stack: Stack = await inlineStack("kstate-faults", uniqueName("faults"), async () => {
        const c = new ClusterConfig("faults", {
          store, name: CLUSTER, options: { zones: ["us-east-1a"], nodeSize, kubernetesVersion: "v1.30.2", cloud: "aws" },
        });
        return { configBase: c.configBase };
        // inlineStack takes envVars whole: the engine's (local backend, …) with the proxy's endpoint.
      }, { envVars: { ...engineEnv(newStateDir()), ...target.env(target.proxy.endpoint) } });
      const first = await stack.up();
      assert.equal(first.summary.result, "succeeded");

      const trials: { name: string; fault: () => Promise<void> }[] = [
        { name: "answers lost", fault: async () => void await target.proxy.addToxic({ type: "limit_data", stream: "downstream", toxicity: 0.5, attributes: { bytes: 0 } }) },
        { name: "unreachable", fault: () => target.proxy.setEnabled(false) },
      ];
      for (const [i, trial] of trials.entries()) {
        const before = { ig: await readOrUndefined(direct.join(IG)), config: await readOrUndefined(direct.join("config")) };
        nodeSize = ["m5.xlarge", "m5.2xlarge", "c5.large"][i]!;
        await trial.fault();
        let outcome: Outcome<unknown>;
        try {
          outcome = await settle(`pulumi up (${trial.name})`, () => stack.up());
        } finally {
          await target.proxy.heal();
        }
        t.trials++;
        t.operations++;
        if (outcome.ok) t.successes++;
        else t.failures++;
        const during = { ig: await readOrUndefined(direct.join(IG)), config: await readOrUndefined(direct.join("config")) };
        if (!outcome.ok) {
          const message = String((outcome.error as Error)?.message ?? outcome.error);
          const line = message.split("\n").find((l) => l.includes(`${target.scheme}://`)) ?? message.slice(-300);
          if (t.sampleErrors.length < 4) t.sampleErrors.push(`${trial.name}: ${line.trim().slice(0, 240)}`);
          if (!message.includes(`${store}/${CLUSTER}`)) flag(t, "unclearErrors", `pulumi up (${trial.name}) failed without naming ${store}/${CLUSTER}: ${message.slice(-1500)}`);
        }
        // Again, without the fault.
        const again = await settle(`pulumi up again (${trial.name})`, () => stack.up());
        if (!again.ok) flag(t, "notConverged", `pulumi up again after ${trial.name}: ${String((again.error as Error)?.message).slice(-1500)}`);
        const after = { ig: await readOrUndefined(direct.join(IG)), config: await readOrUndefined(direct.join("config")) };
        if (after.ig === undefined || after.config === undefined) {
          flag(t, "lostFiles", `${direct.url}: a document is gone after ${trial.name}`);
          continue;
        }
        if (yamlOf(after.ig).spec?.machineType !== nodeSize) flag(t, "notConverged", `${direct.join(IG).url}: machineType ${yamlOf(after.ig).spec?.machineType}, not ${nodeSize}`);
        for (const doc of ["ig", "config"] as const) {
          const url = direct.join(doc === "ig" ? IG : "config").url;
          if (during[doc] === undefined) flag(t, "lostFiles", `${url} gone after ${trial.name}`);
          else if (!same(during[doc], before[doc]) && !same(during[doc], after[doc])) flag(t, "corruptFiles", `${url}: after ${trial.name}, neither the old nor the new document`);
          if (outcome.ok && !same(during[doc], after[doc])) flag(t, "lostUpdates", `${url}: pulumi up reported success under ${trial.name}, the change was not all there`);
        }
      }
      // And settled: one more up changes nothing.
      const last = await stack.up();
      const changes = Object.keys(last.summary.resourceChanges ?? {});
      if (changes.some((c) => c !== "same")) flag(t, "notConverged", `a last pulumi up still changed: ${JSON.stringify(last.summary.resourceChanges)}`);
      await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
      recordTally(`faults: ${backend} pulumi ClusterConfig`, t, { seconds: Math.round((Date.now() - started) / 1000) });
      assertClean(t);
      assert.equal(t.failures >= 1, true, "the unreachable trial fails");
    });
  }
});
