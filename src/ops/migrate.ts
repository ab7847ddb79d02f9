/**
 * Moving a cluster's state between stores: list both sides, copy what is missing or differs,
 * point `spec.configBase` at the destination, verify every file by hash, and only then, if asked,
 * delete the source, and that only once `kops update cluster` has run against the destination (its
 * `cluster-completed.spec` names the destination's configBase, and no update kstate ran there since
 * is recorded as failed: failed-update.ts), kops's last step of a move. Running
 * it again after a crash finishes the job without copying again what is already there.
 *
 * Once an update has run against the destination, the destination is authoritative: kops wrote
 * files there (cluster-completed.spec, igconfig/, addons/, perhaps keysets) newer than the
 * source's, so a file present at the destination is never overwritten; a file only the source has
 * is still copied, and only what was copied or found identical is verified.
 *
 * `kstate migrate` and StateStoreMigration both run this: `planSync` reads (both listings, the
 * source config and the destination's completed spec, at once) and works out what would move,
 * `applySync` does it without reading them again, so the plan a user is shown is the plan applied.
 */
import { createHash } from "node:crypto";
import { checkPart, KOPS_VERSION } from "../schema/check";
import { documentText } from "../store/document-text";
import { COMPLETED_SPEC, CONFIG_FILE, configBaseOf } from "../store/layout";
import { isScalar } from "yaml";
import { getIn, parseYaml, parseYamlValues, setIn, stringifyYaml } from "../store/yaml";
import { copyFile, md5Of, sameStoredBytes } from "../vfs/copy";
import { schemeOfUrl } from "../vfs/schemes";
import { AlreadyExistsError, ConflictError, IntegrityError, NotFoundError, RefusedError, ValidationError } from "../vfs/errors";
import type { EncryptionPolicy } from "../store/encryption-policy";
import type { FileInfo, VfsPath } from "../vfs/path";
import { statIfPresent } from "../vfs/absent";
import { mapLimit } from "../store/cluster-store";
import { AdaptivePace, FixedPace, type Pace, runPaced, SERVER_COPY_WAVE, WavePace } from "./copy-pace";
import { FAILED_UPDATES_FOLDER, type FailedUpdate } from "./failed-update";
import { type CarriedPolicy, type MigrationStores, policyForDestination, readPolicies, recordCarriedPolicy } from "./migrate-policy";

export interface SyncProgress {
  phase: "listing" | "copying" | "verifying" | "deleting" | "done";
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** This run's bytes copied per second (files already there do not count). */
  bytesPerSecond: number;
  /** Seconds left, once enough of the run's work is done to say. */
  etaSeconds: number | undefined;
}

export interface SyncOptions extends ApplyOptions {
  /** Work out what would move and write nothing. */
  dryRun?: boolean;
  /** As `PlanOptions.stores`. */
  stores?: MigrationStores;
  /** As `PlanOptions.destinationFailedUpdate`. */
  destinationFailedUpdate?: PromiseLike<FailedUpdate | undefined> | undefined;
}

export interface SyncResult {
  source: string;
  destination: string;
  /** `spec.configBase` as written at the destination. */
  configBase: string;
  filesTotal: number;
  bytesTotal: number;
  filesCopied: number;
  bytesCopied: number;
  /** Copies the servers made without the bytes passing through kstate. */
  serverSideCopies: number;
  /** Files already at the destination with the same content. */
  filesAlreadyThere: number;
  /** Files at the destination that the source does not have: reported, never deleted. */
  extraAtDestination: string[];
  /**
   * The destination's `cluster-completed.spec` as the plan found it: absent when there is none, else
   * the `spec.configBase` it names (absent when it names none).
   */
  completedSpec: { configBase?: string } | undefined;
  /**
   * The destination's completed spec as the copy will leave it (the source's, when the copy brings
   * it over): what deletion is judged on. Known when deletion was asked (`deleteSource`).
   */
  completedSpecAfterCopy: { configBase?: string } | undefined;
  /**
   * The completed spec names the destination's configBase: `kops update cluster` ran against the
   * new store, the destination is authoritative, and the source may be deleted.
   */
  destinationUpdated: boolean;
  /**
   * The last update kstate ran against the destination failed (failed-update.ts): its completed
   * spec may name the new store while nodes still boot from the old one. Known when deletion was
   * asked and the caller read it (`PlanOptions.destinationFailedUpdate`).
   */
  failedUpdate?: FailedUpdate;
  /** Files the source has that the (authoritative) destination holds in another version: kept, not overwritten, not verified. */
  keptAtDestination: string[];
  /** Files the destination holds in another version that the copy replaces (none of them a document of a cluster there). */
  replacedAtDestination: string[];
  /**
   * Of those, the documents (config, instance groups, secrets, SSH keys: files `kops update` never
   * writes) whose source differs: one of the two stores changed after the copy. The source is not
   * deleted while any does, so neither change is lost.
   */
  divergedDocuments: string[];
  verified: boolean;
  /** SHA-256 over every source file's path, size and MD5: the same source gives the same hash. */
  manifestHash: string;
  sourceDeleted: boolean;
  /**
   * With `deleteSource` and `untilUpdated: "keep"`: why the source was kept (no update has run
   * against the destination yet, or the last one failed), and the step that lets it go.
   */
  sourceKept?: string;
  dryRun: boolean;
  /**
   * The source store's encryption policy, recorded at the destination first (that store kept none
   * and holds no other cluster): migrate-policy.ts. A dry run reports what it would record.
   */
  carriedPolicy?: { url: string; policy: EncryptionPolicy };
}

/**
 * The source `config` with `spec.configBase` pointed at the destination; nothing else changes: the
 * value is replaced in the text itself, so every other byte (comments, number spellings, values
 * beyond what JavaScript keeps exactly) is the source's.
 */
export function rewriteConfigBase(text: string, source: string, configBase: string): string {
  const doc = parseYaml(text, source);
  if (getIn(doc, ["kind"]) !== "Cluster") throw new ValidationError(`${source}: not a kops Cluster document`, { problems: [{ path: "kind", message: "must be Cluster" }] });
  if (getIn(doc, ["spec", "configBase"]) === configBase) return text;
  // What is written must be a Cluster kops reads as written (every field one it knows, of its type);
  // the rest of the folder is copied as is.
  const node = doc.getIn(["spec", "configBase"], true);
  const inPlace = isScalar(node) && node.range !== undefined;
  const values = doc.toJS() as { spec?: object };
  const problems = checkPart("Cluster", [], { ...values, spec: { ...values.spec, configBase } }, { rewritten: !inPlace });
  if (problems.length > 0) {
    throw new ValidationError(`${source}: not a Cluster document kops ${KOPS_VERSION} reads as written, so its configBase was not rewritten and nothing was copied:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`, { problems });
  }
  if (inPlace) {
    const [start, end] = node.range!;
    // A block scalar's text runs to its last line break, which the line after it needs.
    const breaks = /\n*$/.exec(text.slice(start, end))![0];
    const rewritten = `${text.slice(0, start)}${scalarLike(node.type, configBase)}${breaks}${text.slice(end)}`;
    // Written only if it reads back as the source with that one value changed; else the whole
    // document is written from its values (comments kept, layout kops's).
    if (readsAs(rewritten, source, values, configBase)) return rewritten;
  }
  setIn(doc, ["spec", "configBase"], configBase);
  return stringifyYaml(doc);
}

/** Whether `text` holds `values` with `spec.configBase` set to `configBase`, and nothing else changed. */
function readsAs(text: string, source: string, values: { spec?: object }, configBase: string): boolean {
  try {
    return JSON.stringify(parseYamlValues(text, source)) === JSON.stringify({ ...values, spec: { ...values.spec, configBase } });
  } catch {
    return false;
  }
}

/** `value` written as the scalar it replaces was: plain where it reads back as itself, else quoted. */
function scalarLike(type: string | undefined, value: string): string {
  if (type === "PLAIN" && /^[A-Za-z0-9/][A-Za-z0-9._/:@+~=-]*$/.test(value) && (parseYamlValues(`v: ${value}`, "configBase") as { v?: unknown } | null)?.v === value) return value;
  if (type === "QUOTE_SINGLE") return `'${value.replace(/'/g, "''")}'`;
  return JSON.stringify(value);
}

function md5(data: Buffer | string): string {
  return createHash("md5").update(data).digest("hex");
}

/** A cluster folder's completed spec: absent, or the configBase it names (none when it cannot be read as a Cluster). */
async function readCompletedSpec(folder: VfsPath): Promise<{ configBase?: string } | undefined> {
  let text: string;
  try {
    text = (await folder.join(COMPLETED_SPEC).read()).data.toString("utf8");
  } catch (e) {
    if (NotFoundError.isInstance(e)) return undefined;
    throw e;
  }
  try {
    const named = (parseYamlValues(text, folder.join(COMPLETED_SPEC).url) as { spec?: { configBase?: unknown } } | null)?.spec?.configBase;
    return typeof named === "string" && named !== "" ? { configBase: named } : {};
  } catch (e) {
    if (ValidationError.isInstance(e)) return {};
    throw e;
  }
}

/**
 * The `spec.configBase` named by the `cluster-completed.spec` in a cluster's folder: the store the
 * last `kops update cluster` ran against. Undefined when there is none (no update has run there)
 * or it names none.
 */
export async function updatedAgainst(folder: VfsPath): Promise<string | undefined> {
  return (await readCompletedSpec(folder))?.configBase;
}

/** Whether two configBases name one folder (a local folder as a path or a file:// URL, a trailing slash). */
function sameConfigBase(a: string, b: string): boolean {
  return configBaseOf(a) === configBaseOf(b);
}

/** A cluster folder's URL as the store it is in and the cluster's name. */
function storeAndName(folderUrl: string): { store: string; name: string } {
  const url = folderUrl.replace(/\/+$/, "");
  const at = url.lastIndexOf("/");
  return { store: url.slice(0, at), name: url.slice(at + 1) };
}

/** How a run that keeps the source though its deletion was asked ends, as plans say it: `who` is "the run" or "up". */
export function keptSourceEnding(r: Pick<SyncResult, "filesCopied">, who: string): string {
  return r.filesCopied > 0 ? `the source will be kept, and ${who} fails after the copy` : `the source will be kept, and ${who} fails (there is nothing to copy)`;
}

/**
 * Why the source must be kept though deletion was asked, and the step that lets it go; undefined
 * when the destination has been updated against. For a dry run, a preview and the refusal alike.
 */
export function sourceKeptBecause(r: Pick<SyncResult, "source" | "destination" | "configBase" | "completedSpecAfterCopy" | "destinationUpdated" | "failedUpdate">): { reason: string; run: string; orRun: string; orThen?: string } | undefined {
  const { store, name } = storeAndName(r.destination);
  const kops = `kops update cluster ${name} --yes --state ${store}`;
  const kstate = `kstate update cluster ${name} --yes --state ${store}`;
  const failed = r.failedUpdate;
  if (failed) {
    // Only kstate's update clears kstate's record: after kops alone, the record goes by hand.
    const file = `${store}/${FAILED_UPDATES_FOLDER}/${name}.json`;
    return {
      reason: `the last update against the new store failed, so nodes may still boot from the old store (kops ${failed.kopsVersion}, at ${failed.failedAt}, recorded in ${file}): ${failed.outcome}`,
      run: kstate, orRun: kops, orThen: `remove ${file}`,
    };
  }
  if (r.destinationUpdated) return undefined;
  const file = `${r.destination}/${COMPLETED_SPEC}`;
  // The gist first: a preview may show only the start of a line.
  const named = r.completedSpecAfterCopy?.configBase;
  const reason = r.completedSpecAfterCopy === undefined
    ? `no update ran against the new store yet: there is no ${file}`
    : named === undefined
      ? `the new store records no update against it: ${file} names no spec.configBase`
      : `the last update recorded at the new store ran against ${sameConfigBase(named, r.source) ? "the old store (its cluster-completed.spec was copied from there)" : "another store"}: ${file} names spec.configBase ${named}, not the new store's ${r.configBase}`;
  return { reason, run: kops, orRun: kstate };
}

class Meter {
  private readonly started = Date.now();
  filesDone = 0;
  bytesDone = 0;
  /** Files and bytes counted done for being there already: not work this run did. */
  private filesThere = 0;
  private bytesThere = 0;
  constructor(private readonly filesTotal: number, private readonly bytesTotal: number, private readonly report?: (p: SyncProgress) => void) {}

  /** Counts files already at the destination as done, without counting them into the rate. */
  there(files: number, bytes: number): void {
    this.filesThere += files;
    this.bytesThere += bytes;
    this.tick("copying", files, bytes);
  }

  tick(phase: SyncProgress["phase"], files = 0, bytes = 0): void {
    this.filesDone += files;
    this.bytesDone += bytes;
    if (!this.report) return;
    const seconds = (Date.now() - this.started) / 1000;
    const copied = this.bytesDone - this.bytesThere;
    const rate = seconds > 0 ? copied / seconds : 0;
    this.report({
      phase, filesDone: this.filesDone, filesTotal: this.filesTotal, bytesDone: this.bytesDone, bytesTotal: this.bytesTotal,
      bytesPerSecond: rate, etaSeconds: this.eta(seconds),
    });
  }

  /**
   * Seconds left, from the share of this run's work done so far: of its files or of its bytes,
   * whichever is further along (a file's bytes count when it is done, so a large file copied
   * beside many small ones holds the bytes back, and many small files the count). None until a
   * twentieth of the work is done and a second has passed.
   */
  private eta(seconds: number): number | undefined {
    const share = (done: number, total: number) => (total > 0 ? done / total : 0);
    const done = Math.max(share(this.filesDone - this.filesThere, this.filesTotal - this.filesThere), share(this.bytesDone - this.bytesThere, this.bytesTotal - this.bytesThere));
    return done >= 0.05 && seconds >= 1 ? (seconds * (1 - Math.min(done, 1))) / done : undefined;
  }
}

/** The MD5 of a listed file: from the listing when the backend gave one, else read. */
async function hashOf(root: VfsPath, f: FileInfo): Promise<string> {
  return f.hash ?? md5Of(root.join(f.path));
}

/** What a sync found and would do: `planSync` works it out, `applySync` does it without reading it again. */
export interface SyncPlan {
  readonly source: VfsPath;
  readonly destination: VfsPath;
  readonly sourceFiles: FileInfo[];
  /** The destination's `config` as it must read: the source's, pointed at the destination. */
  readonly wantedConfig: string;
  /** What each destination file must hash to, where known (a kept file is not checked against it). */
  readonly expected: Map<string, string>;
  /** Largest first, without `config` (written last). */
  readonly toCopy: FileInfo[];
  readonly configNeeded: boolean;
  /** The source store's policy, recorded at the destination before anything is copied. */
  readonly carried: CarriedPolicy | undefined;
  /** What a dry run reports; `applySync` starts from it. */
  readonly result: Readonly<SyncResult>;
}

export interface PlanOptions {
  /** Files in flight at once while comparing (default 16). */
  concurrency?: number;
  onProgress?: (p: SyncProgress) => void;
  /**
   * The stores' roots: their recorded encryption policies are read beside the listings, and the
   * move is checked against them (migrate-policy.ts). Without them, no policy is looked at.
   */
  stores?: MigrationStores;
  /** Deletion is asked: the plan also reads the source's completed spec, to tell why the source would be kept. */
  deleteSource?: boolean;
  /** With `deleteSource`: the destination store's record of a failed update of the cluster (`readFailedUpdate`), read beside the listings. */
  destinationFailedUpdate?: PromiseLike<FailedUpdate | undefined> | undefined;
}

/**
 * Why a move from cluster folder `source` to `destination` cannot be made, or undefined: the same
 * folder, or one inside the other (the copy would land among the files it copies, and deleting the
 * source would delete the copy). Compared as URLs, so within one scheme and bucket.
 */
export function nestedStores(source: string, destination: string): string | undefined {
  const within = (inner: string, outer: string) => inner.startsWith(outer.endsWith("/") ? outer : `${outer}/`);
  if (source === destination) return "the source and the destination are the same store";
  if (within(destination, source)) return `the destination ${destination} lies inside the source's cluster folder ${source}: the copy would land among the files it copies, and deleting the source would delete it`;
  if (within(source, destination)) return `the source ${source} lies inside the destination's cluster folder ${destination}: the copy would land among the files it copies`;
  return undefined;
}

/**
 * Whether `e`, from planning a move, only says the move is done and its source deleted: the source
 * holds no cluster and the destination holds it. A migration asked to delete its source, run
 * again, then has nothing to do.
 */
export async function movedAndSourceDeleted(e: unknown, source: VfsPath, destination: VfsPath): Promise<boolean> {
  return NotFoundError.isInstance(e) && e.url === source.url && (await statIfPresent(destination.join(CONFIG_FILE))) !== undefined;
}

/**
 * Lists both sides and reads the source `config` and the destination's `cluster-completed.spec`,
 * all at once, and works out what is missing or differs (reading files only where neither listing
 * has a hash), and, at a destination updated against, what it keeps. Writes nothing.
 * Throws `NotFoundError` when the source holds no cluster.
 */
export async function planSync(source: VfsPath, destination: VfsPath, options: PlanOptions = {}): Promise<SyncPlan> {
  const nested = nestedStores(source.url, destination.url);
  if (nested) throw new ValidationError(`migrate ${source.url} -> ${destination.url}: ${nested}. Nothing was copied.`, { url: destination.url });
  const concurrency = options.concurrency ?? 16;
  options.onProgress?.({ phase: "listing", filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0, etaSeconds: undefined });
  const noCluster = () => new NotFoundError(`migrate ${source.url}: no cluster there (no config file)`, { url: source.url });
  const configRead = source.join(CONFIG_FILE).read().catch((e: unknown) => {
    throw NotFoundError.isInstance(e) ? noCluster() : e;
  });
  configRead.catch(() => undefined); // awaited below; a listing's failure may come first
  // The destination's completed spec is read beside the listings: it says whether the destination is authoritative.
  const [sourceFiles, destFiles, policies, completedSpec, sourceSpec, failedUpdate] = await Promise.all([
    source.listTree({ hashes: true }), destination.listTree({ hashes: true }), options.stores && readPolicies(options.stores), readCompletedSpec(destination),
    options.deleteSource ? readCompletedSpec(source) : undefined, options.deleteSource ? options.destinationFailedUpdate : undefined,
  ]);
  if (!sourceFiles.some((f) => f.path === CONFIG_FILE)) throw noCluster();
  const sourceConfig = await configRead;
  const carried = options.stores && policies ? await policyForDestination(options.stores, policies, source, destination, sourceFiles) : undefined;
  const configBase = configBaseOf(destination.url);
  const wantedConfig = rewriteConfigBase(documentText(sourceConfig.data, source.join(CONFIG_FILE).url), source.join(CONFIG_FILE).url, configBase);
  const destinationUpdated = completedSpec?.configBase !== undefined && sameConfigBase(completedSpec.configBase, configBase);

  const destByPath = new Map(destFiles.map((f) => [f.path, f]));
  const sourcePaths = new Set(sourceFiles.map((f) => f.path));
  const extra = destFiles.map((f) => f.path).filter((p) => !sourcePaths.has(p)).sort();
  // The config counts as written: its configBase rewritten, so its size can differ from the source's.
  const bytesTotal = sourceFiles.reduce((n, f) => n + (f.path === CONFIG_FILE ? Buffer.byteLength(wantedConfig) : f.size), 0);

  // What each destination file must hash to, and which ones already do.
  const expected = new Map<string, string>();
  const toCopy: FileInfo[] = [];
  const kept: string[] = [];
  let already = 0;
  let configNeeded = false;
  await mapLimit(sourceFiles, concurrency, async (f) => {
    const there = destByPath.get(f.path);
    if (f.path === CONFIG_FILE) {
      expected.set(f.path, md5(wantedConfig));
      const matches = there !== undefined && there.size === Buffer.byteLength(wantedConfig) && (await hashOf(destination, there)) === md5(wantedConfig);
      if (!matches && there !== undefined && destinationUpdated) {
        kept.push(f.path);
        return;
      }
      configNeeded = !matches;
      if (!configNeeded) already++;
      return;
    }
    if (there && there.size === f.size) {
      const [a, b] = [f.hash, there.hash];
      if (a !== undefined && b !== undefined) {
        expected.set(f.path, a);
        if (a === b) {
          already++;
          return;
        }
      } else if (sameStoredBytes(source, f, destination, there)) {
        already++;
        return;
      } else {
        const [sa, sb] = await Promise.all([hashOf(source, f), hashOf(destination, there)]);
        expected.set(f.path, sa);
        if (sa === sb) {
          already++;
          return;
        }
      }
    } else if (f.hash) {
      expected.set(f.path, f.hash);
    }
    if (there && destinationUpdated) {
      // An updated destination keeps its version: nothing to copy, nothing to verify it against.
      kept.push(f.path);
      return;
    }
    toCopy.push(f);
  });
  kept.sort();
  const replaced = toCopy.filter((f) => destByPath.has(f.path)).map((f) => f.path).sort();
  if (destByPath.has(CONFIG_FILE)) refuseToChangeClusterThere(source, destination, [...(configNeeded ? [CONFIG_FILE] : []), ...toCopy.map((f) => f.path).filter(isClusterOwn).sort()]);
  // Largest first, so a big backup runs beside the many small files instead of after them.
  toCopy.sort((a, b) => b.size - a.size);
  const manifestHash = createHash("sha256")
    .update([...sourceFiles].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => `${f.path}\t${f.size}\t${f.path === CONFIG_FILE ? md5(sourceConfig.data) : expected.get(f.path) ?? ""}`).join("\n"))
    .digest("hex");
  const result: SyncResult = {
    source: source.url, destination: destination.url, configBase,
    filesTotal: sourceFiles.length, bytesTotal,
    filesCopied: toCopy.length + (configNeeded ? 1 : 0),
    bytesCopied: toCopy.reduce((n, f) => n + f.size, 0) + (configNeeded ? Buffer.byteLength(wantedConfig) : 0),
    serverSideCopies: 0, filesAlreadyThere: already,
    extraAtDestination: extra, completedSpec, completedSpecAfterCopy: toCopy.some((f) => f.path === COMPLETED_SPEC) ? sourceSpec : completedSpec, destinationUpdated, ...(failedUpdate ? { failedUpdate } : {}), keptAtDestination: kept, replacedAtDestination: replaced, divergedDocuments: kept.filter(isDocument),
    verified: false, manifestHash, sourceDeleted: false, dryRun: true,
    ...(carried ? { carriedPolicy: { url: carried.file.url, policy: carried.policy } } : {}),
  };
  return { source, destination, sourceFiles, wantedConfig, expected, toCopy, configNeeded, carried, result };
}

export interface ApplyOptions {
  /** Files in flight at once; default a pace that adapts (copy-pace.ts). */
  concurrency?: number;
  /**
   * After a verified copy, delete the source files (each only if unchanged since it was listed),
   * once the destination has been updated against (`destinationUpdated`); before that, the copy is
   * made and verified and then refused with `RefusedError` naming the missing step.
   */
  deleteSource?: boolean;
  /** How the refusal's message ends: what to do after the update (default "migrate again with deleteSource"). */
  deleteAgainHint?: string;
  /**
   * With `deleteSource`, before the destination has been updated against: "refuse" (the default)
   * throws after the verified copy; "keep" returns with the source kept and `sourceKept` saying
   * why, so a program that runs the update after the copy is not stopped by it (a resource
   * converges over ups: the next one deletes the source).
   */
  untilUpdated?: "refuse" | "keep";
  onProgress?: (p: SyncProgress) => void;
}

/** A streamed copy holds a few parts in memory, not the file. */
const MAX_WEIGHT = 16 * 1024 * 1024;
/** Bytes of files in flight at once (each counted up to MAX_WEIGHT). */
const BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/**
 * The pace of the copies (copy-pace.ts). Copies the server makes (both stores of one scheme that
 * copies on the server) run in waves of the caller's number, else SERVER_COPY_WAVE; copies
 * streamed through this process in a rolling window of the caller's number, else one that adapts.
 */
function paceOf(source: VfsPath, destination: VfsPath, concurrency: number | undefined): Pace {
  const scheme = schemeOfUrl(source.url);
  const onServer = scheme?.serverCopy === true && scheme === schemeOfUrl(destination.url);
  if (onServer) return new WavePace(concurrency ?? SERVER_COPY_WAVE);
  return concurrency !== undefined ? new FixedPace(concurrency) : new AdaptivePace();
}

/**
 * Does what `plan` says, without listing or reading the source again: records the source store's
 * policy at the destination (when the plan carries it), copies the data, then the config,
 * verifies every destination file by hash (one listing of the destination), and, if asked,
 * deletes the source files, each only if unchanged since the plan listed it.
 */
export async function applySync(plan: SyncPlan, options: ApplyOptions = {}): Promise<SyncResult> {
  const { source, destination, sourceFiles, wantedConfig } = plan;
  const expected = new Map(plan.expected); // the plan stays as it was worked out
  const pace = paceOf(source, destination, options.concurrency);
  const copying = new Set([...plan.toCopy.map((f) => f.path), ...(plan.configNeeded ? [CONFIG_FILE] : [])]);
  const meter = new Meter(plan.result.filesTotal, plan.result.bytesTotal, options.onProgress);
  const result: SyncResult = { ...plan.result, filesCopied: 0, bytesCopied: 0, dryRun: false };
  // Bytes as written: the config's are its rewritten text's, as the plan's total counts them.
  const written = (f: FileInfo) => (f.path === CONFIG_FILE ? Buffer.byteLength(wantedConfig) : f.size);
  // Files already there count as done from the start, together: progress then counts the copies.
  const there = sourceFiles.filter((f) => !copying.has(f.path));
  if (there.length > 0) meter.there(there.length, there.reduce((n, f) => n + written(f), 0));

  // The policy first, so no file of the cluster sits at the destination unbound by it; then the
  // data, and the config last: the destination is a cluster only once it is whole.
  if (plan.carried) await recordCarriedPolicy(plan.carried);
  await runPaced(plan.toCopy, pace, async (f) => {
    const copied = await copyFile(source.join(f.path), destination.join(f.path), f.size, f.revision || undefined);
    if (copied.md5 && !expected.has(f.path)) expected.set(f.path, copied.md5);
    result.filesCopied++;
    result.bytesCopied += copied.bytes;
    if (copied.serverSide) result.serverSideCopies++;
    meter.tick("copying", 1, f.size);
  }, (f) => Math.min(f.size, MAX_WEIGHT), BYTES_IN_FLIGHT);
  if (plan.configNeeded) {
    // Created only if still absent: a cluster's config that appeared at the destination since the
    // plan (another cluster of the name) is kept, and the run stops there.
    await destination.join(CONFIG_FILE).create(wantedConfig).catch((e: unknown) => {
      if (!AlreadyExistsError.isInstance(e)) throw e;
      throw new ConflictError(`migrate ${source.url} -> ${destination.url}: a config appeared at the destination while the files were copied (another cluster of this name); it was kept, and this cluster's config was not written. The other files copied are there without a config; delete them or the cluster there, then migrate again.`, { url: destination.join(CONFIG_FILE).url });
    });
    result.filesCopied++;
    result.bytesCopied += Buffer.byteLength(wantedConfig);
    meter.tick("copying", 1, Buffer.byteLength(wantedConfig));
  }

  // Verify every destination file against the source by hash; a file the updated destination
  // kept, only for being there.
  const kept = new Set(plan.result.keptAtDestination);
  const after = new Map((await destination.listTree({ hashes: true })).map((f) => [f.path, f]));
  const mismatched: string[] = [];
  await mapLimit(sourceFiles, pace.limit, async (f) => {
    const there = after.get(f.path);
    if (!there) {
      mismatched.push(`${f.path} (missing)`);
      return;
    }
    if (kept.has(f.path)) {
      meter.tick("verifying");
      return;
    }
    if (!expected.has(f.path) && sameStoredBytes(source, f, destination, there)) {
      meter.tick("verifying");
      return;
    }
    const want = expected.get(f.path) ?? (await hashOf(source, f));
    const got = await hashOf(destination, there);
    if (want !== got) mismatched.push(`${f.path} (MD5 ${got}, expected ${want})`);
    meter.tick("verifying");
  });
  if (mismatched.length > 0) {
    throw new IntegrityError(`migrate ${source.url} -> ${destination.url}: ${mismatched.length} file(s) did not verify; the source was not touched:\n  ${mismatched.slice(0, 20).join("\n  ")}`, { url: destination.url });
  }
  result.verified = true;

  if (options.deleteSource) {
    // Said of the destination as the copy left it: the source's cluster-completed.spec may be there now.
    const hold = result.destinationUpdated && !result.failedUpdate ? undefined : sourceKeptBecause({ ...result, completedSpecAfterCopy: await readCompletedSpec(destination) });
    if (hold !== undefined && options.untilUpdated === "keep") {
      result.sourceKept = `${hold.reason}; update the cluster against the new store (a ClusterUpdate resource on it, or \`${hold.run}\`), and the next run deletes the source`;
      meter.tick("done");
      return result;
    }
    if (hold !== undefined) {
      throw new RefusedError(`migrate ${source.url} -> ${destination.url}: copied and verified; the source is kept until the cluster has been updated against the new store, and ${hold.reason}. Run \`${hold.run}\` (or \`${hold.orRun}\`${hold.orThen ? ` and then ${hold.orThen}` : ""}, or a ClusterUpdate resource on the new store), and then ${options.deleteAgainHint ?? "migrate again with deleteSource"}`, { url: source.url });
    }
    if (result.divergedDocuments.length > 0) {
      throw new RefusedError(`migrate ${source.url} -> ${destination.url}: copied and verified; the source is kept, because ${result.divergedDocuments.length} document(s) differ between the two stores (one of them changed after the copy, and \`kops update\` writes neither): ${result.divergedDocuments.slice(0, 10).join(", ")}. Make each the same in both (\`kstate get\`/\`kstate apply -f\` against the new store, or take the new store's), then ${options.deleteAgainHint ?? "migrate again with deleteSource"}`, { url: source.url });
    }
    const changed: string[] = [];
    await runPaced(sourceFiles, pace, async (f) => {
      try {
        await source.join(f.path).remove(f.revision !== undefined ? { ifRevision: f.revision } : {});
      } catch (e) {
        changed.push(`${f.path}: ${(e as Error).message}`);
      }
      meter.tick("deleting");
    });
    if (changed.length > 0) {
      throw new ConflictError(`migrate ${source.url}: copied and verified, but ${changed.length} source file(s) changed during the move and were kept:\n  ${changed.slice(0, 20).join("\n  ")}\nRun the migration again to copy them.`, { url: source.url });
    }
    result.sourceDeleted = true;
  }
  meter.tick("done");
  return result;
}

/**
 * Whether two plans of one move would write the same: the same source, the same files to copy
 * (each at the same revision), the config or not, the same files kept and the same policy carried.
 */
export function samePlan(a: SyncPlan, b: SyncPlan): boolean {
  const key = (p: SyncPlan) => JSON.stringify([
    p.result.manifestHash, p.toCopy.map((f) => `${f.path}\t${f.revision ?? ""}`).sort(), p.configNeeded, p.wantedConfig,
    p.result.keptAtDestination, p.result.replacedAtDestination, p.carried?.file.url ?? "",
  ]);
  return key(a) === key(b);
}

/**
 * A destination that holds a cluster of the name (its `config`), not yet updated against, keeps
 * its documents and keys: a copy that would replace one or add one is refused, nothing written.
 * It is another cluster, or this one changed at one of the two stores since an earlier copy (a
 * group or key deleted there comes back otherwise); either way the change is someone's.
 */
function refuseToChangeClusterThere(source: VfsPath, destination: VfsPath, documents: readonly string[]): void {
  if (documents.length === 0) return;
  throw new ConflictError(`migrate ${source.url} -> ${destination.url}: the destination already holds a cluster of this name, and ${documents.length} of its document(s) or key(s) differ from the source's or are missing there: ${firstOf(documents, 10)}. It is another cluster, or this one changed at one of the two stores since an earlier copy; a migration would write them, so nothing was copied. Delete the cluster there first, or move this one to another store; if it is an earlier copy of this one, make each document the same in both (\`kstate get\`/\`kstate apply -f\`), then migrate again.`, { url: destination.join(documents[0]!).url });
}

/** The first `n` of `files`, for a message or a plan line: "a, b, c, …". */
export function firstOf(files: readonly string[], n = 5): string {
  return `${files.slice(0, n).join(", ")}${files.length > n ? ", …" : ""}`;
}

/** A document, or a key of the cluster's (`pki/`): what a cluster holds of its own, not kops's output. */
function isClusterOwn(file: string): boolean {
  return isDocument(file) || file.startsWith("pki/");
}

/** A file `kops update` never writes: a change to it is someone's, and must not be lost. */
function isDocument(file: string): boolean {
  return file === CONFIG_FILE || file.startsWith("instancegroup/") || file.startsWith("secrets/") || file.startsWith("pki/ssh/");
}

/**
 * Syncs one cluster's folder (`{store}/{cluster}`) from `source` to `destination`: `planSync`,
 * then, unless a dry run, `applySync`. Throws `NotFoundError` when the source holds no cluster;
 * never deletes at the destination.
 */
export async function syncCluster(source: VfsPath, destination: VfsPath, options: SyncOptions = {}): Promise<SyncResult> {
  const plan = await planSync(source, destination, options);
  if (options.dryRun) return plan.result;
  return applySync(plan, options);
}
