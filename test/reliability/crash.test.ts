/**
 * Crash consistency: SIGKILL of `kstate apply`, `kstate create cluster` (a merge) and `pulumi up`
 * at random points. After every kill each document is byte for byte its version before or after
 * the command (absent counts as a version where the document is created), nothing half-written
 * shows in a listing, and the next run converges to the "after" version.
 *
 * The "after" bytes are worked out before each kill: for the CLI by running the same command
 * unkilled once and restoring the store; for `pulumi up` by planning the update the provider
 * will make (planCluster with the stack's recorded ownership), which writes nothing.
 *
 * Kill points: the command's duration is measured on an unkilled run, with the moment it starts
 * writing (the CLI prints its plan just before it writes; the provider's first write is seen by
 * polling the store). Half the kill points are spread over the whole run, the other half over the
 * stretch from just before the first write to the end, so that a fair share lands mid-write.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planCluster } from "../../src/ops/cluster";
import { ClusterStore } from "../../src/store/cluster-store";
import { stringifyYaml } from "../../src/store/yaml";
import { openPath, type VfsPath } from "../../src/vfs";
import { gcsOptions, makeGcsBucket, makeS3Bucket, openOptions } from "../support/env";
import { engineEnv, newStateDir } from "../support/pulumi";
import { toolPath } from "../support/servers";
import { CRASH_CLUSTER, CRASH_PROJECT, crashArgs, type CrashRequest, runCrashOp } from "./crash-program";
import { record } from "./report";
import { s3Env } from "../support/stores";

const REPO = path.resolve(__dirname, "..", "..", "..");
const BIN = path.join(REPO, "bin", "kstate.js");
const PROGRAM = path.join(__dirname, "crash-program.js");
const CLUSTER = "crash.k8s.example.com";
const CLI_TRIALS = 20;
const PULUMI_TRIALS = 20;

type Docs = Map<string, Buffer>;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** When the command first wrote to stdout (the CLI prints its plan just before writing). */
  firstOutputMs?: number;
  /** Whether the kill reached the process before it exited, and when. */
  killed: boolean;
  killedAtMs?: number;
  stdout: string;
  stderr: string;
}

function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...s3Env(),
    STORAGE_EMULATOR_HOST: gcsOptions().endpoint!, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/** The pids below `root`, from /proc (a process keeps its place until it is reaped or re-parented). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) for (const c of children.get(queue.shift()!) ?? []) (out.push(c), queue.push(c));
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * SIGKILL of a process and everything it started. The Pulumi CLI starts provider plugins in
 * process groups of their own, so a group kill would leave the dynamic provider running (and
 * writing): the tree is first frozen (SIGSTOP, so nothing in it can start a process that would be
 * missed), then killed, and waited for.
 */
async function killTree(pid: number): Promise<number[]> {
  const frozen: number[] = [];
  for (let round = 0; round < 5; round++) {
    const found = [pid, ...descendants(pid)].filter((p) => !frozen.includes(p));
    if (found.length === 0) break;
    for (const p of found) {
      try {
        process.kill(p, "SIGSTOP");
      } catch { /* already gone */ }
      frozen.push(p);
    }
  }
  for (const p of frozen) {
    try {
      process.kill(p, "SIGKILL");
    } catch { /* already gone */ }
  }
  for (const deadline = Date.now() + 10_000; frozen.some(alive);) {
    if (Date.now() > deadline) throw new Error(`processes ${frozen.filter(alive).join(", ")} survived SIGKILL`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return frozen;
}

interface Kill {
  /** Kill this long after the start… */
  atMs?: number;
  /** …or `delayMs` after this first holds (checked every few milliseconds). */
  when?: (stdout: string) => boolean;
  delayMs?: number;
}

/** Runs a command; kills it (and what it started) as `kill` says, if given. */
function run(args: string[], env: NodeJS.ProcessEnv, kill?: Kill, onTick?: (ms: number) => void): Promise<Run> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { env, cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let firstOutputMs: number | undefined;
    let killed = false;
    let killedAtMs: number | undefined;
    let killAt = kill?.atMs;
    child.stdout.on("data", (c: Buffer) => {
      firstOutputMs ??= Date.now() - started;
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const ticker = kill || onTick ? setInterval(() => {
      const ms = Date.now() - started;
      onTick?.(ms);
      if (killAt === undefined && kill?.when?.(stdout)) killAt = ms + (kill.delayMs ?? 0);
      if (killAt !== undefined && ms >= killAt && !killed && child.exitCode === null && child.signalCode === null) {
        killed = true;
        killedAtMs = ms;
        void killTree(child.pid!);
      }
    }, 2) : undefined;
    child.on("exit", (code, signal) => {
      if (ticker) clearInterval(ticker);
      resolve({ code, signal, ms: Date.now() - started, firstOutputMs, killed: killed && signal === "SIGKILL", killedAtMs, stdout, stderr });
    });
  });
}

async function documents(folder: VfsPath): Promise<Docs> {
  const out: Docs = new Map();
  for (const f of await folder.listTree()) out.set(f.path, (await folder.join(f.path).read()).data);
  return out;
}

/** Makes the folder hold exactly `docs` again. */
async function restore(folder: VfsPath, docs: Docs): Promise<void> {
  for (const f of await folder.listTree()) if (!docs.has(f.path)) await folder.join(f.path).remove();
  for (const [p, data] of docs) await folder.join(p).write(data);
}

interface Verdict {
  lost: string[];
  corrupt: string[];
  /** Listed names that are no document of either version (temp files, partial uploads). */
  stray: string[];
  state: "before" | "after" | "mixed";
}

/** Counts a verdict into a scenario's figures, and notes each problem with the trial and kill time. */
function tally(figures: { untouched: number; mixed: number; complete: number; lost: number; corrupt: number; stray: number }, problems: string[], v: Verdict, trial: number, killedAtMs: number | undefined): void {
  figures[v.state === "before" ? "untouched" : v.state === "after" ? "complete" : "mixed"]++;
  figures.lost += v.lost.length;
  figures.corrupt += v.corrupt.length;
  figures.stray += v.stray.length;
  for (const [what, list] of [["lost", v.lost], ["neither old nor new", v.corrupt], ["listed but no document", v.stray]] as const) {
    if (list.length > 0) problems.push(`trial ${trial} (kill at ${killedAtMs} ms): ${what}: ${list.join(", ")}`);
  }
}

/** Every document is exactly its before or its after version; nothing else is listed. */
function judge(now: Docs, before: Docs, after: Docs): Verdict {
  const v: Verdict = { lost: [], corrupt: [], stray: [], state: "mixed" };
  let isBefore = true;
  let isAfter = true;
  for (const p of new Set([...before.keys(), ...after.keys(), ...now.keys()])) {
    const b = before.get(p);
    const a = after.get(p);
    const n = now.get(p);
    if (b === undefined && a === undefined) {
      v.stray.push(p);
      continue;
    }
    const same = (x: Buffer | undefined) => (x === undefined ? n === undefined : n !== undefined && x.equals(n));
    isBefore &&= same(b);
    isAfter &&= same(a);
    if (same(b) || same(a)) continue;
    if (n === undefined) v.lost.push(p);
    else v.corrupt.push(p);
  }
  v.state = isBefore ? "before" : isAfter ? "after" : "mixed";
  return v;
}

function sameDocs(a: Docs, b: Docs): boolean {
  return a.size === b.size && [...a].every(([p, d]) => b.get(p)?.equals(d) === true);
}

/** kstate's own files (temp files, lock files) left in a file:// folder by killed writers. */
function leftovers(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => path.basename(f).startsWith(".kstate-"));
}

/** Trial i's place in its stratum: kill points are spread evenly, each at random within its slot. */
function slot(i: number, of: number, strata: number): number {
  const per = Math.ceil(of / strata);
  return (Math.floor(i / strata) + Math.random()) / per;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const spread = (points: number[]) => ({ minMs: Math.min(...points), maxMs: Math.max(...points), medianMs: median(points) });

interface Backend {
  name: string;
  store(): Promise<{ url: string; dir?: string }>;
}

const backends: Backend[] = [
  {
    name: "file://",
    store: async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-crash-"));
      return { url: `file://${dir}`, dir };
    },
  },
  { name: "s3 (MinIO)", store: async () => ({ url: `s3://${await makeS3Bucket()}` }) },
  { name: "gcs (fake-gcs-server)", store: async () => ({ url: `gs://${await makeGcsBucket()}` }) },
];

interface CliKind {
  label: string;
  /** Prepares the change (after the cluster exists) and returns the command's arguments. */
  prepare(url: string, work: string): Promise<string[]>;
  /** After the store is put back: whatever else the command's "before" includes. */
  reset?(url: string, work: string): Promise<void>;
}

const CREATE = ["create", "cluster", CLUSTER, "--zones", "us-east-1a,us-east-1b", "--kubernetes-version", "v1.30.2", "--cloud", "aws"];

const kinds: CliKind[] = [
  {
    label: "kstate apply",
    prepare: async (url, work) => {
      const dir = path.join(work, "export");
      const r = await run([BIN, "export", CLUSTER, "--to", dir, "--state", url], cliEnv());
      assert.equal(r.code, 0, r.stderr);
      // config and every instance group change, and a new instance group is created.
      const edit = (file: string, from: RegExp, to: string) => {
        const full = path.join(dir, file);
        const text = fs.readFileSync(full, "utf8");
        assert.match(text, from, `${file} has ${from}`);
        fs.writeFileSync(full, text.replace(from, to));
      };
      edit("config", /kubernetesVersion: v1\.30\.2/, "kubernetesVersion: v1.30.3");
      edit("instancegroup/control-plane-us-east-1a", /machineType: \S+/, "machineType: m5.2xlarge");
      for (const g of ["nodes-us-east-1a", "nodes-us-east-1b"]) edit(`instancegroup/${g}`, /maxSize: 1/, "maxSize: 3");
      const extra = fs.readFileSync(path.join(dir, "instancegroup", "nodes-us-east-1a"), "utf8").replaceAll("nodes-us-east-1a", "nodes-extra-us-east-1a");
      fs.writeFileSync(path.join(dir, "instancegroup", "nodes-extra-us-east-1a"), extra);
      return ["apply", "-f", dir, "--yes", "--state", url];
    },
    // The folder's record of the revisions it was exported at (if export writes one) follows the
    // restored store, as if the folder had just been exported and edited.
    reset: async (url, work) => {
      const scratch = path.join(work, "scratch");
      fs.rmSync(scratch, { recursive: true, force: true });
      const r = await run([BIN, "export", CLUSTER, "--to", scratch, "--state", url], cliEnv());
      assert.equal(r.code, 0, r.stderr);
      for (const f of fs.readdirSync(scratch).filter((n) => n.startsWith(".kstate-"))) fs.copyFileSync(path.join(scratch, f), path.join(work, "export", f));
    },
  },
  {
    label: "kstate create cluster (merge)",
    prepare: async (url) => [
      "create", "cluster", CLUSTER, "--kubernetes-version", "v1.30.3", "--node-size", "m5.xlarge", "--control-plane-size", "m5.2xlarge",
      "--set", "spec.kubelet.maxPods=120", "--state", url,
    ],
  },
];

describe("crash consistency: SIGKILL at random points", function () {
  for (const backend of backends) {
    for (const kind of kinds) {
      it(`${kind.label} on ${backend.name}: ${CLI_TRIALS} kills; each document old or new, nothing partial listed, the rerun converges`, async function () {
        this.timeout(180_000);
        const { url, dir } = await backend.store();
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-crash-work-"));
        const env = cliEnv();
        const folder = openPath(url, openOptions()).join(CLUSTER);
        const created = await run([BIN, ...CREATE, "--state", url], env);
        assert.equal(created.code, 0, created.stderr);
        const args = [BIN, ...(await kind.prepare(url, work))];

        // Both versions, and the command's timing, from unkilled runs.
        const before = await documents(folder);
        const measured: Run[] = [];
        let after: Docs | undefined;
        for (let i = 0; i < 2; i++) {
          await kind.reset?.(url, work);
          const r = await run(args, env);
          assert.equal(r.code, 0, r.stderr);
          measured.push(r);
          const now = await documents(folder);
          if (after) assert.ok(sameDocs(now, after), "the command gives the same result every time");
          after = now;
          await restore(folder, before);
        }
        assert.ok(after);
        const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => !before.get(p)?.equals(after!.get(p) ?? Buffer.alloc(0)));
        assert.ok(changed.length >= 4, `the command changes several documents (${changed.join(", ")})`);
        // Durations and write starts of full unkilled runs; kill points follow their recent median,
        // as the machine's load changes.
        const durations = measured.map((r) => r.ms);
        const writeStarts = measured.map((r) => r.firstOutputMs ?? r.ms);
        const figures = { killedMidRun: 0, exitedBeforeKill: 0, untouched: 0, mixed: 0, complete: 0, lost: 0, corrupt: 0, stray: 0, notConverged: 0, leftoverTempFiles: 0, leftoverLockFiles: 0 };
        const problems: string[] = [];
        const killedAt: number[] = [];
        const rerunMs: number[] = [];
        for (let trial = 0; trial < CLI_TRIALS; trial++) {
          // Even trials: anywhere in the run. Odd ones: once it has printed its plan, which it does
          // just before writing, anywhere in the rest of the run.
          let r: Run | undefined;
          let ownBefore = new Set<string>();
          // A kill that came after the exit is tried again, aimed earlier each time: the machine's
          // load can make a run faster than the recent ones.
          for (let attempt = 0; attempt < 5 && !r?.killed; attempt++) {
            if (r) {
              assert.equal(r.code, 0, `trial ${trial}: not killed, and failed: ${r.stderr}`);
              figures.exitedBeforeKill++;
              durations.push(r.ms);
              writeStarts.push(r.firstOutputMs ?? r.ms);
            }
            await restore(folder, before);
            await kind.reset?.(url, work);
            ownBefore = new Set(dir ? leftovers(path.join(dir, CLUSTER)) : []);
            const estimate = median(durations.slice(-5));
            const writing = Math.max(10, estimate - median(writeStarts.slice(-5)));
            const at = slot(trial, CLI_TRIALS, 2) * 0.6 ** attempt;
            r = await run(args, env, trial % 2 === 0 ? { atMs: Math.round(at * estimate) } : { when: (out) => out.length > 0, delayMs: Math.round(at * writing) });
          }
          const at = r!.killedAtMs;
          if (r!.killed) (figures.killedMidRun++, killedAt.push(at!));
          else assert.equal(r!.code, 0, `trial ${trial}: not killed, and failed: ${r!.stderr}`);
          tally(figures, problems, judge(await documents(folder), before, after), trial, at);
          // kstate reads instance groups by listing their folder: a temp file is never one.
          const groups = [...(await new ClusterStore(openPath(url, openOptions())).readInstanceGroups(CLUSTER)).keys()].map((g) => `instancegroup/${g}`);
          const strayGroups = groups.filter((g) => !before.has(g) && !after.has(g));
          if (strayGroups.length > 0) problems.push(`trial ${trial}: read as instance groups: ${strayGroups.join(", ")}`);
          // Left behind by this trial's kill (kstate does not clean them up; nothing lists them).
          const own = (dir ? leftovers(path.join(dir, CLUSTER)) : []).filter((f) => !ownBefore.has(f));
          figures.leftoverTempFiles += own.filter((f) => path.basename(f).startsWith(".kstate-tmp-")).length;
          figures.leftoverLockFiles += own.filter((f) => path.basename(f).startsWith(".kstate-lock-")).length;

          const rerun = await run(args, env);
          rerunMs.push(rerun.ms);
          // 4: the killed run had written everything already, so the rerun found nothing to do.
          const converged = (rerun.code === 0 || rerun.code === 4) && sameDocs(await documents(folder), after);
          if (!converged) {
            figures.notConverged++;
            problems.push(`trial ${trial} (kill at ${at} ms): the rerun exited ${rerun.code} and the store is not the after version: ${rerun.stderr.trim()}`);
          }
        }
        record(`crash: ${kind.label} (${backend.name})`, {
          trials: CLI_TRIALS, killedMidRun: figures.killedMidRun, lostFiles: figures.lost, corruptFiles: figures.corrupt, lostUpdates: figures.notConverged,
          strayListed: figures.stray, untouched: figures.untouched, mixed: figures.mixed, complete: figures.complete,
          exitedBeforeKill: figures.exitedBeforeKill, leftoverTempFiles: figures.leftoverTempFiles, leftoverLockFiles: figures.leftoverLockFiles,
          documentsChanged: changed.length, runMs: median(durations), planPrintedMs: median(writeStarts), killPoints: spread(killedAt), rerunMs: spread(rerunMs),
        });
        fs.rmSync(work, { recursive: true, force: true });
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        assert.deepEqual(problems, []);
        assert.ok(figures.killedMidRun >= CLI_TRIALS - 2, `the kills landed before the command exited (${figures.killedMidRun} of ${CLI_TRIALS})`);
      });
    }
  }
});

/** The stack's checkpoint as the local backend keeps it (read straight from the state folder). */
function checkpoint(stateDir: string, stack: string): { resources: { type: string; outputs?: Record<string, any> }[]; pending_operations?: unknown[] } {
  const file = path.join(stateDir, ".pulumi", "stacks", CRASH_PROJECT, `${stack}.json`);
  return JSON.parse(fs.readFileSync(file, "utf8")).checkpoint.latest;
}

/**
 * The local backend keeps metadata beside each file it writes (`<file>.attrs`, the Go CDK's
 * file store), and writes that sidecar in place: a kill between its create and its write leaves
 * it empty, and every later command fails with "failed to load checkpoint: EOF". That is the
 * Pulumi CLI's own file, not kstate's; the repair (the README's) is to delete the broken sidecar,
 * whose absence the backend reads as "no metadata". Returns the files removed.
 */
function repairSidecars(stateDir: string): string[] {
  const root = path.join(stateDir, ".pulumi");
  const broken = (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".attrs"))
    .filter((f) => {
      try {
        JSON.parse(fs.readFileSync(path.join(root, f), "utf8"));
        return false;
      } catch {
        return true;
      }
    });
  for (const f of broken) fs.rmSync(path.join(root, f));
  return broken;
}

/** Lock files the local backend holds for the stack (a killed `up` leaves its own behind). */
function stackLocks(stateDir: string, stack: string): string[] {
  const dir = path.join(stateDir, ".pulumi", "locks", "organization", CRASH_PROJECT, stack);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe("crash consistency: SIGKILL of `pulumi up` (ClusterConfig, local backend)", function () {
  it(`${PULUMI_TRIALS} kills of an update, engine and dynamic provider together: each document old or new; \`pulumi cancel\` then \`up\` converges`, async function () {
    this.timeout(420_000);
    const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-crash-pulumi-"));
    const store = `file://${storeDir}`;
    const stateDir = newStateDir();
    const stack = `crash${Date.now().toString(36)}`;
    const envVars = engineEnv(stateDir);
    const env = { ...process.env, ...envVars };
    const pulumiRoot = toolPath("pulumi");
    const folder = openPath(store).join(CRASH_CLUSTER);
    const request = (variant: number, op: CrashRequest["op"]): CrashRequest => ({ store, stack, variant, op, pulumiRoot });
    const args = (variant: number) => [PROGRAM, JSON.stringify(request(variant, "up"))];
    // Runs that are not killed run in this process (the same program and engine, less start-up);
    // test/support/pulumi.ts gives each inline run connections of its own, so none needs a retry.
    const inProcess = (variant: number, op: CrashRequest["op"]): Promise<unknown> => runCrashOp(request(variant, op), envVars);
    const mtimes = () => (fs.readdirSync(path.join(storeDir, CRASH_CLUSTER), { recursive: true }) as string[])
      .filter((f) => !path.basename(f).startsWith(".kstate-"))
      .map((f) => fs.statSync(path.join(storeDir, CRASH_CLUSTER, f), { throwIfNoEntry: false })).filter((s) => s?.isFile()).map((s) => s!.mtimeMs);

    // Create (variant 0), then one measured update to variant 1 in a process of its own: its
    // duration, and when the provider writes (seen by polling the files' modification times).
    await inProcess(0, "up");
    const seen = new Set(mtimes());
    const writes: number[] = [];
    const measured = await run(args(1), env, undefined, (ms) => {
      for (const m of mtimes()) if (!seen.has(m)) (seen.add(m), writes.push(ms));
    });
    assert.equal(measured.code, 0, measured.stderr);
    assert.ok(writes.length > 0, "the measured update wrote to the store");
    const durations = [measured.ms];
    const writeStarts = [Math.min(...writes)];
    const writeSpan = Math.max(...writes) - Math.min(...writes);

    const figures = {
      killedMidRun: 0, untouched: 0, mixed: 0, complete: 0, lost: 0, corrupt: 0, stray: 0, notConverged: 0,
      locksLeft: 0, pendingOperations: 0, lockedUpRefused: 0, stateAlreadyUpdated: 0, brokenSidecars: 0,
    };
    const problems: string[] = [];
    const killedAt: number[] = [];
    for (let trial = 0; trial < PULUMI_TRIALS; trial++) {
      const variant = trial % 2 === 0 ? 0 : 1;
      // The after version: the update the provider will make, planned (nothing written) from
      // the store and the ownership the stack recorded.
      const before = await documents(folder);
      const outputs = () => checkpoint(stateDir, stack).resources.find((r) => r.type.endsWith(":ClusterConfig"))!.outputs!;
      const recorded = JSON.stringify(outputs());
      const { options, spec } = crashArgs(store, variant);
      const plan = await planCluster(new ClusterStore(openPath(store)), { name: CRASH_CLUSTER, storeUrl: store, manager: `pulumi:${CRASH_PROJECT}/${stack}/crash`, options, spec });
      assert.deepEqual(plan.problems, []);
      const after: Docs = new Map(before);
      for (const c of plan.changes) {
        const f = plan.files.find((x) => x.file === c.file)!;
        if (f.doc === null) after.delete(f.file);
        else after.set(f.file, Buffer.from(stringifyYaml(f.doc)));
      }
      assert.ok(plan.changes.length >= 4, `trial ${trial}: the update changes config and every instance group`);

      // A third of the kills anywhere in the run; a third in the 400 ms before the provider's
      // first write (the engine's check, diff and the update's start); a third once the provider
      // has started writing (mid-write, or after it and before the engine records the result).
      const estimate = median(durations.slice(-3));
      const writeStart = median(writeStarts.slice(-3));
      const at = slot(trial, PULUMI_TRIALS, 3);
      const baseline = new Set(mtimes());
      const kill: Kill = trial % 3 === 0 ? { atMs: Math.round(at * estimate) }
        : trial % 3 === 1 ? { atMs: Math.round(writeStart - 400 + at * 400) }
        : { when: () => mtimes().some((m) => !baseline.has(m)), delayMs: Math.round(at * (writeSpan + 50)) };
      const r = await run(args(variant), env, kill);
      if (r.killed) (figures.killedMidRun++, killedAt.push(r.killedAtMs!));
      else {
        assert.equal(r.code, 0, `trial ${trial}: not killed, and failed: ${r.stderr}`);
        durations.push(r.ms);
      }
      tally(figures, problems, judge(await documents(folder), before, after), trial, r.killedAtMs);

      // Recovery, as the README says: a broken sidecar of the local backend is deleted; a killed
      // `up` leaves the backend's lock behind, and every later update of the stack is refused
      // until `pulumi cancel` removes it.
      if (r.killed && repairSidecars(stateDir).length > 0) figures.brokenSidecars++;
      const locks = stackLocks(stateDir, stack);
      const pending = checkpoint(stateDir, stack).pending_operations ?? [];
      if (locks.length > 0) figures.locksLeft++;
      if (pending.length > 0) figures.pendingOperations++;
      if (r.killed && JSON.stringify(outputs()) !== recorded) figures.stateAlreadyUpdated++;
      if (locks.length > 0 && figures.lockedUpRefused === 0) {
        await assert.rejects(inProcess(variant, "up"), /the stack is currently locked by 1 lock\(s\)/, "up on a stack a killed up left locked is refused");
        figures.lockedUpRefused++;
      }
      if (locks.length > 0) {
        await inProcess(variant, "cancel");
        assert.deepEqual(stackLocks(stateDir, stack), [], "pulumi cancel removed the lock");
      }
      let upError = "";
      await inProcess(variant, "up").catch((e: unknown) => (upError = String(e).slice(-3000)));
      const converged = upError === "" && sameDocs(await documents(folder), after);
      if (!converged) {
        figures.notConverged++;
        problems.push(`trial ${trial} (kill at ${r.killedAtMs} ms, lock ${locks.length}, pending ${pending.length}): up ${upError ? `failed: ${upError}` : "succeeded"}; the store ${sameDocs(await documents(folder), after) ? "is" : "is not"} the after version`);
      }
      assert.deepEqual(checkpoint(stateDir, stack).pending_operations ?? [], [], `trial ${trial}: no pending operations after the up`);
    }
    record("crash: pulumi up (file://)", {
      trials: PULUMI_TRIALS, killedMidRun: figures.killedMidRun, lostFiles: figures.lost, corruptFiles: figures.corrupt, lostUpdates: figures.notConverged,
      strayListed: figures.stray, untouched: figures.untouched, mixed: figures.mixed, complete: figures.complete,
      locksLeft: figures.locksLeft, pendingOperations: figures.pendingOperations, stateAlreadyUpdated: figures.stateAlreadyUpdated,
      brokenPulumiSidecars: figures.brokenSidecars, runMs: median(durations), providerWritesStartMs: writeStarts[0]!, providerWriteSpanMs: writeSpan, killPoints: spread(killedAt),
    });
    fs.rmSync(storeDir, { recursive: true, force: true });
    assert.deepEqual(problems, []);
    assert.ok(figures.killedMidRun >= PULUMI_TRIALS - 4, `the kills landed before the up exited (${figures.killedMidRun} of ${PULUMI_TRIALS})`);
  });
});
