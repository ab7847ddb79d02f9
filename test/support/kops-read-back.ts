/**
 * Whether kops read a document set back as the set says it: what `kops get` printed against the
 * set, field by field. Two kinds of leeway, and no other: what kops fills in itself (`KOPS_FILLS`,
 * each rule saying when and what: defaults on decode, the store path, PerformAssignments on create),
 * and durations and quantities kops writes in Go's canonical spelling. A field kops dropped (an
 * unknown one) or a value it changed is a difference. A null in the set is the field left out.
 */
import type { Doc, DocumentSet } from "./kops-documents";

interface Fill {
  /** For the report. */
  name: string;
  /** Only in what `kops create -f` stored (PerformAssignments); otherwise on every `kops get`. */
  createOnly: boolean;
  apply(read: Doc, said: Doc, ctx: FillContext): void;
}

interface FillContext {
  kind: "Cluster" | "InstanceGroup";
  clusterName: string;
  storeUrl: string;
}

type Json = unknown;

function isMap(v: Json): v is Doc {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function getAt(doc: Json, keys: (string | number)[]): Json {
  let at: Json = doc;
  for (const k of keys) {
    if (typeof k === "number") at = Array.isArray(at) ? at[k] : undefined;
    else at = isMap(at) ? at[k] : undefined;
  }
  return at;
}

/**
 * Removes `keys` from `read` when the set has nothing there and `read`'s value passes `ok`, then
 * removes maps left empty by that which the set does not have either.
 */
function tolerate(read: Doc, said: Doc, keys: (string | number)[], ok: (v: Json) => boolean): void {
  if (getAt(said, keys) !== undefined) return;
  const parent = getAt(read, keys.slice(0, -1));
  const last = keys[keys.length - 1]!;
  if (!isMap(parent) || typeof last !== "string" || !(last in parent) || !ok(parent[last])) return;
  delete parent[last];
  for (let n = keys.length - 1; n > 0; n--) {
    const up = getAt(read, keys.slice(0, n));
    if (!isMap(up) || Object.keys(up).length > 0 || getAt(said, keys.slice(0, n)) !== undefined) break;
    const holder = getAt(read, keys.slice(0, n - 1));
    const k = keys[n - 1]!;
    if (isMap(holder) && typeof k === "string") delete holder[k];
  }
}

const equals = (x: Json) => (v: Json) => JSON.stringify(v) === JSON.stringify(x);
const emptyMap = (v: Json) => isMap(v) && Object.keys(v).length === 0;

function inCidr(ip: string, cidr: string): boolean {
  const toInt = (s: string) => s.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const [net, bits] = cidr.split("/");
  const [addr, own] = ip.split("/");
  if (!net || !bits || !addr || !own || Number(own) < Number(bits)) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(addr) / size) === Math.floor(toInt(net) / size);
}

function cloudOf(said: Doc): string {
  return String(getAt(said, ["spec", "cloudProvider"]));
}

function dnsType(said: Doc): string {
  return String(getAt(said, ["spec", "topology", "dns", "type"]) ?? "Public");
}

/** What test/fixtures/oracle/channel-stable.yaml recommends to kops 1.36 (kopsVersions, range >=1.35.0-alpha.1). */
const CHANNEL_KUBERNETES_VERSION = "1.35.5";

/** The VPC CIDR kops gives an AWS cluster that names none (cloudup's defaultAWSNetworkCIDR). */
const AWS_NETWORK = "172.20.0.0/16";

export const KOPS_FILLS: readonly Fill[] = [
  {
    name: "metadata.creationTimestamp: set on create, dropped before comparing",
    createOnly: false,
    apply(read) {
      const meta = read.metadata;
      if (isMap(meta)) delete meta.creationTimestamp;
    },
  },
  {
    name: "Cluster spec.configBase: the store path kops read it from (kops get)",
    createOnly: false,
    apply(read, said, ctx) {
      if (ctx.kind === "Cluster") tolerate(read, said, ["spec", "configBase"], equals(`${ctx.storeUrl.replace(/^file:\/\//, "")}/${ctx.clusterName}`));
    },
  },
  {
    name: "InstanceGroup metadata.labels[kops.k8s.io/cluster]: the cluster's name (kops get)",
    createOnly: false,
    apply(read, said, ctx) {
      if (ctx.kind === "InstanceGroup") tolerate(read, said, ["metadata", "labels", "kops.k8s.io/cluster"], equals(ctx.clusterName));
    },
  },
  {
    name: "InstanceGroup spec.role: ControlPlane reads back as Master, v1alpha2's name for the same role",
    createOnly: false,
    apply(read, said, ctx) {
      const spec = read.spec;
      if (ctx.kind === "InstanceGroup" && isMap(spec) && spec.role === "Master" && getAt(said, ["spec", "role"]) === "ControlPlane") spec.role = "ControlPlane";
    },
  },
  {
    // The one Go zero value the generator writes where kops omits it: a plain bool, omitempty.
    name: "Cluster spec.iam.allowContainerRegistry: false reads back absent (a plain bool with omitempty)",
    createOnly: false,
    apply(read, said, ctx) {
      const iam = getAt(read, ["spec", "iam"]);
      if (ctx.kind === "Cluster" && isMap(iam) && getAt(said, ["spec", "iam", "allowContainerRegistry"]) === false && !("allowContainerRegistry" in iam)) iam.allowContainerRegistry = false;
    },
  },
  {
    name: "Cluster spec.topology.dns.type: Public when unset (v1alpha2 SetDefaults_ClusterSpec)",
    createOnly: false,
    apply(read, said, ctx) {
      if (ctx.kind === "Cluster") tolerate(read, said, ["spec", "topology", "dns", "type"], equals("Public"));
    },
  },
  {
    name: "Cluster spec.api: {} when unset (v1alpha2 SetDefaults_ClusterSpec)",
    createOnly: false,
    apply(read, said, ctx) {
      if (ctx.kind === "Cluster") tolerate(read, said, ["spec", "api"], emptyMap);
    },
  },
  {
    name: "Cluster spec.authorization: {rbac: {}} when unset or empty (v1alpha2 SetDefaults_ClusterSpec)",
    createOnly: false,
    apply(read, said, ctx) {
      if (ctx.kind !== "Cluster") return;
      const a = getAt(said, ["spec", "authorization"]);
      if (a === undefined || emptyMap(a)) {
        const spec = read.spec;
        if (isMap(spec) && equals({ rbac: {} })(spec.authorization)) {
          if (a === undefined) delete spec.authorization;
          else spec.authorization = {};
        }
      }
    },
  },
  {
    name: "Cluster spec.networking.flannel.backend: udp when unset (v1alpha2 SetDefaults_ClusterSpec)",
    createOnly: false,
    apply(read, said, ctx) {
      if (ctx.kind === "Cluster" && isMap(getAt(said, ["spec", "networking", "flannel"]))) tolerate(read, said, ["spec", "networking", "flannel", "backend"], equals("udp"));
    },
  },
  {
    name: "Cluster spec.etcdClusters[*].manager.backupRetentionDays: 90 when unset (PerformAssignments)",
    createOnly: true,
    apply(read, said, ctx) {
      if (ctx.kind !== "Cluster") return;
      const n = (getAt(read, ["spec", "etcdClusters"]) as unknown[] | undefined)?.length ?? 0;
      for (let i = 0; i < n; i++) tolerate(read, said, ["spec", "etcdClusters", i, "manager", "backupRetentionDays"], equals(90));
    },
  },
  {
    name: "Cluster spec.nonMasqueradeCIDR: 100.64.0.0/10 when unset; with amazonvpc on AWS and no networkCIDR, 172.20.0.0/16 (PerformAssignments)",
    createOnly: true,
    apply(read, said, ctx) {
      if (ctx.kind !== "Cluster") return;
      // Only where kops assigned the networkCIDR too does amazonvpc take it as the nonMasqueradeCIDR.
      const vpc = cloudOf(said) === "aws" && getAt(said, ["spec", "networking", "amazonvpc"]) !== undefined && getAt(said, ["spec", "networkCIDR"]) === undefined;
      tolerate(read, said, ["spec", "nonMasqueradeCIDR"], equals(vpc ? AWS_NETWORK : "100.64.0.0/10"));
    },
  },
  {
    name: "Cluster spec.networkCIDR: 172.20.0.0/16 on AWS when unset (PerformAssignments)",
    createOnly: true,
    apply(read, said, ctx) {
      if (ctx.kind === "Cluster" && cloudOf(said) === "aws") tolerate(read, said, ["spec", "networkCIDR"], equals(AWS_NETWORK));
    },
  },
  {
    name: "Cluster spec.subnets[*].cidr on AWS when unset: a CIDR inside the networkCIDR (PerformAssignments)",
    createOnly: true,
    apply(read, said, ctx) {
      if (ctx.kind !== "Cluster" || cloudOf(said) !== "aws") return;
      const network = String(getAt(said, ["spec", "networkCIDR"]) ?? AWS_NETWORK);
      const n = (getAt(read, ["spec", "subnets"]) as unknown[] | undefined)?.length ?? 0;
      for (let i = 0; i < n; i++) tolerate(read, said, ["spec", "subnets", i, "cidr"], (v) => typeof v === "string" && inCidr(v, network));
    },
  },
  {
    name: "Cluster spec.kubernetesVersion: the channel's for this kops (1.35.5 from the stable channel for kops 1.36) when unset (PerformAssignments)",
    createOnly: true,
    apply(read, said, ctx) {
      if (ctx.kind === "Cluster") tolerate(read, said, ["spec", "kubernetesVersion"], equals(CHANNEL_KUBERNETES_VERSION));
    },
  },
  {
    name: "Cluster spec.masterPublicName: api.<name> when the DNS is Public and it is unset (PerformAssignments)",
    createOnly: true,
    apply(read, said, ctx) {
      if (ctx.kind === "Cluster" && dnsType(said) === "Public") tolerate(read, said, ["spec", "masterPublicName"], equals(`api.${ctx.clusterName}`));
    },
  },
];

/** The set's document as compared: fields that are null are absent. */
function withoutNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  return v;
}

/** A Go duration (`1m30s`, `0.5h`) in nanoseconds, or undefined. */
function goDuration(v: string): number | undefined {
  const units: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(v);
  if (!m) return v === "0" ? 0 : undefined;
  let total = 0;
  for (const [, n, u] of v.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(n) * units[u!]!;
  return m[1] === "-" ? -total : total;
}

/** A Kubernetes quantity (`512Mi`, `0.5Gi`, `1e3`, `100m`) as a number, or undefined. */
function quantity(v: string): number | undefined {
  const suffixes: Record<string, number> = { "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  const m = /^([-+]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][-+]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? Number(`1${m[2]}`) : suffixes[m[3] ?? ""]!);
}

/**
 * kops writes durations and quantities in Go's canonical spelling (`1m` reads back `1m0s`, `0.5Gi`
 * reads back `512Mi`): the same value, so not a change.
 */
function sameValueRespelt(read: Json, said: Json): boolean {
  if (typeof read !== "string" || typeof said !== "string") return false;
  const d = [goDuration(read), goDuration(said)];
  if (d[0] !== undefined && d[0] === d[1]) return true;
  const q = [quantity(read), quantity(said)];
  return q[0] !== undefined && q[1] !== undefined && Math.abs(q[0] - q[1]) <= 1e-9 * Math.max(1, Math.abs(q[0]));
}

/** How `read` differs from `said`, one line per field (`spec.kubelet.maxPodz: kops has none, the set says 110`). */
export function differences(read: Json, said: Json, at = ""): string[] {
  if (isMap(read) && isMap(said)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(said), ...Object.keys(read)])) {
      const p = at ? `${at}.${k}` : k;
      if (!(k in read)) out.push(`${p}: kops has none, the set says ${JSON.stringify(said[k])}`);
      else if (!(k in said)) out.push(`${p}: kops has ${JSON.stringify(read[k])}, the set has none`);
      else out.push(...differences(read[k], said[k], p));
    }
    return out;
  }
  if (Array.isArray(read) && Array.isArray(said) && read.length === said.length) return read.flatMap((x, i) => differences(x, said[i], `${at}[${i}]`));
  return JSON.stringify(read) === JSON.stringify(said) || sameValueRespelt(read, said) ? [] : [`${at || "(document)"}: kops has ${JSON.stringify(read)}, the set says ${JSON.stringify(said)}`];
}

/**
 * How what kops read back (`kops get all -o yaml`) differs from the set, after the fills kops makes.
 * `created`: kops stored it with `create -f` (its PerformAssignments fills are allowed too).
 */
export function compareReadBack(set: Pick<DocumentSet, "docs" | "clusterName">, readBack: Doc[], storeUrl: string, created: boolean): string[] {
  const said = set.docs.map((d) => withoutNulls(d) as Doc);
  const key = (d: Doc) => `${String(d.kind)}/${String(getAt(d, ["metadata", "name"]))}`;
  const read = new Map(readBack.map((d) => [key(d), structuredClone(d)]));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const d of said) {
    const k = key(d);
    if (seen.has(k)) continue;
    seen.add(k);
    const r = read.get(k);
    if (!r) {
      out.push(`${k}: kops has no such document`);
      continue;
    }
    const ctx: FillContext = { kind: d.kind === "Cluster" ? "Cluster" : "InstanceGroup", clusterName: set.clusterName, storeUrl };
    for (const f of KOPS_FILLS) if (created || !f.createOnly) f.apply(r, d, ctx);
    const meta = d.metadata;
    if (isMap(meta)) delete meta.creationTimestamp;
    out.push(...differences(r, d).map((line) => `${k}: ${line}`));
  }
  for (const k of read.keys()) if (!seen.has(k)) out.push(`${k}: kops has a document the set does not`);
  return out;
}
