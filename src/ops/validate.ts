/**
 * The kops validation rules that apply offline (pkg/apis/kops/validation): run on every
 * document before it is written, so an invalid cluster is never stored.
 */
import { checkDocument } from "../schema/check";
import { cloudClusterRules, cloudGroupRules } from "./validate-clouds";
import { CLUSTER_LABEL } from "../store/layout";
import { ValidationError } from "../vfs/errors";

export interface Problem {
  /** The field path, e.g. `spec.etcdClusters[name=main].etcdMembers`. */
  path: string;
  message: string;
  /** The document it concerns: `config` or `instancegroup/<name>`. */
  file?: string;
}

type Obj = Record<string, unknown>;

const CONTROL_PLANE_ROLES = new Set(["Master", "ControlPlane"]);
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function list(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && name.split(".").every((label) => label.length <= 63 && DNS1123_LABEL.test(label));
}

/** An IPv4 or IPv6 CIDR, as net.ParseCIDR takes it. */
export function isCidr(v: unknown): boolean {
  if (typeof v !== "string") return false;
  const m = /^(.+)\/(\d{1,3})$/.exec(v);
  if (!m) return false;
  const [, ip, bits] = m as unknown as [string, string, string];
  const n = Number(bits);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return n <= 32 && ip.split(".").every((o) => Number(o) <= 255 && String(Number(o)) === o);
  if (ip.includes(":")) {
    if (n > 128 || !/^[0-9a-fA-F:]+$/.test(ip) || (ip.match(/::/g) ?? []).length > 1) return false;
    const groups = ip.split(":").filter((g) => g !== "");
    return groups.every((g) => g.length <= 4) && (ip.includes("::") ? groups.length < 8 : groups.length === 8);
  }
  return false;
}

/** `v1.30.2`, `1.30.2`, `v1.31.0-beta.1`, or a URL to a release (as kops accepts). */
export function isKubernetesVersion(v: unknown): boolean {
  // As kops parses it (semver, tolerantly): v1.30.2, or v1.31 for the newest patch.
  return typeof v === "string" && (/^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$/.test(v) || /^https?:\/\/\S+$/.test(v));
}

/** The cloud a cluster spec names (`spec.cloudProvider: aws`; v1alpha2 has no other form). */
export function cloudOf(spec: Obj | undefined): string | undefined {
  return typeof spec?.cloudProvider === "string" ? spec.cloudProvider : undefined;
}

export function isControlPlane(ig: Obj): boolean {
  return CONTROL_PLANE_ROLES.has(String(obj(ig.spec)?.role));
}

/** The problems with a cluster name by itself (before any path is built from it). */
export function clusterNameProblems(name: unknown): Problem[] {
  if (typeof name !== "string" || name === "") return [{ path: "metadata.name", message: "required", file: "config" }];
  if (!isDns1123Subdomain(name)) return [{ path: "metadata.name", message: `${JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)} is not a valid DNS name (lowercase letters, digits, '-' and '.', at most 253 characters, each label at most 63)`, file: "config" }];
  return [];
}

/**
 * The value at a path as the schema check writes it (`spec.kubelet.maxPods`, `spec.subnets[name=a]`,
 * `spec.hooks[0]`, `metadata.labels["kops.k8s.io/cluster"]`), or undefined.
 */
function valueAt(doc: unknown, path: string): unknown {
  let at = doc;
  const segment = /^(?:\.?([A-Za-z_$][\w$-]*)|\[name=([^\]]*)\]|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  for (let rest = path; rest !== ""; ) {
    const m = segment.exec(rest);
    if (!m) return undefined;
    rest = rest.slice(m[0].length);
    const [, key, name, index, quoted] = m;
    if (name !== undefined) at = list(at)?.find((item) => obj(item)?.name === name);
    else if (index !== undefined) at = list(at)?.[Number(index)];
    else at = obj(at)?.[key ?? (JSON.parse(quoted!) as string)];
    if (at === undefined) return undefined;
  }
  return at;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The problems kops's API schema finds in a document, and an `add` for the rules on top of it
 * that says nothing more where the schema already found a field wrong. A schema problem at a field
 * the previous revision of the document already had, with the same value, is not one: kops drops
 * such a field without a word, and a typo stored long ago must not block every later change.
 */
function schemaFirst(kind: string, doc: unknown, file: string, previous?: unknown): { problems: Problem[]; add: (path: string, message: string) => void } {
  const found: Problem[] = obj(doc) ? checkDocument(kind, doc).map((p) => ({ ...p, file })) : [];
  const wrong = new Set(found.map((p) => p.path));
  const inherited = (p: Problem) => {
    if (!obj(previous)) return false;
    const now = valueAt(doc, p.path);
    return now !== undefined && same(now, valueAt(previous, p.path));
  };
  const problems = found.filter((p) => !inherited(p));
  const add = (path: string, message: string) => {
    if (![...wrong].some((w) => w === path || w.startsWith(`${path}.`) || w.startsWith(`${path}[`))) problems.push({ path, message, file });
  };
  return { problems, add };
}

/**
 * Checks a Cluster document alone: kops's API schema, then kops's offline rules. `previous` is the
 * stored revision it replaces, if any.
 */
export function validateCluster(cluster: unknown, previous?: unknown): Problem[] {
  const { problems, add } = schemaFirst("Cluster", cluster, "config", previous);
  const c = obj(cluster);
  if (!c) return [{ path: "", message: "the document is not a map", file: "config" }];
  if (c.kind !== "Cluster") add("kind", `must be Cluster (got ${JSON.stringify(c.kind)})`);
  if (c.apiVersion !== "kops.k8s.io/v1alpha2" && c.apiVersion !== "kops/v1alpha2") {
    add("apiVersion", `must be kops.k8s.io/v1alpha2 (got ${JSON.stringify(c.apiVersion)})`);
  }
  const meta = obj(c.metadata);
  const spec = obj(c.spec);
  const name = meta?.name;
  const dnsType = obj(obj(spec?.topology)?.dns)?.type;
  const dnsNone = typeof dnsType === "string" && dnsType.toLowerCase() === "none";
  const nameProblems = clusterNameProblems(name);
  for (const p of nameProblems) add(p.path, p.message);
  if (nameProblems.length === 0 && typeof name === "string" && !name.includes(".") && !dnsNone) add("metadata.name", `${JSON.stringify(name)} must be a fully qualified DNS name with a dot, e.g. ${name}.example.com (or set spec.topology.dns.type: None)`);
  if (!spec) {
    add("spec", "required");
    return problems;
  }

  // The cloud provider, subnet types and roles are enums of kops's schema.
  const cloud = cloudOf(spec);

  if (spec.kubernetesVersion === undefined) add("spec.kubernetesVersion", "required");
  else if (!isKubernetesVersion(spec.kubernetesVersion)) add("spec.kubernetesVersion", `${JSON.stringify(spec.kubernetesVersion)} is not a Kubernetes version like v1.30.2`);

  for (const field of ["networkCIDR", "nonMasqueradeCIDR", "serviceClusterIPRange", "podCIDR"]) {
    if (spec[field] !== undefined && !isCidr(spec[field])) add(`spec.${field}`, `${JSON.stringify(spec[field])} is not a CIDR`);
  }
  for (const field of ["sshAccess", "kubernetesApiAccess", "nodePortAccess"]) {
    const v = spec[field];
    if (v === undefined) continue;
    const items = list(v);
    if (!items) {
      add(`spec.${field}`, "must be a list of CIDRs");
      continue;
    }
    items.forEach((cidr) => {
      const prefixList = typeof cidr === "string" && cidr.startsWith("pl-");
      if (prefixList && cloud !== "aws") add(`spec.${field}`, `${JSON.stringify(cidr)}: Prefix List ID only supported for AWS`);
      else if (!prefixList && !isCidr(cidr)) add(`spec.${field}`, `${JSON.stringify(cidr)} is not a CIDR`);
    });
  }

  const subnets = spec.subnets === undefined ? [] : list(spec.subnets);
  if (!subnets) add("spec.subnets", "must be a list");
  for (const s of subnets ?? []) {
    const sn = obj(s);
    const sname = sn?.name;
    const at = `spec.subnets[name=${String(sname)}]`;
    if (typeof sname !== "string" || sname === "") {
      add("spec.subnets", "every subnet needs a name");
      continue;
    }
    if (sn!.cidr !== undefined && !isCidr(sn!.cidr)) add(`${at}.cidr`, `${JSON.stringify(sn!.cidr)} is not a CIDR`);
  }

  const etcd = list(spec.etcdClusters);
  if (!etcd || etcd.length === 0) add("spec.etcdClusters", "required: at least one etcd cluster (kops creates main and events)");
  for (const e of etcd ?? []) {
    const ec = obj(e);
    const ename = ec?.name;
    if (typeof ename !== "string" || ename === "") {
      add("spec.etcdClusters", "every etcd cluster needs a name");
      continue;
    }
    const at = `spec.etcdClusters[name=${ename}]`;
    const members = list(ec!.etcdMembers);
    if (!members || members.length === 0) {
      add(`${at}.etcdMembers`, "required: at least one member");
      continue;
    }
    if (members.length % 2 === 0) add(`${at}.etcdMembers`, `an odd number of members is required for quorum (got ${members.length})`);
    const seen = new Set<string>();
    for (const m of members) {
      const mm = obj(m);
      if (typeof mm?.name !== "string" || mm.name === "") add(`${at}.etcdMembers`, "every member needs a name");
      else if (seen.has(mm.name)) add(`${at}.etcdMembers[name=${mm.name}]`, "duplicate member name");
      else seen.add(mm.name);
      if (mm && typeof mm.instanceGroup !== "string") add(`${at}.etcdMembers[name=${String(mm.name)}].instanceGroup`, "required");
    }
  }
  cloudClusterRules(name, spec, cloud, add);
  return problems;
}

/**
 * Checks an InstanceGroup document alone: kops's API schema, then kops's offline rules. `previous`
 * is the stored revision it replaces, if any.
 */
export function validateInstanceGroup(ig: unknown, file: string, previous?: unknown): Problem[] {
  const { problems, add } = schemaFirst("InstanceGroup", ig, file, previous);
  const g = obj(ig);
  if (!g) return [{ path: "", message: "the document is not a map", file }];
  if (g.kind !== "InstanceGroup") add("kind", `must be InstanceGroup (got ${JSON.stringify(g.kind)})`);
  const name = obj(g.metadata)?.name;
  if (typeof name !== "string" || name === "") add("metadata.name", "required");
  else if (!isDns1123Subdomain(name)) add("metadata.name", `${JSON.stringify(name)} is not a valid name (lowercase letters, digits, '-' and '.')`);
  const spec = obj(g.spec);
  if (!spec) {
    add("spec", "required");
    return problems;
  }
  for (const f of ["minSize", "maxSize"]) {
    const v = spec[f];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0)) add(`spec.${f}`, `must be a whole number, 0 or more (got ${JSON.stringify(v)})`);
  }
  if (Number.isInteger(spec.minSize) && Number.isInteger(spec.maxSize) && (spec.maxSize as number) < (spec.minSize as number)) {
    add("spec.maxSize", `must be at least minSize (${String(spec.minSize)}), got ${String(spec.maxSize)}`);
  }
  if (spec.subnets !== undefined && (!Array.isArray(spec.subnets) || spec.subnets.some((s) => typeof s !== "string" || s === ""))) {
    add("spec.subnets", `must be a list of subnet names (got ${JSON.stringify(spec.subnets)})`);
  }
  if (CONTROL_PLANE_ROLES.has(String(spec.role))) {
    const subnets = list(spec.subnets);
    if (!subnets || subnets.length === 0) add("spec.subnets", "a control-plane group needs a subnet");
    for (const f of ["minSize", "maxSize"]) {
      if (Number.isInteger(spec[f]) && spec[f] !== 1) add(`spec.${f}`, `a control-plane group has exactly one instance (got ${String(spec[f])})`);
    }
  }
  return problems;
}

/**
 * Checks a cluster with its instance groups together, and against its previous version (`previous`
 * the stored Cluster, `previousGroups` the stored groups by name). `folder` is the name of the
 * cluster's folder in the store, which kops finds it by: the cluster's own name must be that one.
 */
export function validateClusterWithGroups(cluster: unknown, groups: Record<string, unknown>, previous?: unknown, folder?: string, previousGroups: Record<string, unknown> = {}): Problem[] {
  const problems = [...validateCluster(cluster, previous)];
  const clusterName = obj(obj(cluster)?.metadata)?.name;
  if (folder !== undefined && typeof clusterName === "string" && clusterName !== folder) {
    problems.push({ path: "metadata.name", message: `${JSON.stringify(clusterName)} is not the cluster's name ${JSON.stringify(folder)}; kops finds a cluster by its folder, so a cluster is not renamed by editing it (move it with kstate migrate, or create the new one)`, file: "config" });
  }
  for (const [name, ig] of Object.entries(groups)) {
    problems.push(...validateInstanceGroup(ig, `instancegroup/${name}`, previousGroups[name]));
    // kops's create and replace refuse a group that does not name its cluster.
    const label = obj(obj(obj(ig)?.metadata)?.labels)?.[CLUSTER_LABEL];
    const owner = folder ?? clusterName;
    if (label === undefined || label === null) problems.push({ path: `metadata.labels["${CLUSTER_LABEL}"]`, message: `required: the cluster's name${typeof owner === "string" ? ` (${owner})` : ""}`, file: `instancegroup/${name}` });
    else if (typeof owner === "string" && label !== owner) problems.push({ path: `metadata.labels["${CLUSTER_LABEL}"]`, message: `${JSON.stringify(label)} is not this cluster (${owner})`, file: `instancegroup/${name}` });
    // kops finds a group by its file and shows it by metadata.name: the two are one name.
    const named = obj(obj(ig)?.metadata)?.name;
    if (typeof named === "string" && named !== "" && named !== name) {
      problems.push({
        path: "metadata.name",
        message: `${JSON.stringify(named)} is not the group's name ${JSON.stringify(name)} (its file's); kops finds a group by its file, so the two must match${named in groups ? `, and a group named ${JSON.stringify(named)} exists already` : `. To rename a group, write it under the new name (kstate apply -f of a document named ${JSON.stringify(named)}) and then delete the old one (kstate delete ig ${name})`}`,
        file: `instancegroup/${name}`,
      });
    }
  }
  const spec = obj(obj(cluster)?.spec) ?? {};
  const igs = Object.entries(groups).map(([n, g]) => [n, obj(g) ?? {}] as const);
  if (!igs.some(([, g]) => isControlPlane(g))) problems.push({ path: "instancegroup", message: "at least one control-plane instance group (role Master) is required", file: "instancegroup" });
  if (!igs.some(([, g]) => obj(g.spec)?.role === "Node")) problems.push({ path: "instancegroup", message: "at least one node instance group (role Node) is required", file: "instancegroup" });

  // On these clouds kops's set-up refuses a subnet without its zone ("unknown zone"); GCE's subnets
  // are regional, DigitalOcean's name a region instead.
  const cloud = cloudOf(spec);
  if (cloud === "aws" || cloud === "hetzner" || cloud === "scaleway") {
    for (const sn of list(spec.subnets) ?? []) {
      const o = obj(sn);
      if (o && typeof o.name === "string" && (o.zone === undefined || o.zone === null || o.zone === "")) problems.push({ path: `spec.subnets[name=${o.name}].zone`, message: "required: the subnet's zone", file: "config" });
    }
  }
  for (const [n, g] of igs) cloudGroupRules(spec, cloud, g, (path, message) => problems.push({ path, message, file: `instancegroup/${n}` }));
  // AWS's own rules (kops's validation/aws.go).
  if (cloud === "aws") {
    for (const [n, g] of Object.entries(groups)) {
      const metadata = obj(obj(obj(g)?.spec)?.instanceMetadata);
      const tokens = metadata?.httpTokens;
      if (typeof tokens === "string" && tokens !== "optional" && tokens !== "required") problems.push({ path: "spec.instanceMetadata.httpTokens", message: `${JSON.stringify(tokens)} is not one of optional, required`, file: `instancegroup/${n}` });
      const hops = metadata?.httpPutResponseHopLimit;
      if (typeof hops === "number" && (hops < 1 || hops > 64)) problems.push({ path: "spec.instanceMetadata.httpPutResponseHopLimit", message: `${hops} is not between 1 and 64`, file: `instancegroup/${n}` });
    }
  }

  const subnetNames = new Set((list(spec.subnets) ?? []).map((s) => obj(s)?.name).filter((n): n is string => typeof n === "string"));
  for (const [n, g] of igs) {
    for (const s of list(obj(g.spec)?.subnets) ?? []) {
      if (!subnetNames.has(String(s))) problems.push({ path: "spec.subnets", message: `subnet ${JSON.stringify(s)} is not one of the cluster's subnets (${[...subnetNames].join(", ") || "none"})`, file: `instancegroup/${n}` });
    }
  }
  const controlPlaneGroups = new Set(igs.filter(([, g]) => isControlPlane(g)).map(([n]) => n));
  for (const e of list(spec.etcdClusters) ?? []) {
    const ec = obj(e);
    for (const m of list(ec?.etcdMembers) ?? []) {
      const ig = obj(m)?.instanceGroup;
      if (typeof ig === "string" && !controlPlaneGroups.has(ig)) {
        problems.push({ path: `spec.etcdClusters[name=${String(ec?.name)}].etcdMembers[name=${String(obj(m)?.name)}].instanceGroup`, message: `${JSON.stringify(ig)} is not a control-plane instance group`, file: "config" });
      }
    }
  }
  const before = new Set((list(obj(obj(previous)?.spec)?.etcdClusters) ?? []).map((e) => obj(e)?.name).filter((n): n is string => typeof n === "string"));
  const after = new Set((list(spec.etcdClusters) ?? []).map((e) => obj(e)?.name));
  for (const name of before) {
    if (!after.has(name)) problems.push({ path: "spec.etcdClusters", message: `etcd cluster ${JSON.stringify(name)} cannot be removed from an existing cluster`, file: "config" });
  }
  return problems;
}

/** A `ValidationError` listing every problem with its file and field path. */
export function validationError(cluster: string, problems: Problem[]): ValidationError {
  const lines = problems.map((p) => `  ${p.file ? `${p.file}: ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}`);
  return new ValidationError(`cluster ${cluster} is not valid; nothing was written:\n${lines.join("\n")}`, {
    problems: problems.map((p) => ({ path: p.file ? `${p.file}:${p.path}` : p.path, message: p.message })),
  });
}
