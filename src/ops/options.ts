/**
 * The `kops create cluster` flags as typed options, expanded the way kops expands them
 * (upup/pkg/fi/cloudup/new_cluster.go): one subnet and one `nodes-<zone>` group per zone, the
 * node count shared out, control-plane groups `control-plane-<zone>` of exactly one instance,
 * etcd clusters `main` and `events` with a member per control-plane group.
 *
 * The expansion has two parts. `owned` holds what the options say: the program owns these
 * fields and rewrites them on every update. `defaults` holds what kops would fill in on create
 * (CIDRs, access lists, RBAC, etcd resources): written only where a field is absent, never owned,
 * so hand edits to them survive.
 */
export interface ClusterOptions {
  zones?: string[];
  controlPlaneZones?: string[];
  controlPlaneCount?: number;
  nodeCount?: number;
  nodeSize?: string;
  controlPlaneSize?: string;
  kubernetesVersion?: string;
  cloud?: string;
  networking?: string;
  networkCidr?: string;
  topology?: "public" | "private";
  dnsZone?: string;
  sshAccess?: string[];
  adminAccess?: string[];
  image?: string;
  nodeImage?: string;
  controlPlaneImage?: string;
  channel?: string;
}

export const OPTION_NAMES: readonly (keyof ClusterOptions)[] = [
  "zones", "controlPlaneZones", "controlPlaneCount", "nodeCount", "nodeSize", "controlPlaneSize", "kubernetesVersion", "cloud",
  "networking", "networkCidr", "topology", "dnsZone", "sshAccess", "adminAccess", "image", "nodeImage", "controlPlaneImage", "channel",
];

type Doc = Record<string, unknown>;

export interface Expansion {
  owned: { cluster: Doc; instanceGroups: Record<string, Doc> };
  defaults: { cluster: Doc; instanceGroups: Record<string, Doc> };
}

export interface OptionProblem {
  option: string;
  message: string;
}

const NETWORKING = new Set(["cilium", "cilium-etcd", "cilium-eni", "calico", "flannel", "kindnet", "kubenet", "external", "cni", "amazonvpc", "gce", "kopeio"]);

/** Checks options the way kops checks flags; each problem names the option. */
export function checkOptions(o: ClusterOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const add = (option: string, message: string) => problems.push({ option, message });
  const known = new Set<string>(OPTION_NAMES);
  for (const k of Object.keys(o)) if (!known.has(k)) add(k, `unknown option; known options are ${OPTION_NAMES.join(", ")}`);
  const zoneList = (name: "zones" | "controlPlaneZones") => {
    const v = o[name];
    if (v === undefined) return;
    if (!Array.isArray(v) || v.length === 0 || v.some((z) => typeof z !== "string" || !/^[a-z0-9-]+$/.test(z))) {
      add(name, "must be a non-empty list of zone names like us-east-1a");
    } else if (new Set(v).size !== v.length) add(name, "lists a zone twice");
  };
  zoneList("zones");
  zoneList("controlPlaneZones");
  for (const name of ["controlPlaneCount", "nodeCount"] as const) {
    const v = o[name];
    if (v !== undefined && (!Number.isInteger(v) || v < (name === "nodeCount" ? 0 : 1))) add(name, `must be a whole number${name === "nodeCount" ? ", 0 or more" : ", 1 or more"}`);
  }
  if (o.controlPlaneCount !== undefined && Number.isInteger(o.controlPlaneCount) && o.controlPlaneCount % 2 === 0) {
    add("controlPlaneCount", `must be odd: etcd needs an odd number of members for quorum (got ${o.controlPlaneCount})`);
  }
  if (o.controlPlaneZones && !o.controlPlaneCount && o.controlPlaneZones.length % 2 === 0) {
    add("controlPlaneZones", `gives ${o.controlPlaneZones.length} control-plane groups; etcd needs an odd number (set controlPlaneCount)`);
  }
  if ((o.controlPlaneZones || o.controlPlaneCount || o.nodeCount !== undefined) && !o.zones) add("zones", "required with controlPlaneZones, controlPlaneCount or nodeCount");
  if (o.networking !== undefined && !NETWORKING.has(o.networking)) add("networking", `unknown networking ${JSON.stringify(o.networking)}; one of ${[...NETWORKING].join(", ")}`);
  if (o.topology !== undefined && o.topology !== "public" && o.topology !== "private") add("topology", "must be public or private");
  for (const name of ["sshAccess", "adminAccess"] as const) {
    const v = o[name];
    if (v !== undefined && (!Array.isArray(v) || v.some((c) => typeof c !== "string"))) add(name, "must be a list of CIDRs");
  }
  for (const name of ["nodeSize", "controlPlaneSize", "kubernetesVersion", "cloud", "networkCidr", "dnsZone", "image", "nodeImage", "controlPlaneImage", "channel"] as const) {
    const v = o[name];
    if (v !== undefined && (typeof v !== "string" || v === "")) add(name, "must be a non-empty string");
  }
  return problems;
}

/** The cloud kops guesses from the store's scheme when `--cloud` is not given. */
export function guessCloud(storeUrl: string): string | undefined {
  if (storeUrl.startsWith("s3://")) return "aws";
  if (storeUrl.startsWith("gs://")) return "gce";
  return undefined;
}

/** The etcd member name for a control-plane zone: its letter suffix (us-east-1a -> a). */
function memberName(zone: string): string {
  const m = /[a-z]+$/.exec(zone);
  return m ? m[0] : zone;
}

/**
 * Control-plane groups spread over `zones` round-robin, named as kops names them: by zone, and
 * with a `-N` suffix on every group once some zone holds more than one.
 */
function controlPlanePlacements(zones: string[], count: number, cloud: string | undefined): { group: string; zone: string; member: string }[] {
  const several = count > zones.length;
  const perZone = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const zone = zones[i % zones.length]!;
    const n = (perZone.get(zone) ?? 0) + 1;
    perZone.set(zone, n);
    const letter = memberName(zone);
    // Clouds without zone letters (hetzner, digitalocean) number the members instead.
    const member = cloud === "aws" || cloud === "gce" ? (several ? `${letter}-${n}` : letter) : `etcd-${i + 1}`;
    return { group: several ? `control-plane-${zone}-${n}` : `control-plane-${zone}`, zone, member };
  });
}

function ipv4(n: number, bits: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${bits}`;
}

/**
 * Subnet CIDRs as kops assigns them on AWS: the network split into the fewest equal blocks that
 * hold every subnet; with private topology the first block is kept for /21 utility subnets.
 */
function subnetCidrs(networkCidr: string, zones: number, priv: boolean): { main: string[]; utility: string[] } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(networkCidr);
  if (!m) return { main: [], utility: [] };
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const bits = Number(m[5]);
  const blocks = zones + (priv ? 1 : 0);
  const extra = blocks <= 1 ? 0 : Math.ceil(Math.log2(blocks));
  const size = bits + extra;
  const step = 2 ** (32 - size);
  const offset = priv ? 1 : 0;
  const main = Array.from({ length: zones }, (_, i) => ipv4((base + step * (i + offset)) >>> 0, size));
  const utility = priv ? Array.from({ length: zones }, (_, i) => ipv4((base + 2 ** (32 - (bits + 5)) * i) >>> 0, bits + 5)) : [];
  return { main, utility };
}

/** `{store}/{name}`, as kops sets it (a local store as a plain path, as kops writes it). */
export function configBaseFor(storeUrl: string, name: string): string {
  const base = storeUrl.replace(/\/$/, "");
  return `${base.startsWith("file://") ? base.slice("file://".length) : base}/${name}`;
}

/**
 * Expands options into the documents kops would write for `kops create cluster NAME <flags>`.
 * `storedCloud` is the cloud of the cluster already stored, if any: without `--cloud`, a merge
 * expands for that cloud (etcd member names, subnets), not for the one the store's scheme suggests.
 */
export function expandOptions(name: string, storeUrl: string, o: ClusterOptions, storedCloud?: string): Expansion {
  const cluster: Doc = { metadata: { name }, spec: {} };
  const spec = cluster.spec as Doc;
  const groups: Record<string, Doc> = {};
  const defaults: Doc = { spec: {} };
  const defaultSpec = defaults.spec as Doc;
  const defaultGroups: Record<string, Doc> = {};
  const cloud = o.cloud ?? storedCloud ?? guessCloud(storeUrl);

  // The cloud guessed from the store's scheme, like the config base, is only a default: an
  // existing cluster keeps its own (a hetzner cluster may well keep its state on S3).
  if (o.cloud) spec.cloudProvider = o.cloud;
  else if (cloud) defaultSpec.cloudProvider = cloud;
  defaultSpec.configBase = configBaseFor(storeUrl, name);
  if (o.kubernetesVersion) spec.kubernetesVersion = o.kubernetesVersion;
  if (o.channel) spec.channel = o.channel;
  if (o.networking) spec.networking = { [o.networking]: {} };
  if (o.networkCidr) spec.networkCIDR = o.networkCidr;
  if (o.adminAccess) spec.kubernetesApiAccess = o.adminAccess;
  if (o.sshAccess ?? o.adminAccess) spec.sshAccess = o.sshAccess ?? o.adminAccess;
  if (o.dnsZone) spec.dnsZone = o.dnsZone;

  Object.assign(defaultSpec, {
    authorization: { rbac: {} },
    channel: "stable",
    iam: { allowContainerRegistry: true, legacy: false },
    kubelet: { anonymousAuth: false },
    kubernetesApiAccess: ["0.0.0.0/0", "::/0"],
    sshAccess: ["0.0.0.0/0", "::/0"],
    nonMasqueradeCIDR: "100.64.0.0/10",
    topology: { dns: { type: o.dnsZone ? "Public" : "None" } },
  });
  if (!o.networking || o.networking === "cilium") {
    // kops's default networking, with kube-proxy replaced by cilium.
    defaultSpec.networking = { cilium: { enableNodePort: true } };
    defaultSpec.kubeProxy = { enabled: false };
  }
  if (cloud === "aws") {
    defaultSpec.networkCIDR = "172.20.0.0/16";
    defaultSpec.api = { loadBalancer: { class: "Network", type: "Public" } };
  } else {
    defaultSpec.api = { loadBalancer: { type: "Public" } };
  }

  if (o.zones) {
    const zones = o.zones;
    const priv = o.topology === "private";
    const subnets: Doc[] = zones.map((zone) => ({ name: zone, type: priv ? "Private" : "Public", zone }));
    if (priv) subnets.push(...zones.map((zone) => ({ name: `utility-${zone}`, type: "Utility", zone })));
    spec.subnets = subnets;
    if (priv) spec.topology = { dns: { type: o.dnsZone ? "Public" : "None" } };
    if (cloud === "aws") {
      const cidrs = subnetCidrs(o.networkCidr ?? "172.20.0.0/16", zones.length, priv);
      const all = [...cidrs.main, ...cidrs.utility];
      defaultSpec.subnets = subnets.map((s, i) => ({ name: s.name, ...(all[i] ? { cidr: all[i] } : {}) }));
    }

    const nodeCount = o.nodeCount ?? zones.length;
    zones.forEach((zone, i) => {
      // kops gives each zone count/zones nodes, the first zones one more when it does not divide.
      const share = Math.floor(nodeCount / zones.length) + (i < nodeCount % zones.length ? 1 : 0);
      const ig: Doc = { role: "Node", minSize: share, maxSize: share, subnets: [zone] };
      if (o.nodeSize) ig.machineType = o.nodeSize;
      const image = o.nodeImage ?? o.image;
      if (image) ig.image = image;
      groups[`nodes-${zone}`] = { spec: ig };
      defaultGroups[`nodes-${zone}`] = { spec: { nodeLabels: { "kops.k8s.io/instancegroup": `nodes-${zone}` } } };
    });

    // Without zones of their own, one control plane goes in the first zone, several over all zones.
    const cpZones = o.controlPlaneZones ?? (o.controlPlaneCount && o.controlPlaneCount > 1 ? zones : [zones[0]!]);
    const placements = controlPlanePlacements(cpZones, o.controlPlaneCount ?? cpZones.length, cloud);
    for (const p of placements) {
      const ig: Doc = { role: "Master", minSize: 1, maxSize: 1, subnets: [p.zone] };
      if (o.controlPlaneSize) ig.machineType = o.controlPlaneSize;
      const image = o.controlPlaneImage ?? o.image;
      if (image) ig.image = image;
      groups[p.group] = { spec: ig };
      defaultGroups[p.group] = { spec: { nodeLabels: { "kops.k8s.io/instancegroup": p.group } } };
    }
    spec.etcdClusters = ["main", "events"].map((etcd) => ({
      name: etcd,
      etcdMembers: placements.map((p) => ({ name: p.member, instanceGroup: p.group })),
    }));
    defaultSpec.etcdClusters = ["main", "events"].map((etcd) => ({
      name: etcd,
      cpuRequest: etcd === "main" ? "200m" : "100m",
      memoryRequest: "100Mi",
      manager: { backupRetentionDays: 90 },
      ...(cloud === "aws" || cloud === "gce" ? { etcdMembers: placements.map((p) => ({ name: p.member, encryptedVolume: true })) } : {}),
    }));
  }
  return { owned: { cluster, instanceGroups: groups }, defaults: { cluster: defaults, instanceGroups: defaultGroups } };
}
