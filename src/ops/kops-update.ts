/**
 * `kops update cluster`, run by kstate: the one road `kstate update cluster` and the ClusterUpdate
 * resource share. kops does the cloud work; this finds and checks the binary, runs it under a
 * deadline with its output streamed line by line, stops it when a task keeps failing (kops would
 * retry it for ten minutes), and reads its dry-run report into a list of task changes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clearFailedUpdate, recordFailedUpdate } from "./failed-update";
import { KopsFailedError, runKops } from "./kops-process";
import { KOPS_TASK_TYPES } from "./kops-task-types";
import { kopsReadPatterns, POLICY_FILE, readPolicy } from "../store/encryption-policy";

export { KopsFailedError } from "./kops-process";
import { type Environment, isEnvelope, NotFoundError, openPath, parseUrl, readIfPresent, RefusedError, SCHEMES, statIfPresent, ValidationError, type VfsPath } from "../vfs";

/** A kops binary and the version it reports. */
export interface KopsBinary {
  path: string;
  version: string;
}

/** One task of kops's dry-run report: `LaunchTemplate/nodes-us-east-1a.example.com` and its fields. */
export interface TaskChange {
  action: "create" | "modify" | "delete";
  /** kops's name for it: `Type/name`. */
  task: string;
  /** Its fields as kops prints them (`InstanceType t3.medium -> t3.large`), blanks squeezed. */
  details: string[];
}

export interface UpdateReport {
  changes: TaskChange[];
  /** kops said "No changes need to be applied". */
  noChanges: boolean;
}

/**
 * The kops to run: `given` as a path (with a slash) or a name looked up on `env.PATH` (default
 * `kops`), asked for its version. Fails naming what was looked for.
 */
export async function findKops(given: string | undefined, env: Environment): Promise<KopsBinary> {
  const name = given ?? "kops";
  let found: string | undefined;
  if (name.includes("/")) {
    found = path.resolve(name);
    if (!isExecutable(found)) throw new ValidationError(`kops binary ${found}: not an executable file`, { problems: [{ path: "kops", message: "not an executable file" }] });
  } else {
    found = (env.PATH ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name)).find(isExecutable);
    if (!found) throw new ValidationError(`no ${name} on PATH: install kops, or give the binary's path (--kops PATH, or the resource's kops input)`, { problems: [{ path: "kops", message: "not found on PATH" }] });
  }
  const { stdout, stderr, code } = await runKops(found, ["version"], env, { timeoutMs: 30_000 });
  // kops 1.2x and later: "Client version: 1.36.2 (git-v1.36.2)"; older: "Version 1.18.0 (git-…)".
  const version = /(?:Client version:|Version)\s+v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/.exec(stdout)?.[1];
  if (code !== 0 || !version) throw new ValidationError(`${found} version: not a kops binary (exit ${code}): ${(stdout + stderr).trim().slice(0, 300)}`, { problems: [{ path: "kops", message: "not a kops binary" }] });
  return { path: found, version };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** -1, 0 or 1 as `a` is older than, the same as or newer than `b` (major.minor.patch; a pre-release is older). */
export function compareKopsVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, "").split("-", 2);
    return { nums: core!.split(".").map((n) => Number(n) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/** The kops version that last updated the cluster in `folder` (`kops-version.txt`), if any did. */
export async function lastUpdatedBy(folder: VfsPath): Promise<string | undefined> {
  const file = folder.join("kops-version.txt");
  const read = await readIfPresent(file);
  if (read === undefined) return undefined;
  const text = read.data.toString("utf8").trim();
  // kops refuses such a file too ("error parsing last kops version updated"), but only midway; a
  // leading v as well ("Invalid character(s) found in major number").
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(text)) {
    throw new ValidationError(`${file.url} holds ${JSON.stringify(text.slice(0, 40))}, not a kops version (kops writes e.g. 1.36.2 there, and refuses to update a cluster whose file it cannot read)`, { url: file.url });
  }
  return text;
}

/**
 * What is checked in the store at `root` before kops runs, by the CLI and ClusterUpdate alike (a
 * preview against a scratch copy included): the binary and its version (no older than the one
 * that last updated the cluster), and that nothing kops reads is sealed by kstate's client-side
 * encryption, by the store's policy or file by file (kops would fail midway on the first one).
 */
export async function readyKops(root: VfsPath, name: string, given: string | undefined, env: Environment, allowDowngrade: boolean): Promise<KopsBinary> {
  const folder = root.join(name);
  const [kops, last, recorded] = await Promise.all([findKops(given, env), lastUpdatedBy(folder), readPolicy(root)]);
  const sealed = recorded ? kopsReadPatterns(recorded.policy.patterns) : [];
  if (sealed.length > 0) {
    throw new RefusedError(`${root.url} seals ${sealed.join(", ")} of each cluster (kstate's client-side encryption, ${POLICY_FILE}): kops reads those files and cannot open them, so kops update cannot run on this store. Nothing ran. Move the cluster to a store that kops can read (server-side encryption instead), or keep those files unsealed.`, { url: root.url });
  }
  // Files sealed while a policy was recorded stay sealed after it is cleared.
  const found = await sealedFiles(folder);
  if (found.length > 0) {
    throw new RefusedError(`${folder.url}: ${found.slice(0, 5).join(", ")}${found.length > 5 ? ` and ${found.length - 5} more` : ""} ${found.length === 1 ? "is" : "are"} sealed by kstate's client-side encryption, and kops reads ${found.length === 1 ? "it" : "them"}: kops update cannot run on this cluster while kops cannot read them. Nothing ran.`, { url: folder.url });
  }
  checkKopsVersion(kops, last, name, allowDowngrade);
  return kops;
}

/** Refuses a cluster the store does not hold, naming the file (kops's own "cluster not found" names neither). */
export async function requireCluster(folder: VfsPath, name: string): Promise<void> {
  const config = folder.join("config");
  if ((await statIfPresent(config)) === undefined) throw new NotFoundError(`cluster ${JSON.stringify(name)} not found: there is no ${config.url}`, { url: config.url });
}

/** The files kops reads under secrets/ and pki/private/ that are kstate envelopes, by path in the cluster's folder. */
async function sealedFiles(folder: VfsPath): Promise<string[]> {
  const trees = await Promise.all(KOPS_READ_FOLDERS.map(async (dir) => (await folder.join(dir).listTree()).map((f) => `${dir}/${f.path}`)));
  const paths = trees.flat();
  const sealed = await Promise.all(paths.map(async (p) => {
    const read = await readIfPresent(folder.join(...p.split("/")));
    return read !== undefined && isEnvelope(read.data) ? p : undefined;
  }));
  return sealed.filter((p): p is string => p !== undefined).sort();
}

const KOPS_READ_FOLDERS = ["secrets", "pki/private"];

/**
 * Refuses a kops older than the one that last updated the cluster, as kops's own check does
 * (`--allow-kops-downgrade` lets it run), before anything runs.
 */
export function checkKopsVersion(kops: KopsBinary, last: string | undefined, name: string, allowDowngrade: boolean): void {
  if (last === undefined || allowDowngrade || compareKopsVersions(kops.version, last) >= 0) return;
  throw new RefusedError(`${name} was last updated by kops ${last}; ${kops.path} is kops ${kops.version}, which is older. Use kops ${last} or newer, or allow the downgrade (--allow-kops-downgrade, or allowKopsDowngrade: true).`);
}

/**
 * A scratch state store (a local folder) holding cluster `name`'s documents in the store at `root`
 * (config and instance groups, the files kops reads from --state) with `documents` laid over them: kops's dry
 * run against it shows what an update would do once those documents are written. Everything else
 * (keys, secrets, the last update's files) kops reads from the cluster's spec.configBase, the
 * real store, and a dry run writes nothing there. `dispose` removes the folder.
 */
export async function stateWithDocuments(root: VfsPath, name: string, documents: ReadonlyMap<string, string | null>): Promise<{ state: string; dispose(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-update-preview-"));
  try {
    const folder = root.join(name);
    const scratch = openPath(`file://${dir}`).join(name);
    const [config, version, groups] = await Promise.all([
      readIfPresent(folder.join("config")),
      readIfPresent(folder.join("kops-version.txt")),
      folder.join("instancegroup").listTree(),
    ]);
    const files = new Map<string, string | Buffer | null>();
    if (config) files.set("config", config.data);
    // kops's own downgrade check reads it: the preview checks as the update will.
    if (version) files.set("kops-version.txt", version.data);
    await Promise.all(groups.map(async (g) => {
      const read = await readIfPresent(folder.join("instancegroup").join(g.path));
      if (read) files.set(`instancegroup/${g.path}`, read.data);
    }));
    for (const [file, text] of documents) files.set(file, text);
    await Promise.all([...files].filter(([, data]) => data !== null).map(([file, data]) => scratch.join(file).write(data!)));
    return { state: `file://${dir}`, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface UpdateRequest {
  kops: KopsBinary;
  /** The state store's URL, as kops's --state takes it. */
  state: string;
  name: string;
  /** `preview`: kops's dry run; `apply`: --yes; `terraform`: --target=terraform --out outDir. */
  mode: "preview" | "apply" | "terraform";
  outDir?: string;
  /** kops's --lifecycle-overrides: task type to lifecycle (Sync, Ignore, WarnIfInsufficientAccess, ExistsAndValidates, ExistsAndWarnIfChanges). */
  lifecycleOverrides?: Record<string, string>;
  allowKopsDowngrade?: boolean;
  /** kops's --prune: delete cloud resources the cluster no longer needs (after a rolling update). */
  prune?: boolean;
  /** kops's whole environment: the store's and the cloud's credentials, KUBECONFIG, … */
  env: Environment;
  /** Longest the whole run may take, in ms. Default 30 minutes. */
  timeoutMs?: number;
  /** How long kops may keep retrying a failing task before the run is stopped as failed, in ms. Default 3 minutes. */
  failingTaskMs?: number;
  /** Each line kops prints, as it prints it. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /**
   * The store as stored (neither guarded nor sealing), where an applied update (`mode: "apply"`)
   * is recorded as under way when kops starts and as failed when it fails, until one succeeds, so
   * a migration keeps its source (failed-update.ts).
   */
  recordAt?: VfsPath;
}

export interface UpdateResult extends UpdateReport {
  stdout: string;
  stderr: string;
}

const LIFECYCLES = new Set(["Sync", "Ignore", "WarnIfInsufficientAccess", "ExistsAndValidates", "ExistsAndWarnIfChanges"]);

const KOPS_TASK_TYPES_VERSION = "1.36.2";

/** The task type `name` was most likely meant to be: the same but for case or a plural, else one or two letters off. */
function nearestTaskType(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/s$/, "");
  const types = [...KOPS_TASK_TYPES];
  const same = types.find((t) => t.toLowerCase() === lower || t.toLowerCase() === name.toLowerCase());
  if (same) return same;
  let best: { type: string; d: number } | undefined;
  for (const t of types) {
    const d = editDistance(name.toLowerCase(), t.toLowerCase());
    if (d <= 2 && d * 3 <= name.length && (!best || d < best.d)) best = { type: t, d };
  }
  return best?.type;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** kops's arguments for `req`. */
export function updateArgs(req: Pick<UpdateRequest, "name" | "state" | "mode" | "outDir" | "lifecycleOverrides" | "allowKopsDowngrade" | "prune">): string[] {
  const args = ["update", "cluster", req.name, "--state", req.state];
  if (req.mode === "apply") args.push("--yes");
  if (req.mode === "terraform") {
    if (!req.outDir) throw new ValidationError("the terraform target needs an output folder (--out DIR)", { problems: [{ path: "outDir", message: "required with target terraform" }] });
    args.push("--target=terraform", "--out", req.outDir);
  }
  const overrides = Object.entries(req.lifecycleOverrides ?? {});
  for (const [task, lifecycle] of overrides) {
    if (!KOPS_TASK_TYPES.has(task)) {
      // kops would ignore it without a word: a misspelt override overrides nothing.
      const near = nearestTaskType(task);
      throw new ValidationError(`lifecycleOverrides: ${JSON.stringify(task)} is not a task type of kops ${KOPS_TASK_TYPES_VERSION} (${near ? `did you mean ${near}?` : "e.g. SecurityGroup, LaunchTemplate"}); kops would ignore it`, { problems: [{ path: "lifecycleOverrides", message: "not a task type" }] });
    }
    if (!LIFECYCLES.has(lifecycle)) throw new ValidationError(`lifecycleOverrides.${task}: ${JSON.stringify(lifecycle)} is not one of ${[...LIFECYCLES].join(", ")}`, { problems: [{ path: `lifecycleOverrides.${task}`, message: "not a lifecycle" }] });
  }
  if (overrides.length > 0) args.push("--lifecycle-overrides", overrides.map(([t, l]) => `${t}=${l}`).join(","));
  if (req.allowKopsDowngrade) args.push("--allow-kops-downgrade");
  if (req.prune) args.push("--prune");
  return args;
}

/**
 * Runs `kops update cluster` as `req` says and reads its report. A kops that exits non-zero, keeps
 * failing a task for `failingTaskMs`, or outlives `timeoutMs` is stopped and a `KopsFailedError`
 * thrown with what it printed.
 */
export async function runUpdate(req: UpdateRequest): Promise<UpdateResult> {
  const args = updateArgs(req);
  const env: Record<string, string | undefined> = { ...req.env };
  // kops renders a file:// store's node files into Terraform only with this flag off (it waits forever otherwise).
  if (req.mode === "terraform" && !SCHEMES[parseUrl(req.state).scheme].terraformManagedFiles) {
    env.KOPS_FEATURE_FLAGS = [env.KOPS_FEATURE_FLAGS, "-TerraformManagedFiles"].filter(Boolean).join(",");
  }
  const record = req.mode === "apply" ? req.recordAt : undefined;
  // Recorded before kops starts: an update stopped midway (kstate killed, the machine lost) is
  // then on record as not finished, as one that fails is.
  if (record) await recordStarted(req, record);
  const run = await runKops(req.kops.path, args, env, {
    timeoutMs: req.timeoutMs ?? 30 * 60_000,
    failingTaskMs: req.failingTaskMs ?? 3 * 60_000,
    ...(req.onLine ? { onLine: req.onLine } : {}),
  });
  const output = { stdout: run.stdout, stderr: run.stderr };
  const command = `kops ${args.join(" ")}`;
  const ended = run.code === null ? `stopped by ${run.signal ?? "a signal"}` : `exit ${run.code}`;
  const failure = run.stopped ?? (run.code !== 0 ? ended : undefined);
  const note = record ? await recordOutcome(req, record, failure) : "";
  if (run.stopped) throw new KopsFailedError(`${command}: ${run.stopped}${note}\n${lastLines(run.stderr, 20)}`, output);
  if (run.code !== 0) throw new KopsFailedError(`${command} failed (${ended})${note}:\n${lastLines(run.stderr || run.stdout, 20)}`, output);
  return { ...parseUpdateReport(run.stdout), ...output };
}

/** Records an applied update as under way; kops does not start when that cannot be recorded. */
async function recordStarted(req: UpdateRequest, root: VfsPath): Promise<void> {
  const at = new Date().toISOString();
  await recordFailedUpdate(root, req.name, { failedAt: at, kopsVersion: req.kops.version, outcome: `did not finish: kstate stopped while kops ran (started at ${at})` }).catch((e: Error) => {
    throw new KopsFailedError(`kops update cluster ${req.name} did not run: kstate could not record it as under way in ${root.url} (${e.message}); nothing was changed`, { stdout: "", stderr: "" });
  });
}

/**
 * Records an applied update's failure in the store, or clears the record after a success. A
 * failure that cannot be recorded is told beside kops's own (returned, to add to its message); a
 * success whose record cannot be cleared fails, so the update stays pending and runs again.
 */
async function recordOutcome(req: UpdateRequest, root: VfsPath, failure: string | undefined): Promise<string> {
  if (failure === undefined) {
    await clearFailedUpdate(root, req.name).catch((e: Error) => {
      throw new KopsFailedError(`kops update cluster ${req.name} succeeded, but kstate could not clear its record in ${root.url} (${e.message}); run the update again`, { stdout: "", stderr: "" });
    });
    return "";
  }
  return recordFailedUpdate(root, req.name, { failedAt: new Date().toISOString(), kopsVersion: req.kops.version, outcome: failure })
    .then(() => "", (e: Error) => ` (and kstate could not record the failure in ${root.url}: ${e.message})`);
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

const SECTIONS: [RegExp, TaskChange["action"]][] = [[/^Will create resources:/, "create"], [/^Will modify resources:/, "modify"], [/^Will delete (?:resources|items below):/, "delete"]];

/**
 * kops's dry-run report (its stdout) as task changes. kops prints a section per action, each task
 * as `  Type/name` (deletions as `  Type  name`), and under a task its fields indented by a tab.
 */
export function parseUpdateReport(stdout: string): UpdateReport {
  const changes: TaskChange[] = [];
  let action: TaskChange["action"] | undefined;
  let current: TaskChange | undefined;
  for (const raw of stdout.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const section = SECTIONS.find(([re]) => re.test(line));
    if (section) {
      action = section[1];
      current = undefined;
      continue;
    }
    if (!action) continue;
    if (/^\s+\t/.test(line)) {
      // A field of the task above, or a line of a field's text diff (user data, a managed file):
      // blank ones included, which do not end the task.
      if (current && line.trim() !== "") current.details.push(line.trim().replace(/\s+/g, " "));
      continue;
    }
    if (line.trim() === "") {
      current = undefined;
      continue;
    }
    if (!line.startsWith(" ")) {
      action = undefined; // the report ended (e.g. "Must specify --yes to apply changes")
      continue;
    }
    const body = line.trim();
    // A deletion is `Type  name`; a creation or change `Type/name`.
    const task = body.includes("/") ? body : body.replace(/\s+/, "/");
    current = { action, task, details: [] };
    changes.push(current);
  }
  return { changes, noChanges: /No changes need to be applied/.test(stdout) };
}

/** The report as lines, as a preview shows them: `+ create Type/name`, `~ modify Type/name: Field a -> b`. */
export function describeTasks(report: UpdateReport): string[] {
  if (report.changes.length === 0) return ["kops: no changes need to be applied"];
  const sign = { create: "+", modify: "~", delete: "-" } as const;
  return report.changes.map((c) => {
    const fields = c.action === "modify" && c.details.length > 0 ? `: ${c.details.join("; ")}` : "";
    return `${sign[c.action]} ${c.action} ${c.task}${fields}`;
  });
}
