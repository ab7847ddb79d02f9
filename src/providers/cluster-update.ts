/**
 * The ClusterUpdate resource's CRUD: kops's `update cluster` run against a cluster in a store,
 * previewed as kops's dry run and applied with --yes (or the terraform target), through the same
 * ops road as `kstate update cluster`.
 *
 * - `check` runs the dry run and keeps kops's task changes as `plan` (the preview shows them).
 *   When a ClusterConfig of the same cluster is about to write documents in the same preview, the
 *   dry run reads them as it will leave them (planned-documents.ts).
 * - `diff` runs the update when `triggers` or the settings changed, when kops's dry run (the plan)
 *   has changes to make, or when the last `refresh` found some pending (`pendingChanges`), and
 *   only then: with nothing to change, kops is not run with --yes.
 * - `create`/`update` run it; a failed run throws, so the engine keeps the old state and the next
 *   `up` runs it again.
 * - `read` (refresh) runs the dry run and records what is pending as drift.
 * - `delete` forgets the resource: the cloud resources stay (`kops delete cluster` deletes them).
 */
import type * as pulumi from "@pulumi/pulumi";
import { parseGoDuration } from "../ops/duration";
import { describeTasks, KopsFailedError, readyKops, requireCluster, runUpdate, stateWithDocuments, updateArgs, type UpdateRequest } from "../ops/kops-update";
import { describeRolling, rollingUpdateArgs, type RollingUpdateOptions, runRollingUpdate } from "../ops/kops-rolling-update";
import { isDns1123Subdomain } from "../ops/validate";
import { canonicalUrl, type Environment, KstateError, openPath, parseUrl, SCHEMES, statIfPresent, type StoreSettings, type VfsPath } from "../vfs";
import { hideSecrets } from "../vfs/errors";
import { type DocumentTexts, plannedWrites } from "./planned-documents";
import { containsUnknown, outputNames, type ProviderImpl, sealedFailures } from "./serialize";
import { configureFromStack } from "./stack-config";
import { accessOf, accessProblems, isMissingBucket, SECRET_ACCESS_KEYS, type StoreAccess, STORE_ACCESS_KEYS, storeSettingsOf } from "./store-access";
import { report } from "./report";

export const CLUSTER_UPDATE_SCHEMA_VERSION = 1;

export interface ClusterUpdateInputs extends StoreAccess {
  /** The state store's URL (s3://bucket, gs://bucket, file:///dir). */
  store: string;
  /** The cluster's name. */
  name: string;
  /** The kops binary: a path, or a name looked up on PATH. Default `kops`. */
  kops?: string;
  /** `direct` (default): kops changes the cloud. `terraform`: kops writes kubernetes.tf into `outDir`. */
  target?: "direct" | "terraform";
  outDir?: string;
  /** Anything whose change should run the update, e.g. a ClusterConfig's `revisions`. */
  triggers?: unknown;
  /** kops's --lifecycle-overrides, task type to lifecycle. */
  lifecycleOverrides?: Record<string, string>;
  allowKopsDowngrade?: boolean;
  prune?: boolean;
  /** Variables for kops beside the provider's own environment (cloud credentials, AWS_ENDPOINT_URL, …); a secret in state. */
  environment?: Record<string, string>;
  /** How long kops may keep retrying a failing task before the update is stopped as failed (Go duration). Default 3m. */
  failAfter?: string;
  /**
   * Opt-in: after each update, `kops rolling-update cluster --yes` with these options. The preview
   * shows kops's read-only report. Without `cloudOnly`, kops drains and validates through the
   * cluster's Kubernetes API, which must be reachable from where `pulumi up` runs.
   */
  rollingUpdate?: RollingUpdateOptions;
  /** Set by `check`: kops's task changes. */
  plan?: string[];
}

export interface ClusterUpdateOutputs extends ClusterUpdateInputs {
  plan: string[];
  /** The kops version that ran the update. */
  kopsVersion: string;
  /** What the last run applied, as its dry run listed it. */
  applied: string[];
  /** Cloud changes a refresh found pending (drift); empty after an update. */
  pendingChanges: string[];
  schemaVersion: number;
}

export const CLUSTER_UPDATE_OUTPUTS = outputNames<ClusterUpdateOutputs>()(
  "store", "name", "kops", "target", "outDir", "triggers", "lifecycleOverrides", "allowKopsDowngrade", "prune", "environment", "failAfter",
  "rollingUpdate", "plan", "kopsVersion", "applied", "pendingChanges", "schemaVersion", ...STORE_ACCESS_KEYS,
);

/** Inputs whose change runs the update again (beside triggers). */
const SETTINGS = ["store", "kops", "target", "outDir", "lifecycleOverrides", "allowKopsDowngrade", "prune", "rollingUpdate"] as const;

const SECRET_INPUTS = ["environment", ...SECRET_ACCESS_KEYS];

function checkInputs(news: Partial<ClusterUpdateInputs>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  let scheme;
  if (typeof news.store !== "string" || news.store === "") fail("store", "required: the state store's URL (s3://bucket, gs://bucket, file:///dir)");
  else if (!containsUnknown(news.store)) {
    try {
      scheme = SCHEMES[parseUrl(news.store).scheme];
      if (scheme.kopsReaches !== true) fail("store", `kops cannot reach a ${scheme.scheme}:// store (${scheme.kopsReaches})`);
    } catch (e) {
      fail("store", KstateError.isInstance(e) ? e.message : String(e));
    }
  }
  failures.push(...accessProblems(knownAccess(news), scheme));
  if (typeof news.name !== "string" || news.name === "") fail("name", "required: the cluster's name, e.g. dev.k8s.example.com");
  else if (!containsUnknown(news.name) && !isDns1123Subdomain(news.name)) fail("name", `${JSON.stringify(news.name)} is not a cluster name: lowercase letters, digits, '-' and '.', e.g. dev.k8s.example.com`);
  if (news.kops !== undefined && (typeof news.kops !== "string" || news.kops === "")) fail("kops", "must be a path or a name on PATH");
  if (news.target !== undefined && news.target !== "direct" && news.target !== "terraform") fail("target", "must be direct or terraform");
  if (news.target === "terraform" && (typeof news.outDir !== "string" || news.outDir === "")) fail("outDir", "required with target terraform: the folder kops writes kubernetes.tf into");
  if (news.target !== "terraform" && news.outDir !== undefined) fail("outDir", "goes with target terraform");
  for (const k of ["allowKopsDowngrade", "prune"] as const) if (news[k] !== undefined && typeof news[k] !== "boolean") fail(k, "must be true or false");
  if (news.environment !== undefined && !containsUnknown(news.environment)) {
    const env = news.environment as unknown;
    if (typeof env !== "object" || env === null || Array.isArray(env) || Object.values(env).some((v) => typeof v !== "string")) fail("environment", "must map variable names to strings");
    else {
      const bad = Object.keys(env).find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
      if (bad !== undefined) fail("environment", `${JSON.stringify(bad)} is not a variable name`);
    }
  }
  if (news.failAfter !== undefined) {
    try {
      parseGoDuration(news.failAfter, "failAfter");
    } catch (e) {
      fail("failAfter", (e as Error).message);
    }
  }
  if (news.lifecycleOverrides !== undefined && !containsUnknown(news.lifecycleOverrides)) {
    try {
      updateArgs({ name: "x", state: "file:///x", mode: "preview", lifecycleOverrides: news.lifecycleOverrides });
    } catch (e) {
      fail("lifecycleOverrides", (e as Error).message.replace(/^lifecycleOverrides(\.\w+)?: /, ""));
    }
  }
  if (news.rollingUpdate !== undefined && !containsUnknown(news.rollingUpdate)) {
    if (news.target === "terraform") fail("rollingUpdate", "goes with the direct target (terraform applies the changes, not kops)");
    else {
      try {
        rollingUpdateArgs("x", "file:///x", news.rollingUpdate, false);
      } catch (e) {
        fail("rollingUpdate", (e as Error).message);
      }
    }
  }
  return failures;
}

/** The store settings given and known (in a preview, a ClusterConfig's may not be yet). */
function knownAccess(i: Partial<StoreAccess>): StoreAccess {
  // A ClusterConfig's setting that is not set reaches here as null (an output of nothing, sealed as a secret).
  return Object.fromEntries(Object.entries(accessOf(i)).filter(([, v]) => v !== null && !containsUnknown(v))) as StoreAccess;
}

/**
 * How the store is reached, by kstate and by kops alike: the settings given, then the variables of
 * `environment`, then the provider's own environment.
 */
function settingsOf(i: Pick<ClusterUpdateInputs, "environment"> & Partial<StoreAccess>): StoreSettings {
  return storeSettingsOf(knownAccess(i), { ...process.env, ...(i.environment ?? {}) });
}

/**
 * kops's environment: the provider's, then `environment`, then the store's settings as kops's
 * variables, so that kops reads the very store kstate checked (a variable of `environment` that
 * names another store does not take kops there).
 */
function kopsEnvironment(i: ClusterUpdateInputs): Environment {
  return { ...process.env, ...(i.environment ?? {}), ...SCHEMES[parseUrl(i.store).scheme].kopsVariables(settingsOf(i)) };
}

/**
 * `text` as kops may print it, with what `environment` and the store settings hold secret hidden:
 * credentials in URLs (a mirror's user:password@), secret-named variables, the store's keys.
 */
function hideEnvironment(i: ClusterUpdateInputs, text: string): string {
  return hideSecrets(text, [i.environment ?? {}], [i.secretAccessKey, i.sessionToken]);
}

/** The store `i` names, opened with its settings. */
function storeRoot(i: ClusterUpdateInputs): VfsPath {
  return openPath(i.store, settingsOf(i));
}

/**
 * The request for one kops run of `i` against `state`: the store, or a preview's scratch copy of
 * it. What kops needs of the store is checked in the store itself either way.
 */
async function request(i: ClusterUpdateInputs, mode: UpdateRequest["mode"], state = i.store, root = storeRoot(i)): Promise<UpdateRequest> {
  const env = kopsEnvironment(i);
  const kops = await readyKops(root, i.name, i.kops, env, i.allowKopsDowngrade === true);
  return {
    kops, state, name: i.name, mode, env,
    ...(i.outDir ? { outDir: i.outDir } : {}),
    ...(i.lifecycleOverrides ? { lifecycleOverrides: i.lifecycleOverrides } : {}),
    allowKopsDowngrade: i.allowKopsDowngrade === true, prune: i.prune === true,
    ...(i.failAfter ? { failingTaskMs: parseGoDuration(i.failAfter, "failAfter") * 1000 } : {}),
    // kops's progress goes to the engine's log as it comes, the values of `environment` hidden.
    onLine: (line) => report(`${i.name}: kops: ${hideEnvironment(i, line)}`),
  };
}

/** The store, what a ClusterConfig of the same run is about to write there, and whether the cluster is there (or planned) by then. */
interface ClusterAtUpdate {
  root: VfsPath;
  documents: DocumentTexts | undefined;
  /** The ClusterConfig's key changes about to be written, which kops's dry run cannot see. */
  keys: readonly string[];
  present: boolean;
}

async function clusterAtUpdate(i: ClusterUpdateInputs): Promise<ClusterAtUpdate> {
  const writes = plannedWrites(i.store, i.name);
  const documents = writes?.documents;
  const root = storeRoot(i);
  const present = documents?.get("config") ? true : (await statIfPresent(root.join(i.name, "config"))) !== undefined;
  return { root, documents, keys: writes?.keys ?? [], present };
}

/**
 * kops's dry run for `i`: against the store, or, when a ClusterConfig of the cluster is about to
 * write documents, against a scratch store holding them as they will be.
 */
async function dryRun(i: ClusterUpdateInputs, at?: ClusterAtUpdate): Promise<string[]> {
  const { root, documents, keys, present } = at ?? await clusterAtUpdate(i);
  if (!present) {
    // Something else in the program writes it first (a migration to this store, say).
    return [`kops: ${i.name} is not in ${i.store} yet; kops's plan is worked out at up, once it is`];
  }
  const scratch = documents && documents.size > 0 ? await stateWithDocuments(root, i.name, documents) : undefined;
  try {
    const req = await request(i, "preview", scratch?.state, root);
    const report = await runUpdate({ ...req, onLine: () => {} });
    // kops reads keys from the cluster's configBase (the store itself, not the scratch copy), so a
    // key the ClusterConfig writes in this run is not in its dry run: said, not guessed.
    const unseen = keys.map((k) => `${KEY_NOTE}${k} (the ClusterConfig writes it in this run; kops's dry run reads keys from the store, so what kops does with it, on AWS the SSH key pair, is worked out at up)`);
    const lines = [...describeTasks(report), ...unseen];
    if (!i.rollingUpdate) return lines;
    // kops reports on the cloud as it is: instances whose launch template this update changes are
    // found needing replacement only once it is applied.
    const relaunch = report.changes.some((c) => c.action === "modify" && /^LaunchTemplate\//.test(c.task));
    const rolling = await runRollingUpdate({ kops: req.kops, state: req.state, name: i.name, env: req.env, options: i.rollingUpdate, apply: false })
      .then((rows) => describeRolling(rows, i.rollingUpdate!), (e: Error) => [`rolling update: kops cannot report yet (${e.message.split("\n").slice(-1)[0]})`]);
    return [...lines, ...rolling, ...(relaunch ? ["rolling update: after this update, the instances of each changed launch template are replaced"] : [])];
  } finally {
    scratch?.dispose();
  }
}

/**
 * The groups `rollingUpdate.instanceGroups` names that the cluster will not have when the update
 * runs (the store's groups, a ClusterConfig's planned documents laid over them); none when the
 * cluster is not there yet to ask.
 */
async function missingRollingGroups(i: ClusterUpdateInputs, { root, documents, present }: ClusterAtUpdate): Promise<string[]> {
  const wanted = i.rollingUpdate?.instanceGroups ?? [];
  if (wanted.length === 0 || !present) return [];
  const groups = new Set((await root.join(i.name, "instancegroup").listTree()).map((f) => f.path));
  for (const [file, text] of documents ?? []) {
    if (!file.startsWith("instancegroup/")) continue;
    const group = file.slice("instancegroup/".length);
    if (text === null) groups.delete(group);
    else groups.add(group);
  }
  return wanted.filter((g) => !groups.has(g));
}

async function run(i: ClusterUpdateInputs): Promise<ClusterUpdateOutputs> {
  const mode = i.target === "terraform" ? "terraform" : "apply";
  const root = storeRoot(i);
  const [req] = await Promise.all([request(i, mode, i.store, root), requireCluster(root.join(i.name), i.name)]);
  try {
    await runUpdate({ ...req, recordAt: root });
    if (i.rollingUpdate) await runRollingUpdate({ kops: req.kops, state: req.state, name: i.name, env: req.env, options: i.rollingUpdate, apply: true, ...(req.onLine ? { onLine: req.onLine } : {}) });
  } catch (e) {
    if (KopsFailedError.isInstance(e)) throw new KopsFailedError(hideEnvironment(i, `${i.name}: kops update failed; the update stays pending and the next up runs it again.\n${e.message}`), e.output);
    throw e;
  }
  return {
    ...i, plan: i.plan ?? [], kopsVersion: req.kops.version, applied: (i.plan ?? []).filter(isTaskLine),
    pendingChanges: [], schemaVersion: CLUSTER_UPDATE_SCHEMA_VERSION,
  };
}

/** How the plan names a key the ClusterConfig writes in the same run: the update runs for it too. */
const KEY_NOTE = "key change not in kops's dry run: ";

/** A line of the plan that is one of kops's task changes (not a note, nor the rolling update's report). */
function isTaskLine(line: string): boolean {
  return /^[+~-] (create|modify|delete) /.test(line);
}

function normalize(news: Partial<ClusterUpdateInputs>): ClusterUpdateInputs {
  const i = { ...news } as ClusterUpdateInputs;
  for (const k of STORE_ACCESS_KEYS) if (i[k] === null) delete i[k];
  if (typeof i.store === "string" && !containsUnknown(i.store)) i.store = canonicalUrl(i.store);
  return i;
}

export const provider: ProviderImpl<ClusterUpdateInputs, ClusterUpdateOutputs> = {
  async configure(req) {
    configureFromStack(req);
  },

  async check(_olds, news) {
    const failures = checkInputs(news);
    if (failures.length > 0) return { failures: sealedFailures(failures, SECRET_INPUTS) };
    const inputs = normalize(news);
    delete inputs.plan;
    // Triggers are unknown whenever the ClusterConfig changes, and its store settings while it is
    // created: neither decides the dry run (settings not known yet are taken from the environment).
    const known = !containsUnknown({ ...inputs, triggers: undefined, ...Object.fromEntries(STORE_ACCESS_KEYS.map((k) => [k, undefined])) });
    if (!known) return { inputs: { ...inputs, plan: ["(worked out at up: an input is not known yet)"] } };
    try {
      const reachable = { ...inputs, ...Object.fromEntries(STORE_ACCESS_KEYS.map((k) => [k, undefined])), ...knownAccess(inputs) };
      const at = await clusterAtUpdate(reachable);
      const missing = await missingRollingGroups(reachable, at);
      if (missing.length > 0) {
        return { failures: [{ property: "rollingUpdate", reason: `instanceGroups: ${missing.map((g) => JSON.stringify(g)).join(", ")} ${missing.length === 1 ? "is not an instance group" : "are not instance groups"} of ${inputs.name}` }] };
      }
      const plan = await dryRun(reachable, at);
      const tasks = plan.filter(isTaskLine);
      // A cluster not in the store yet has no plan to count: said so, not "no changes".
      const head = !at.present
        ? `${inputs.name}: ${inputs.name} is not in ${inputs.store} yet; kops's plan is worked out at up (which refuses it if nothing of this program writes it there first)`
        : `${inputs.name}: kops update cluster would make ${tasks.length === 0 ? "no changes" : `${tasks.length} change(s)`}`;
      report([head, ...plan.filter((l) => !l.startsWith("kops:")).map((l) => `${inputs.name}: ${hideEnvironment(inputs, l)}`)].join("\n"));
      return { inputs: { ...inputs, plan } };
    } catch (e) {
      if (await isMissingBucket(openPath(inputs.store, settingsOf(inputs)), e)) {
        return { inputs: { ...inputs, plan: [`${inputs.store}: the bucket does not exist (yet); kops's plan is worked out at up, once something (a StateStore of this program) has made it`] } };
      }
      // kops's own failure concerns the whole update (the store, the cloud, the environment): no one property.
      // A refusal of the binary (its version) names kops; of what the store holds, the store.
      const property = KopsFailedError.isInstance(e) ? "" : KstateError.isInstance(e) && (e.code === "Refused" || e.code === "Validation") && e.url === undefined ? "kops" : "store";
      return { failures: sealedFailures([{ property, reason: hideEnvironment(inputs, e instanceof Error ? e.message : String(e)) }], SECRET_INPUTS) };
    }
  },

  async diff(_id, olds, news) {
    const o = olds as Partial<ClusterUpdateOutputs>;
    const replaces = o.name !== news.name ? ["name"] : [];
    const changed = [
      ...SETTINGS.filter((k) => JSON.stringify(o[k] ?? null) !== JSON.stringify(news[k] ?? null)),
      ...(JSON.stringify(o.triggers ?? null) !== JSON.stringify(news.triggers ?? null) || containsUnknown(news.triggers) ? ["triggers"] : []),
      ...((o.pendingChanges ?? []).length > 0 ? ["pendingChanges"] : []),
      // What the preview shows kops would change is what up applies: a hand edit of the store or a
      // change in the cloud runs the update too, not only a trigger.
      ...((news.plan ?? []).some((l) => isTaskLine(l) || l.startsWith(KEY_NOTE)) ? ["plan"] : []),
      ...(o.schemaVersion !== CLUSTER_UPDATE_SCHEMA_VERSION ? ["schemaVersion"] : []),
    ];
    return { changes: replaces.length + changed.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const outs = await run(inputs);
    return { id: `${inputs.store}/${inputs.name}`, outs };
  },

  /** A refresh: kops's dry run; what it would change in the cloud is drift the next up applies. */
  async read(id, props) {
    const i = props!;
    const plan = await dryRun(i);
    const pending = plan.filter(isTaskLine);
    return { id, props: { ...i, pendingChanges: pending } };
  },

  async update(_id, _olds, news) {
    return { outs: await run(news) };
  },

  async delete() {
    // The cloud resources are the cluster's; `kops delete cluster` removes them.
  },
};
