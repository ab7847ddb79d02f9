/**
 * Seeded kops v1alpha2 document sets (one Cluster and its InstanceGroups, as one YAML stream) for
 * the differential oracle: valid sets across clouds and topologies that kops v1.36.2 checks offline,
 * and mutations of them, each with a label. `generate(seed)` gives the same set for the same seed.
 *
 * A set carries what it says (`docs`, plain values) apart from how it is written (`text`): most
 * values are written as YAML writes them, but a `Raw` value is written verbatim (`on`, `1e3`,
 * `0x10`…), and the set says what kops's YAML 1.1 reader makes of it.
 */
import { stringify } from "yaml";
import { MUTATIONS, Raw } from "./kops-mutations";
import { SCHEMA_MUTATIONS } from "./kops-schema-mutations";

export { Raw };

export type Cloud = "aws" | "hetzner" | "digitalocean" | "scaleway";
export type Doc = Record<string, unknown>;

export interface DocumentSet {
  seed: number;
  /** `valid`, or the mutation's label, e.g. `unknown-field:spec.kubelet`. */
  label: string;
  cloud: Cloud;
  topology: "public" | "private";
  clusterName: string;
  /** What the set says: the Cluster first, then the InstanceGroups, with `Raw` values resolved. */
  docs: Doc[];
  /** The YAML stream written to the file. */
  text: string;
  /** The field a mutation touched (`instancegroup/<name>:spec.rootVolumeSise`), for refusal messages. */
  field?: string;
}

// mulberry32: small, fast, and the same numbers on every platform.
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Some of `items` (each with probability p), in order. */
  some<T>(items: readonly T[], p: number): T[] {
    return items.filter(() => this.chance(p));
  }
}

const CLOUDS: readonly Cloud[] = ["aws", "aws", "aws", "hetzner", "hetzner", "digitalocean", "scaleway"];
const ZONES: Record<Cloud, readonly string[]> = {
  // The EC2 catalogue stand-in answers for us-east-1a to us-east-1f.
  aws: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
  // kops supports one location, region or zone on these clouds.
  hetzner: ["fsn1", "nbg1", "hel1", "ash"],
  digitalocean: ["nyc1", "sfo3", "ams3", "fra1"],
  scaleway: ["fr-par-1", "fr-par-2", "nl-ams-1"],
};
const MACHINES: Record<Cloud, readonly string[]> = {
  aws: ["m5.large", "m5.xlarge", "t3.medium", "c5.large"],
  hetzner: ["cx22", "cx32", "cpx31", "cax21"],
  digitalocean: ["s-2vcpu-4gb", "s-4vcpu-8gb"],
  scaleway: ["DEV1-M", "GP1-XS"],
};
const IMAGES: Record<Cloud, readonly string[]> = {
  aws: ["099720109477/ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610", "ami-0123456789abcdef0"],
  hetzner: ["ubuntu-24.04", "ubuntu-22.04"],
  digitalocean: ["ubuntu-24-04-x64", "ubuntu-22-04-x64"],
  scaleway: ["ubuntu_noble", "ubuntu_jammy"],
};
const VERSIONS = ["v1.31.9", "v1.32.5", "v1.33.2", "v1.34.1", "v1.35.0"];
const WORDS = ["alpha", "bravo", "delta", "kilo", "lima", "oscar", "tango", "zulu"];

/** A valid set being built, and mutated in place. */
export interface Base {
  cloud: Cloud;
  topology: "public" | "private";
  clusterName: string;
  cluster: Doc;
  groups: Doc[];
  /** Documents separated by a bare `---` line, with no blank line before it. */
  tight?: boolean;
}

export interface Mutation {
  label: string;
  /** Mutates `b` in place; returns the field touched (`file:path`), or undefined when it does not apply. */
  apply(b: Base, rng: Rng): string | undefined;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

// ---------------------------------------------------------------------------------------------
// Valid sets

function subnetsFor(rng: Rng, cloud: Cloud, topology: "public" | "private", zones: string[]): { subnets: Doc[]; networkCIDR?: string } {
  const subnets: Doc[] = [];
  if (cloud !== "aws") {
    // DigitalOcean's subnets name their region too.
    const region = (z: string) => (cloud === "digitalocean" ? { region: z } : {});
    if (topology === "public") for (const z of zones) subnets.push({ name: z, ...region(z), type: "Public", zone: z });
    else for (const z of zones) subnets.push({ name: z, ...region(z), type: "Private", zone: z }, { name: `utility-${z}`, ...region(z), type: "Utility", zone: z });
    return { subnets };
  }
  // Without a networkCIDR kops assigns 172.20.0.0/16 (PerformAssignments), so the subnets lie there.
  const withNetwork = rng.chance(0.85);
  const second = withNetwork ? rng.pick([20, 30, 40]) : 20;
  const networkCIDR = `172.${second}.0.0/16`;
  // Sometimes no CIDRs at all: kops assigns them on create (PerformAssignments), kstate leaves them.
  const withCidrs = rng.chance(0.8);
  zones.forEach((z, i) => {
    if (topology === "public") subnets.push({ name: z, type: "Public", zone: z, ...(withCidrs ? { cidr: `172.${second}.${32 * i}.0/19` } : {}) });
    else {
      subnets.push({ name: z, type: "Private", zone: z, ...(withCidrs ? { cidr: `172.${second}.${64 * (i + 1)}.0/18` } : {}) });
      subnets.push({ name: `utility-${z}`, type: "Utility", zone: z, ...(withCidrs ? { cidr: `172.${second}.${8 * i}.0/21` } : {}) });
    }
  });
  return { subnets, ...(withNetwork ? { networkCIDR } : {}) };
}

function networking(rng: Rng, cloud: Cloud): { networking: Doc; kubeProxy?: Doc } {
  const choices: { networking: Doc; kubeProxy?: Doc }[] = [
    { networking: { cilium: { enableNodePort: true } }, kubeProxy: { enabled: false } },
    { networking: { cilium: {} } },
    { networking: { calico: {} } },
    { networking: { flannel: { backend: "vxlan" } } },
    { networking: { kindnet: {} } },
  ];
  if (cloud === "aws") choices.push({ networking: { amazonvpc: {} } });
  return clone(rng.pick(choices));
}

function etcdCluster(rng: Rng, name: string, members: Doc[], cloud: Cloud): Doc {
  const e: Doc = { name, etcdMembers: members.map((m) => ({ ...m, ...(cloud === "aws" && rng.chance(0.7) ? { encryptedVolume: true } : {}) })) };
  if (rng.chance(0.7)) e.cpuRequest = rng.pick(["100m", "200m", "500m"]);
  if (rng.chance(0.7)) e.memoryRequest = rng.pick(["100Mi", "256Mi", "1Gi"]);
  if (rng.chance(0.6)) e.manager = { backupRetentionDays: rng.int(1, 365) };
  if (cloud === "aws" && rng.chance(0.3)) for (const m of e.etcdMembers as Doc[]) m.volumeSize = rng.int(10, 100);
  return e;
}

function kubelet(rng: Rng): Doc {
  const k: Doc = {};
  if (rng.chance(0.5)) k.anonymousAuth = false;
  if (rng.chance(0.5)) k.maxPods = rng.int(10, 250);
  if (rng.chance(0.3)) k.podPidsLimit = rng.int(1024, 32768);
  if (rng.chance(0.3)) k.logLevel = rng.int(1, 6);
  if (rng.chance(0.2)) k.serializeImagePulls = rng.chance(0.5);
  if (rng.chance(0.2)) {
    k.imageGCHighThresholdPercent = rng.int(70, 95);
    k.imageGCLowThresholdPercent = rng.int(40, 69);
  }
  if (rng.chance(0.2)) k.evictionHard = "memory.available<100Mi,nodefs.available<10%";
  if (rng.chance(0.2)) k.featureGates = { GracefulNodeShutdown: "true" };
  if (rng.chance(0.2)) k.shutdownGracePeriod = rng.pick(["30s", "1m0s"]);
  if (rng.chance(0.2)) k.kubeReserved = { cpu: "100m", memory: "256Mi" };
  if (rng.chance(0.2)) k.registryPullQPS = rng.int(1, 20);
  if (rng.chance(0.1)) k.cpuCFSQuota = rng.chance(0.5);
  return k;
}

function clusterOptionals(rng: Rng, cloud: Cloud, spec: Doc): void {
  if (rng.chance(0.6)) spec.kubelet = kubelet(rng);
  if (rng.chance(0.2)) spec.masterKubelet = kubelet(rng);
  if (rng.chance(0.4)) {
    const a: Doc = {};
    if (rng.chance(0.5)) a.logLevel = rng.int(1, 4);
    if (rng.chance(0.4)) a.maxRequestsInflight = rng.int(100, 2000);
    if (rng.chance(0.3)) a.enableAdmissionPlugins = rng.some(["NamespaceLifecycle", "LimitRanger", "ServiceAccount", "DefaultStorageClass", "ResourceQuota", "NodeRestriction"], 0.7);
    if (rng.chance(0.3)) {
      a.auditLogMaxAge = rng.int(1, 30);
      a.auditLogMaxBackups = rng.int(1, 10);
      a.auditLogMaxSize = rng.int(10, 500);
    }
    if (rng.chance(0.2)) a.serviceNodePortRange = "30000-32767";
    if (rng.chance(0.2)) a.featureGates = { InPlacePodVerticalScaling: "true" };
    spec.kubeAPIServer = a;
  }
  if (rng.chance(0.3)) {
    const c: Doc = {};
    if (rng.chance(0.5)) c.logLevel = rng.int(1, 4);
    if (rng.chance(0.4)) c.terminatedPodGCThreshold = rng.int(100, 12500);
    if (rng.chance(0.4)) c.horizontalPodAutoscalerSyncPeriod = rng.pick(["15s", "30s", "1m0s"]);
    if (rng.chance(0.3)) c.nodeMonitorGracePeriod = rng.pick(["40s", "50s"]);
    spec.kubeControllerManager = c;
  }
  if (rng.chance(0.2)) spec.kubeScheduler = { logLevel: rng.int(1, 4) };
  if (rng.chance(0.3)) spec.iam = { allowContainerRegistry: rng.chance(0.5), legacy: false };
  if (rng.chance(0.3)) spec.authorization = rng.chance(0.8) ? { rbac: {} } : { alwaysAllow: {} };
  if (rng.chance(0.3)) spec.containerd = { logLevel: rng.pick(["info", "warn", "debug"]) };
  if (rng.chance(0.2)) spec.kubeDNS = { provider: "CoreDNS", ...(rng.chance(0.5) ? { nodeLocalDNS: { enabled: true } } : {}) };
  if (rng.chance(0.2)) spec.metricsServer = { enabled: true, insecure: true };
  if (rng.chance(0.15)) spec.certManager = { enabled: true };
  if (rng.chance(0.15)) spec.nodeProblemDetector = { enabled: true };
  if (rng.chance(0.2)) spec.updatePolicy = rng.pick(["automatic", "external"]);
  if (rng.chance(0.2)) spec.nodePortAccess = ["10.0.0.0/8"];
  if (rng.chance(0.2)) spec.additionalSans = [`api-internal.${rng.pick(WORDS)}.example.com`];
  if (rng.chance(0.2)) spec.cloudLabels = { team: rng.pick(WORDS), env: rng.pick(["dev", "prod"]) };
  if (rng.chance(0.15)) spec.fileAssets = [{ name: "motd", path: "/etc/motd", content: "managed by kops\n" }];
  if (rng.chance(0.15)) spec.hooks = [{ name: "hello.service", manifest: "[Service]\nType=oneshot\nExecStart=/bin/true\n" }];
  if (rng.chance(0.2)) {
    spec.serviceClusterIPRange = "100.64.0.0/13";
    if (rng.chance(0.5)) spec.podCIDR = "100.96.0.0/11";
  }
  if (rng.chance(0.15)) spec.sysctlParameters = ["net.ipv4.tcp_keepalive_time=200"];
  if (cloud === "aws" && rng.chance(0.2)) spec.sshKeyName = `kops-${rng.pick(WORDS)}`;
}

function igOptionals(rng: Rng, cloud: Cloud, spec: Doc, role: string): void {
  if (rng.chance(0.4)) spec.rootVolumeSize = rng.int(20, 200);
  if (cloud === "aws") {
    if (rng.chance(0.3)) spec.rootVolumeType = rng.pick(["gp3", "gp2"]);
    if (rng.chance(0.2)) spec.rootVolumeEncryption = rng.chance(0.5);
    if (rng.chance(0.15)) spec.instanceMetadata = { httpTokens: rng.pick(["required", "optional"]), httpPutResponseHopLimit: rng.int(1, 3) };
    if (rng.chance(0.1)) spec.detailedInstanceMonitoring = rng.chance(0.5);
    if (role === "Node" && rng.chance(0.15)) spec.maxPrice = rng.pick(["0.10", "0.25"]);
    if (rng.chance(0.1)) spec.suspendProcesses = ["AZRebalance"];
  }
  if (rng.chance(0.3)) spec.cloudLabels = { team: rng.pick(WORDS) };
  if (role === "Node" && rng.chance(0.25)) spec.taints = [`dedicated=${rng.pick(WORDS)}:NoSchedule`];
  if (rng.chance(0.2)) spec.kubelet = { maxPods: rng.int(10, 250) };
  if (rng.chance(0.15)) spec.sysctlParameters = ["vm.max_map_count=262144"];
  if (rng.chance(0.15)) spec.packages = ["nfs-common"];
  if (rng.chance(0.1)) spec.additionalUserData = [{ name: "hello.sh", type: "text/x-shellscript", content: "#!/bin/sh\necho hello\n" }];
  // kops forbids surging control-plane groups.
  if (rng.chance(0.15)) spec.rollingUpdate = role === "Node" && rng.chance(0.5) ? { maxSurge: rng.int(1, 3) } : { maxUnavailable: "25%", drainAndTerminate: true };
  if (rng.chance(0.1)) spec.updatePolicy = rng.pick(["automatic", "external"]);
}

function instanceGroup(clusterName: string, name: string, spec: Doc): Doc {
  return {
    apiVersion: "kops.k8s.io/v1alpha2",
    kind: "InstanceGroup",
    metadata: { labels: { "kops.k8s.io/cluster": clusterName }, name },
    spec,
  };
}

function validBase(rng: Rng, channel: string): Base {
  const cloud = rng.pick(CLOUDS);
  const topology = rng.chance(0.6) ? "public" : "private";
  const zoneCount = cloud === "aws" ? rng.int(1, 3) : 1;
  const zones = rng.some(ZONES[cloud], 0.5).slice(0, zoneCount);
  while (zones.length < zoneCount) {
    const z = rng.pick(ZONES[cloud]);
    if (!zones.includes(z)) zones.push(z);
  }
  zones.sort();
  const clusterName = `${rng.pick(WORDS)}-${rng.int(1, 999)}.k8s.example.com`;
  const { subnets, networkCIDR } = subnetsFor(rng, cloud, topology, zones);

  // One or three control-plane groups (one etcd member each), spread over the zones.
  const cpCount = rng.chance(0.6) ? 1 : 3;
  const cpRole = rng.chance(0.7) ? "ControlPlane" : "Master";
  const cpNames: string[] = [];
  const groups: Doc[] = [];
  for (let i = 0; i < cpCount; i++) {
    const z = zones[i % zones.length]!;
    const name = cpCount === 1 ? `control-plane-${z}` : `control-plane-${z}-${i + 1}`;
    cpNames.push(name);
    const spec: Doc = { role: cpRole, machineType: rng.pick(MACHINES[cloud]), image: rng.pick(IMAGES[cloud]), minSize: 1, maxSize: 1, subnets: [z] };
    if (rng.chance(0.5)) spec.nodeLabels = { "kops.k8s.io/instancegroup": name };
    igOptionals(rng, cloud, spec, cpRole);
    groups.push(instanceGroup(clusterName, name, spec));
  }
  const nodeGroups = rng.int(1, 2);
  for (let i = 0; i < nodeGroups; i++) {
    const z = zones[i % zones.length]!;
    const name = nodeGroups === 1 ? `nodes-${z}` : `nodes-${z}-${i + 1}`;
    const min = rng.int(0, 3);
    const spec: Doc = { role: "Node", machineType: rng.pick(MACHINES[cloud]), image: rng.pick(IMAGES[cloud]), minSize: min, maxSize: min + rng.int(0, 5), subnets: [z] };
    if (rng.chance(0.5)) spec.nodeLabels = { "kops.k8s.io/instancegroup": name };
    igOptionals(rng, cloud, spec, "Node");
    groups.push(instanceGroup(clusterName, name, spec));
  }
  if (topology === "private" && rng.chance(0.5)) {
    groups.push(instanceGroup(clusterName, "bastions", {
      role: "Bastion", machineType: rng.pick(MACHINES[cloud]), image: rng.pick(IMAGES[cloud]), minSize: 1, maxSize: 1,
      subnets: zones.map((z) => `utility-${z}`),
    }));
  }

  const members = cpNames.map((ig, i) => ({ instanceGroup: ig, name: cpCount === 1 ? "a" : `etcd-${i + 1}` }));
  const net = networking(rng, cloud);
  const spec: Doc = {
    // On AWS, DNS type None needs a Network load balancer, and an Internal one needs a Private subnet.
    api: { loadBalancer: { type: topology === "private" && rng.chance(0.3) ? "Internal" : "Public", ...(cloud === "aws" ? { class: "Network" } : {}) } },
    authorization: { rbac: {} },
    channel,
    cloudProvider: cloud,
    etcdClusters: [etcdCluster(rng, "main", members, cloud), etcdCluster(rng, "events", members, cloud)],
    kubernetesApiAccess: rng.pick([["0.0.0.0/0", "::/0"], ["10.0.0.0/8"], ["0.0.0.0/0"]]),
    kubernetesVersion: rng.pick(VERSIONS),
    networking: net.networking,
    ...(net.kubeProxy ? { kubeProxy: net.kubeProxy } : {}),
    ...(networkCIDR ? { networkCIDR } : {}),
    nonMasqueradeCIDR: "100.64.0.0/10",
    sshAccess: rng.pick([["0.0.0.0/0", "::/0"], ["192.168.0.0/16"]]),
    subnets,
    topology: { dns: { type: "None" } },
  };
  // amazonvpc pods take addresses from the VPC: kops sets nonMasqueradeCIDR to the network's CIDR.
  if (net.networking.amazonvpc) {
    if (networkCIDR) spec.nonMasqueradeCIDR = networkCIDR;
    else delete spec.nonMasqueradeCIDR;
  }
  if (topology === "private") spec.topology = { dns: { type: "None" } };
  if (rng.chance(0.15)) delete spec.nonMasqueradeCIDR;
  if (rng.chance(0.15)) delete spec.authorization;
  if (rng.chance(0.15)) for (const e of spec.etcdClusters as Doc[]) delete e.manager;
  clusterOptionals(rng, cloud, spec);
  if (spec.serviceClusterIPRange !== undefined && spec.nonMasqueradeCIDR !== "100.64.0.0/10") {
    delete spec.serviceClusterIPRange;
    delete spec.podCIDR;
  }
  const cluster: Doc = { apiVersion: "kops.k8s.io/v1alpha2", kind: "Cluster", metadata: { name: clusterName }, spec };
  return { cloud, topology, clusterName, cluster, groups };
}


// ---------------------------------------------------------------------------------------------
// Writing and resolving

/** What the set says: `Raw` values replaced by their meaning. Keys whose value means null stay null. */
function resolve(v: unknown): unknown {
  if (v instanceof Raw) return v.value;
  if (Array.isArray(v)) return v.map(resolve);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  return v;
}

/**
 * The stream. Documents end with a blank line before `---`, as kops prints them; `tight` leaves it
 * out, as `yaml` and most editors write streams.
 */
function toText(docs: Doc[], tight: boolean): string {
  const raws: string[] = [];
  const mark = (v: unknown): unknown => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `__kstate_raw_${raws.length - 1}__`;
    }
    if (Array.isArray(v)) return v.map(mark);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x)]));
    return v;
  };
  // Written as YAML 1.1, as kops reads it: strings such as "yes" or "n" come out quoted.
  const text = docs.map((d) => stringify(mark(d), { version: "1.1", lineWidth: 0 })).join(tight ? "---\n" : "\n---\n");
  return text.replace(/__kstate_raw_(\d+)__/g, (_, i: string) => raws[Number(i)]!);
}

const ALL_MUTATIONS: readonly Mutation[] = [...MUTATIONS, ...SCHEMA_MUTATIONS];

/** The labels `generate` draws from: `valid` and every mutation's. */
export const LABELS: readonly string[] = ["valid", ...ALL_MUTATIONS.map((m) => m.label)];

/**
 * The set for `seed`: valid one time in four, a schema-drawn mutation one time in five, else one of
 * the mutations above. With `label`, that
 * mutation (or `valid`) whatever the seed would have drawn, so a saved (seed, label) replays the same
 * set even after mutations are added. `channel` is the clusters' `spec.channel` (a kops channel URL).
 */
export function generate(seed: number, label?: string, channel = "stable"): DocumentSet {
  const rng = new Rng(seed);
  const base = validBase(rng, channel);
  const draw = rng.next();
  const chosen = label ?? (draw < 0.25 ? "valid" : draw < 0.45 ? rng.pick(SCHEMA_MUTATIONS).label : rng.pick(MUTATIONS).label);
  let field: string | undefined;
  if (chosen !== "valid") {
    const m = ALL_MUTATIONS.find((x) => x.label === chosen);
    if (!m) throw new Error(`no mutation labelled ${JSON.stringify(chosen)}`);
    field = m.apply(base, rng);
    if (field === undefined) throw new Error(`mutation ${chosen} does not apply to seed ${seed}`);
  }
  const raw = [base.cluster, ...base.groups];
  const docs = raw.map((d) => resolve(d) as Doc);
  // What the set says is what kops reads: it splits a stream at "\n---\n", so in a tight stream a
  // document's last value, if it is text ending in a line break, loses that line break.
  if (base.tight) for (const d of docs.slice(0, -1)) withoutLastLineBreak(d);
  return {
    seed, label: chosen, cloud: base.cloud, topology: base.topology, clusterName: base.clusterName,
    docs, text: toText(raw, base.tight === true), ...(field !== undefined ? { field } : {}),
  };
}

/** Takes the final line break off the last value written of `doc` (in key order), if it is text. */
function withoutLastLineBreak(doc: unknown): void {
  let parent = doc as Record<string, unknown> | unknown[];
  for (;;) {
    const keys = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
    if (keys.length === 0) return;
    const last = keys[keys.length - 1]!;
    const value = (parent as Record<string | number, unknown>)[last];
    if (typeof value === "string") {
      if (value.endsWith("\n")) (parent as Record<string | number, unknown>)[last] = value.slice(0, -1);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    parent = value as Record<string, unknown>;
  }
}
