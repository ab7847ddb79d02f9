import type * as pulumi from "@pulumi/pulumi";
import { applyCluster, type ClusterRequest, describeChanges, NO_OWNERSHIP, type Ownership, planCluster, valueAt } from "../ops/cluster";
import { checkOptions, type ClusterOptions } from "../ops/options";
import { isDns1123Subdomain } from "../ops/validate";
import { ClusterStore } from "../store/cluster-store";
import { parsePath } from "../store/field-path";
import { isKopsFile, isKopsManagedState } from "../store/layout";
import { type ClusterEncryption, encryptionProblems, SECRET_NAME, secretHash, storeEncryption, writeSecret } from "../store/secrets";
import { openPath, parseUrl } from "../vfs";
import { KstateError } from "../vfs/errors";
import { containsUnknown, type ProviderImpl } from "./serialize";
import { configureFromStack } from "./stack-config";

export const CLUSTER_CONFIG_SCHEMA_VERSION = 1;


export interface ClusterConfigInputs {
  /** The state store URL: `s3://bucket`, `gs://bucket`, `file:///dir`. */
  store: string;
  /** The cluster name, e.g. dev.k8s.example.com. */
  name: string;
  /** `kops create cluster` flags, expanded as kops expands them. */
  options?: ClusterOptions;
  /** Merged into the stored Cluster's `spec`; `null` removes a field. */
  spec?: Record<string, unknown>;
  /** Merged into each named InstanceGroup's `spec` (a new name creates the group). */
  instanceGroups?: Record<string, Record<string, unknown>>;
  /** When another writer changes a field this program sets while it writes: "fail" (default) or "overwrite". */
  onConflict?: "fail" | "overwrite";
  /** On delete, also remove the state kops keeps for the cluster (pki/, secrets/, addons/, …). */
  deleteClusterState?: boolean;
  /**
   * kops secrets to keep in `secrets/<name>` (`{"Data":"<base64>"}`), by name; names may hold `:`.
   * Marked secret by the resource, so Pulumi state holds them encrypted; outputs carry only hashes.
   */
  secrets?: Record<string, string>;
  /** Encrypt matching files on the client before they are stored (passphrase marked secret). */
  clientSideEncryption?: ClusterEncryption;
  /** Set by `check`: the document changes the next update will make, one line per field. */
  plan?: string[];
}

export interface ClusterConfigOutputs {
  store: string;
  name: string;
  options?: ClusterOptions;
  spec?: Record<string, unknown>;
  instanceGroups?: Record<string, Record<string, unknown>>;
  onConflict: "fail" | "overwrite";
  deleteClusterState: boolean;
  plan: string[];
  /** `{store}/{name}`, as `spec.configBase`. */
  configBase: string;
  /** The stored `config`, as written. */
  config: string;
  /** The stored instance groups, by name. */
  instanceGroupDocuments: Record<string, string>;
  /** Revision of each document after the last write, by file. */
  revisions: Record<string, string>;
  /** The field paths the program owns, by file. */
  ownedPaths: Ownership;
  /** The stored value of every owned field, by `file: path`; refresh shows hand edits here. */
  ownedValues: Record<string, unknown>;
  /** `ownedValues` as the last update left them: where refresh finds others, the store drifted. */
  appliedOwnedValues: Record<string, unknown>;
  /** The cluster existed before this resource first wrote it. */
  adopted: boolean;
  schemaVersion: number;
  /** A SHA-256 prefix of each secret's value, by name: what Pulumi state keeps of them. */
  secretHashes: Record<string, string>;
  /** As given; a secret output (the resource lists it in additionalSecretOutputs). */
  clientSideEncryption?: ClusterEncryption;
}

function hashesOf(secrets: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(secrets ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => [n, secretHash(v)]));
}

/** Writes the secrets whose stored value differs and removes those the program no longer sets. */
async function writeSecrets(store: ClusterStore, i: ClusterConfigInputs, previous: Record<string, string>): Promise<void> {
  const folder = store.cluster(i.name).join("secrets");
  for (const [name, value] of Object.entries(i.secrets ?? {})) await writeSecret(folder.join(name), value, true);
  for (const name of Object.keys(previous)) if (!(name in (i.secrets ?? {}))) await folder.join(name).remove();
}

function request(i: ClusterConfigInputs): ClusterRequest {
  const req: ClusterRequest = { name: i.name, storeUrl: i.store };
  if (i.options) req.options = i.options;
  if (i.spec) req.spec = i.spec;
  if (i.instanceGroups) req.instanceGroups = i.instanceGroups;
  return req;
}

function storeOf(i: Pick<ClusterConfigInputs, "store" | "clientSideEncryption">): ClusterStore {
  return new ClusterStore(openPath(i.store, i.clientSideEncryption ? { clientSideEncryption: storeEncryption(i.clientSideEncryption) } : {}));
}

/** Input problems that need no I/O, each naming its property. */
export function checkInputs(news: Partial<ClusterConfigInputs>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  if (typeof news.store !== "string" || news.store === "") fail("store", "required: the state store URL (s3://bucket, gs://bucket, file:///dir)");
  else if (!containsUnknown(news.store)) {
    try {
      parseUrl(news.store);
    } catch (e) {
      fail("store", KstateError.isInstance(e) ? e.message : String(e));
    }
  }
  if (typeof news.name !== "string" || news.name === "") fail("name", "required: the cluster name, e.g. dev.k8s.example.com");
  else if (!containsUnknown(news.name) && !isDns1123Subdomain(news.name)) fail("name", `${JSON.stringify(news.name)} is not a valid cluster name (lowercase letters, digits, '-' and '.')`);
  if (news.options !== undefined) {
    if (typeof news.options !== "object" || news.options === null) fail("options", "must be an object of kops create-cluster options");
    else for (const p of checkOptions(news.options)) fail(`options.${p.option}`, p.message);
  }
  if (news.spec !== undefined && (typeof news.spec !== "object" || news.spec === null || Array.isArray(news.spec))) fail("spec", "must be an object (the fields of the Cluster spec to set)");
  if (news.instanceGroups !== undefined) {
    if (typeof news.instanceGroups !== "object" || news.instanceGroups === null) fail("instanceGroups", "must map group names to spec fields");
    else for (const [n, g] of Object.entries(news.instanceGroups)) {
      if (!isDns1123Subdomain(n)) fail(`instanceGroups.${n}`, "is not a valid instance group name");
      if (typeof g !== "object" || g === null || Array.isArray(g)) fail(`instanceGroups.${n}`, "must be an object (the fields of the group's spec to set)");
    }
  }
  if (news.onConflict !== undefined && news.onConflict !== "fail" && news.onConflict !== "overwrite") fail("onConflict", 'must be "fail" or "overwrite"');
  if (news.secrets !== undefined && !containsUnknown(news.secrets)) {
    if (typeof news.secrets !== "object" || news.secrets === null) fail("secrets", "must map secret names to values");
    else for (const [n, v] of Object.entries(news.secrets)) {
      if (!SECRET_NAME.test(n)) fail(`secrets.${n}`, "is not a valid secret name (letters, digits and . _ - : only)");
      if (typeof v !== "string" || v === "") fail(`secrets.${n}`, "must be a non-empty string");
    }
  }
  const cse = news.clientSideEncryption;
  if (cse !== undefined && !containsUnknown(cse)) {
    for (const f of encryptionProblems(cse)) fail(f.property, f.reason);
  }
  return failures;
}

/** `config: spec.x` style keys, for the values of owned fields. */
function ownedValues(o: Ownership, documents: Record<string, Record<string, unknown> | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const add = (file: string, paths: string[]) => {
    for (const p of paths) {
      const v = valueAt(documents[file], parsePath(p));
      out[`${file}: ${p}`] = v === undefined ? null : v;
    }
  };
  add("config", o.config);
  for (const [g, paths] of Object.entries(o.instanceGroups)) add(`instancegroup/${g}`, paths);
  return out;
}

async function observe(i: ClusterConfigInputs, ownership: Ownership, adopted: boolean, plan: string[], applied?: Record<string, unknown>): Promise<ClusterConfigOutputs | undefined> {
  const store = storeOf(i);
  const config = await store.readConfig(i.name);
  if (!config) return undefined;
  const groups = await store.readInstanceGroups(i.name);
  const revisions: Record<string, string> = { config: config.revision };
  const instanceGroupDocuments: Record<string, string> = {};
  const plain: Record<string, Record<string, unknown> | undefined> = { config: config.doc.toJS() as Record<string, unknown> };
  for (const [n, d] of groups) {
    revisions[`instancegroup/${n}`] = d.revision;
    instanceGroupDocuments[n] = d.text;
    plain[`instancegroup/${n}`] = d.doc.toJS() as Record<string, unknown>;
  }
  const spec = plain.config?.spec as Record<string, unknown> | undefined;
  const out: ClusterConfigOutputs = {
    store: i.store,
    name: i.name,
    onConflict: i.onConflict ?? "fail",
    deleteClusterState: i.deleteClusterState ?? false,
    plan,
    configBase: typeof spec?.configBase === "string" ? spec.configBase : `${i.store}/${i.name}`,
    config: config.text,
    instanceGroupDocuments,
    revisions,
    ownedPaths: ownership,
    ownedValues: ownedValues(ownership, plain),
    appliedOwnedValues: {},
    adopted,
    schemaVersion: CLUSTER_CONFIG_SCHEMA_VERSION,
    secretHashes: hashesOf(i.secrets),
  };
  out.appliedOwnedValues = applied ?? out.ownedValues;
  if (i.options) out.options = i.options;
  if (i.clientSideEncryption) out.clientSideEncryption = i.clientSideEncryption;
  if (i.spec) out.spec = i.spec;
  if (i.instanceGroups) out.instanceGroups = i.instanceGroups;
  return out;
}

function previousOwnership(olds: Partial<ClusterConfigOutputs> | undefined): Ownership {
  const o = olds?.ownedPaths;
  return o && Array.isArray(o.config) ? { config: o.config, instanceGroups: o.instanceGroups ?? {}, createdGroups: o.createdGroups ?? [] } : NO_OWNERSHIP;
}

export const provider: ProviderImpl<ClusterConfigInputs, ClusterConfigOutputs> = {
  async configure(req) {
    configureFromStack(req);
  },

  /**
   * Checks the inputs and, when the store is known, reads the cluster and works out the change:
   * an invalid result fails here, so `preview` shows it and nothing is written; the change is
   * returned as `plan`, so `preview` shows it field by field.
   */
  async check(olds, news) {
    const failures = checkInputs(news);
    if (failures.length > 0) return { failures };
    const inputs: ClusterConfigInputs = { ...news };
    delete inputs.plan;
    if (containsUnknown(news)) return { inputs: { ...inputs, plan: ["(worked out at apply time: an input is not known yet)"] } };
    const plan = await planCluster(storeOf(inputs), request(inputs), previousOwnership(olds as Partial<ClusterConfigOutputs>));
    if (plan.problems.length > 0) {
      return { failures: plan.problems.map((p) => ({ property: p.file === "config" || !p.file ? specProperty(p.path) : "instanceGroups", reason: `${p.file ? `${p.file}: ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}` })) };
    }
    const lines = describeChanges(plan);
    if (!plan.existed) lines.unshift(`creating cluster ${inputs.name} in ${inputs.store}`);
    else if (!(olds as Partial<ClusterConfigOutputs>).ownedPaths) lines.unshift(`merging into the existing cluster ${inputs.name} in ${inputs.store}`);
    return { inputs: { ...inputs, plan: lines } };
  },

  async diff(_id, olds, news) {
    const replaces = (["store", "name"] as const).filter((k) => olds[k] !== news[k]);
    const planned = (news.plan ?? []).filter((l) => !l.startsWith("merging into") && !l.startsWith("creating cluster"));
    const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    const inputsChanged = !same(olds.secretHashes ?? {}, hashesOf(news.secrets)) || !same(olds.clientSideEncryption, news.clientSideEncryption) || !same(olds.options, news.options) || !same(olds.spec, news.spec) || !same(olds.instanceGroups, news.instanceGroups)
      || (olds.onConflict ?? "fail") !== (news.onConflict ?? "fail") || (olds.deleteClusterState ?? false) !== (news.deleteClusterState ?? false);
    // After a refresh, owned fields edited behind the program's back show here.
    const drifted = olds.appliedOwnedValues !== undefined && !same(olds.ownedValues, olds.appliedOwnedValues);
    return { changes: replaces.length > 0 || planned.length > 0 || inputsChanged || drifted, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const store = storeOf(inputs);
    const applied = await applyCluster(store, request(inputs), NO_OWNERSHIP, { onConflict: inputs.onConflict ?? "fail" });
    await writeSecrets(store, inputs, {});
    const outs = await observe(inputs, applied.plan.ownership, applied.plan.existed, inputs.plan ?? []);
    if (!outs) throw new Error(`${inputs.store}/${inputs.name}/config was written but cannot be read back`);
    return { id: `${inputs.store.replace(/\/$/, "")}/${inputs.name}`, outs };
  },

  async read(id, props) {
    const outs = await observe(props!, previousOwnership(props), props!.adopted, props!.plan ?? [], props!.appliedOwnedValues ?? props!.ownedValues);
    return outs ? { id, props: outs } : {};
  },

  async update(_id, olds, news) {
    const store = storeOf(news);
    const applied = await applyCluster(store, request(news), previousOwnership(olds), { onConflict: news.onConflict ?? "fail" });
    await writeSecrets(store, news, olds.secretHashes ?? {});
    const outs = await observe(news, applied.plan.ownership, olds.adopted, news.plan ?? []);
    if (!outs) throw new Error(`${news.store}/${news.name}/config was written but cannot be read back`);
    return { outs };
  },

  async delete(_id, props) {
    const store = storeOf(props);
    const folder = store.cluster(props.name);
    // The secrets this program wrote are its own to remove; kops's other state is not.
    for (const name of Object.keys(props.secretHashes ?? {})) await folder.join("secrets", name).remove();
    const files = (await folder.listTree()).map((f) => f.path);
    const unknown = files.filter((f) => !isKopsFile(f));
    if (unknown.length > 0) {
      throw new Error(`refusing to delete cluster ${props.name}: ${folder.url} holds files kops does not know (${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ", …" : ""}); move them away first`);
    }
    const kopsState = files.filter(isKopsManagedState);
    if (props.deleteClusterState) {
      for (const f of files) await folder.join(f).remove();
      return;
    }
    if (kopsState.length > 0) {
      throw new Error(`refusing to delete cluster ${props.name}: kops still keeps state for it in ${folder.url} (${kopsState.slice(0, 5).join(", ")}${kopsState.length > 5 ? ", …" : ""}). Delete the cluster with kops first, or set deleteClusterState: true to remove that state too.`);
    }
    for (const g of props.ownedPaths?.createdGroups ?? []) await store.instanceGroupPath(props.name, g).remove();
    const config = await store.readConfig(props.name);
    if (config) await config.path.remove({ ifRevision: config.revision });
  },
};

/** The resource property a problem in `config` belongs to: `spec` for spec fields. */
function specProperty(path: string): string {
  return path.startsWith("spec") ? "spec" : path.startsWith("metadata.name") ? "name" : "spec";
}
