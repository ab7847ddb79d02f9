/**
 * `kops create cluster` flags expanded into documents the way kops expands them
 * (upup/pkg/fi/cloudup/new_cluster.go), on a new cluster or merged into a stored one.
 *
 * The rule: a flag that is given names some fields, and only those change; a flag that is not
 * given changes nothing; what kops computes on create is written only where it is absent. So the
 * expansion has two parts. `owned` holds the fields the given flags name (a Pulumi program owns
 * them and rewrites them on every update). `defaults` holds the rest of what kops would write:
 * written only where a field is absent, never owned, so hand edits survive.
 *
 * What each flag names, on a new cluster and on an existing one:
 *
 * | flag | names |
 * | --- | --- |
 * | zones | for each zone the cluster does not have yet: its subnet (and utility subnet when private), its `nodes-<zone>` group; on create also the control plane and etcd members. Never removes a zone. |
 * | nodeCount | minSize and maxSize of the `nodes-<zone>` groups, the count shared out over them |
 * | nodeSize | machineType (and with several types a mixed-instances policy) of the `nodes-<zone>` groups, never a group added by hand |
 * | controlPlaneSize | machineType of the `control-plane-<zone>` (or older `master-<zone>`) groups |
 * | image, nodeImage, controlPlaneImage | image of those same groups |
 * | nodeVolumeSize, controlPlaneVolumeSize | rootVolumeSize of those same groups |
 * | controlPlaneZones, controlPlaneCount | the control plane: on create only; on a cluster whose control plane differs they are refused (etcd membership) |
 * | bastion | a `bastions` group |
 * | kubernetesVersion, channel, networking, dnsZone, project, networkId | the one spec field each |
 * | adminAccess | spec.kubernetesApiAccess (and spec.sshAccess unless sshAccess is given) |
 * | sshAccess | spec.sshAccess |
 * | dns | spec.topology.dns.type |
 * | apiLoadBalancerType | spec.api.loadBalancer.type |
 * | subnetIds, utilitySubnetIds | the id of each zone's subnet, in zone order |
 * | cloud, networkCidr, topology, etcdClusters | on create only: on an existing cluster another value is refused |
 */
import { assignSubnetCidrs, type SubnetSlot } from "./subnet-cidrs";
import { type ClusterOptions, guessCloud, machineTypes, type OptionProblem } from "./options";

type Doc = Record<string, unknown>;

export interface Expansion {
  owned: { cluster: Doc; instanceGroups: Record<string, Doc> };
  defaults: { cluster: Doc; instanceGroups: Record<string, Doc> };
  /** Flags that cannot be applied to the stored cluster; when any, nothing else is expanded. */
  problems: OptionProblem[];
  /**
   * The groups kops's expansion names in this cluster (`nodes-<zone>`, the control plane, the
   * bastions), whether or not a given flag touches them: options never delete one.
   */
  groups: string[];
}

/** The stored cluster a merge starts from (plain documents). */
export interface StoredCluster {
  spec: Doc;
  groups: ReadonlyMap<string, Doc>;
}

/** Machine types kops gives a group when none is given (populate_instancegroup_spec.go); on AWS kops takes the first of its candidates the region offers, t3.medium first. */
const DEFAULT_MACHINE: Record<string, { node: string; controlPlane: string; bastion: string }> = {
  aws: { node: "t3.medium", controlPlane: "t3.medium", bastion: "t3.micro" },
  gce: { node: "e2-medium", controlPlane: "e2-medium", bastion: "e2-micro" },
  digitalocean: { node: "s-2vcpu-4gb-amd", controlPlane: "s-2vcpu-4gb-amd", bastion: "s-2vcpu-4gb-amd" },
  azure: { node: "Standard_B2s", controlPlane: "Standard_B2s", bastion: "Standard_B2s" },
  hetzner: { node: "cx23", controlPlane: "cx23", bastion: "cx23" },
  scaleway: { node: "DEV1-M", controlPlane: "DEV1-M", bastion: "DEV1-M" },
};

/** Clouds on which kops gives subnets their CIDRs itself (upup/pkg/fi/cloudup/defaults.go). */
const ASSIGNS_CIDRS = new Set(["aws", "openstack", "azure"]);
const DEFAULT_NETWORK_CIDR: Record<string, string> = { aws: "172.20.0.0/16", azure: "10.0.0.0/16" };

const CONTROL_PLANE_ROLES = new Set(["Master", "ControlPlane"]);
const EXPANDED_CONTROL_PLANE = /^(control-plane|master)-/;

function spec(d: Doc | undefined): Doc {
  const s = d?.spec;
  return typeof s === "object" && s !== null && !Array.isArray(s) ? (s as Doc) : {};
}

function subnetsOf(clusterSpec: Doc): SubnetSlot[] {
  const list = clusterSpec.subnets;
  if (!Array.isArray(list)) return [];
  return list.filter((s): s is Doc => typeof s === "object" && s !== null).map((s) => ({
    name: String(s.name ?? ""), type: String(s.type ?? ""),
    ...(typeof s.zone === "string" ? { zone: s.zone } : {}), ...(typeof s.cidr === "string" ? { cidr: s.cidr } : {}),
  }));
}

/**
 * Control-plane groups spread over `zones` round-robin, named as kops names them: by zone, with a
 * `-N` suffix on every group once some zone holds more than one (on DigitalOcean always).
 */
function controlPlanePlacements(zones: string[], count: number, cloud: string | undefined): { group: string; zone: string; member: string }[] {
  const suffixed = cloud === "digitalocean" ? count >= zones.length : count > zones.length;
  const groups = Array.from({ length: count }, (_, i) => {
    const zone = zones[i % zones.length]!;
    return { group: `control-plane-${zone}${suffixed ? `-${1 + Math.floor(i / zones.length)}` : ""}`, zone };
  });
  const members = memberNames(groups.map((g) => g.group));
  return groups.map((g, i) => ({ ...g, member: members[i]! }));
}

/**
 * etcd member names as kops gives them: the group names without `control-plane-`, shortened by
 * the prefix they all share (one character at a time, never below one), `etcd-` before a digit.
 */
function memberNames(groups: string[]): string[] {
  let names = groups.map((g) => g.replace(/^control-plane-/, "").replace(/^master-/, ""));
  while (names.length > 0 && names[0]!.length > 1) {
    const first = names[0]![0]!;
    if (!names.every((n) => n.startsWith(first))) break;
    names = names.map((n) => n.slice(1));
  }
  return names.map((n) => (/^[0-9]/.test(n) ? `etcd-${n}` : n));
}

/** The `spec.networking` field a `--networking` name sets, and what kops puts in it (setupNetworking). */
function networkingOf(name: string): { key: string; fields: Doc; noKubeProxy: boolean } {
  switch (name) {
    case "cilium": return { key: "cilium", fields: { enableNodePort: true }, noKubeProxy: true };
    case "cilium-etcd": return { key: "cilium", fields: { enableNodePort: true, etcdManaged: true }, noKubeProxy: true };
    case "cilium-eni": return { key: "cilium", fields: { enableNodePort: true, ipam: "eni" }, noKubeProxy: true };
    case "flannel": case "flannel-vxlan": return { key: "flannel", fields: { backend: "vxlan" }, noKubeProxy: false };
    case "flannel-udp": return { key: "flannel", fields: { backend: "udp" }, noKubeProxy: false };
    case "kube-router": return { key: "kubeRouter", fields: {}, noKubeProxy: true };
    case "amazonvpc": case "amazon-vpc-routed-eni": return { key: "amazonvpc", fields: {}, noKubeProxy: false };
    case "gce": case "gcp": return { key: "gce", fields: {}, noKubeProxy: false };
    case "kopeio": case "kopeio-vxlan": return { key: "kopeio", fields: {}, noKubeProxy: false };
    default: return { key: name, fields: {}, noKubeProxy: false };
  }
}

/** An etcd cluster's members as sorted `name=instanceGroup` pairs. */
function membersOf(etcd: Doc): string[] {
  const members = Array.isArray(etcd?.etcdMembers) ? (etcd.etcdMembers as Doc[]) : [];
  return members.map((m) => `${String(m?.name)}=${String(m?.instanceGroup)}`).sort();
}

/** `{store}/{name}`, as kops sets it (a local store as a plain path, as kops writes it). */
export function configBaseFor(storeUrl: string, name: string): string {
  const base = storeUrl.replace(/\/$/, "");
  return `${base.startsWith("file://") ? base.slice("file://".length) : base}/${name}`;
}

/** Sets `fields` under `spec` of a group in one of the two parts. */
function put(part: Record<string, Doc>, group: string, fields: Doc): void {
  const g = (part[group] ??= { spec: {} });
  Object.assign(g.spec as Doc, fields);
}

/**
 * Expands options into what kops would write for `kops create cluster NAME <flags>`, or, given
 * the stored cluster, what those flags change in it. `storedCloud` without `--cloud` keeps the
 * cluster's own cloud (a hetzner cluster may well keep its state on S3).
 */
export function expandOptions(name: string, storeUrl: string, o: ClusterOptions, stored?: StoredCluster): Expansion {
  const problems: OptionProblem[] = [];
  const refuse = (option: string, message: string) => problems.push({ option, message });
  const storedSpec = stored?.spec ?? {};
  const storedCloud = typeof storedSpec.cloudProvider === "string" ? storedSpec.cloudProvider : undefined;
  const storedSubnets = subnetsOf(storedSpec);
  const zonal = storedSubnets.filter((s) => s.type !== "Utility");
  const storedZones = [...new Set(zonal.map((s) => s.zone ?? s.name))];
  const storedTopology = zonal.length === 0 ? undefined : zonal.some((s) => s.type === "Private") ? "private" : "public";
  const storedNetwork = typeof storedSpec.networkCIDR === "string" ? storedSpec.networkCIDR : undefined;
  const storedEtcd = Array.isArray(storedSpec.etcdClusters) ? (storedSpec.etcdClusters as Doc[]).map((e) => String(e?.name)) : [];
  const groups = stored?.groups ?? new Map<string, Doc>();

  if (stored) {
    if (o.cloud !== undefined && storedCloud !== undefined && o.cloud !== storedCloud) {
      refuse("cloud", `the cluster runs on ${storedCloud}; kops cannot move a cluster to another cloud`);
    }
    if (o.networkCidr !== undefined && storedSubnets.length > 0 && o.networkCidr !== storedNetwork) {
      refuse("networkCidr", `the cluster's subnets are laid out in ${storedNetwork ?? "its network"}; changing the network CIDR of a cluster with subnets would leave them outside it (kops refuses that)`);
    }
    if (o.topology !== undefined && storedTopology !== undefined && o.topology !== storedTopology) {
      refuse("topology", `the cluster's topology is ${storedTopology}; kops cannot change the topology of an existing cluster`);
    }
    if (o.etcdClusters !== undefined && storedEtcd.length > 0 && JSON.stringify([...o.etcdClusters].sort()) !== JSON.stringify([...storedEtcd].sort())) {
      refuse("etcdClusters", `the cluster has etcd clusters ${storedEtcd.join(", ")}; adding or removing one is not done by create cluster`);
    }
  }

  const cloud = o.cloud ?? storedCloud ?? guessCloud(storeUrl);
  const topology = o.topology ?? storedTopology ?? "public";
  const priv = topology === "private";
  const newZones = (o.zones ?? []).filter((z) => !storedZones.includes(z));
  const zones = [...storedZones, ...newZones];

  // The control plane: laid out on create; on a stored cluster, the groups kops's expansion named.
  const isNew = stored === undefined;
  const cpZones = o.controlPlaneZones ?? (o.controlPlaneCount && o.controlPlaneCount > 1 ? zones : zones.slice(0, 1));
  const placements = cpZones.length > 0 ? controlPlanePlacements(cpZones, o.controlPlaneCount ?? cpZones.length, cloud) : [];
  const storedControlPlane = [...groups].filter(([n, g]) => CONTROL_PLANE_ROLES.has(String(spec(g).role)) && EXPANDED_CONTROL_PLANE.test(n)).map(([n]) => n).sort();
  if (!isNew && (o.controlPlaneZones !== undefined || o.controlPlaneCount !== undefined)) {
    const wanted = placements.map((p) => p.group).sort();
    if (JSON.stringify(wanted) !== JSON.stringify(storedControlPlane)) {
      refuse(o.controlPlaneCount !== undefined ? "controlPlaneCount" : "controlPlaneZones",
        `the cluster's control plane is ${storedControlPlane.join(", ") || "not laid out by kops"}; these options would make it ${wanted.join(", ")}, which changes etcd membership: add or remove control-plane groups by hand, as kops documents`);
    }
  }
  if (isNew && zones.length === 0 && (o.controlPlaneZones || o.controlPlaneCount || o.nodeCount !== undefined || o.bastion)) {
    refuse("zones", "required to create a cluster with controlPlaneZones, controlPlaneCount, nodeCount or bastion (on an existing cluster they apply to its zones)");
  }
  if (o.bastion && topology !== "private") refuse("bastion", `needs topology private (the cluster's is ${topology}); kops puts a bastion only in front of private subnets`);
  if (problems.length > 0) return { owned: { cluster: {}, instanceGroups: {} }, defaults: { cluster: {}, instanceGroups: {} }, problems, groups: [] };

  const owned: Doc = { metadata: { name }, spec: {} };
  const ownedSpec = owned.spec as Doc;
  const defaults: Doc = { spec: {} };
  const defaultSpec = defaults.spec as Doc;
  const ownedGroups: Record<string, Doc> = {};
  const defaultGroups: Record<string, Doc> = {};

  // The cluster's own fields.
  if (o.cloud) ownedSpec.cloudProvider = o.cloud;
  else if (cloud) defaultSpec.cloudProvider = cloud;
  defaultSpec.configBase = configBaseFor(storeUrl, name);
  if (o.kubernetesVersion) ownedSpec.kubernetesVersion = o.kubernetesVersion;
  if (o.channel) ownedSpec.channel = o.channel;
  const net = networkingOf(o.networking ?? "cilium");
  if (o.networking) ownedSpec.networking = { [net.key]: {} };
  if (o.networkCidr) ownedSpec.networkCIDR = o.networkCidr;
  if (o.adminAccess) ownedSpec.kubernetesApiAccess = o.adminAccess;
  if (o.sshAccess ?? o.adminAccess) ownedSpec.sshAccess = o.sshAccess ?? o.adminAccess;
  if (o.dnsZone) ownedSpec.dnsZone = o.dnsZone;
  if (o.project) ownedSpec.project = o.project;
  if (o.networkId) ownedSpec.networkID = o.networkId;
  if (o.dns) ownedSpec.topology = { dns: { type: o.dns === "public" ? "Public" : o.dns === "private" ? "Private" : "None" } };
  if (o.apiLoadBalancerType) ownedSpec.api = { loadBalancer: { type: o.apiLoadBalancerType === "internal" ? "Internal" : "Public" } };

  const dnsType = o.dns ? (o.dns === "public" ? "Public" : o.dns === "private" ? "Private" : "None") : o.dnsZone ? "Public" : "None";
  Object.assign(defaultSpec, {
    authorization: { rbac: {} },
    channel: "stable",
    iam: { allowContainerRegistry: true, legacy: false },
    kubelet: { anonymousAuth: false },
    kubernetesApiAccess: ["0.0.0.0/0", "::/0"],
    sshAccess: ["0.0.0.0/0", "::/0"],
    nonMasqueradeCIDR: "100.64.0.0/10",
    topology: { dns: { type: dnsType } },
  });
  defaultSpec.networking = { [net.key]: net.fields };
  if (net.noKubeProxy) defaultSpec.kubeProxy = { enabled: false };
  const network = o.networkCidr ?? storedNetwork ?? (cloud ? DEFAULT_NETWORK_CIDR[cloud] : undefined);
  if (cloud === "aws") {
    defaultSpec.networkCIDR = network;
    // The Amazon VPC CNI gives pods addresses of the network itself.
    if (net.key === "amazonvpc" && network) defaultSpec.nonMasqueradeCIDR = network;
  }
  // The API: a load balancer, except for a public cluster with DNS (kops's setupAPI).
  const balanced = o.apiLoadBalancerType !== undefined || topology === "private" || dnsType === "None";
  defaultSpec.api = balanced
    ? { loadBalancer: { ...(cloud === "aws" ? { class: "Network" } : {}), type: o.apiLoadBalancerType === "internal" ? "Internal" : "Public" } }
    : { dns: {} };
  if (dnsType === "Public") defaultSpec.masterPublicName = `api.${name}`;

  // Subnets of new zones (named by --zones), with the CIDRs kops would give them.
  const newSubnets: SubnetSlot[] = newZones.map((zone) => ({ name: zone, type: priv ? "Private" : "Public", zone }));
  if (priv) newSubnets.push(...newZones.map((zone) => ({ name: `utility-${zone}`, type: "Utility", zone })));
  // --zones names the subnets of the zones it lists: those there already keep their type.
  // In kops's order: the stored ones as stored, then new zonal subnets, then new utility ones.
  const listed = [...storedSubnets, ...newSubnets].filter((s) => (o.zones ?? []).includes(s.zone ?? s.name)).map((s) => ({ ...s, zone: s.zone ?? s.name }));
  // On DigitalOcean a subnet is a region, and says so.
  if (listed.length > 0) ownedSpec.subnets = listed.map((s) => ({ name: s.name, type: s.type, zone: s.zone, ...(cloud === "digitalocean" ? { region: s.zone } : {}) }));
  if (newSubnets.length > 0) {
    if (cloud && ASSIGNS_CIDRS.has(cloud) && network) {
      const assigned = assignSubnetCidrs(network, [...storedSubnets, ...newSubnets]);
      if ("error" in assigned) {
        refuse("zones", `cannot add ${newZones.join(", ")}: ${assigned.error}; give the new subnet a CIDR of your own with kstate edit cluster (kops would need the same)`);
        return { owned: { cluster: {}, instanceGroups: {} }, defaults: { cluster: {}, instanceGroups: {} }, problems, groups: [] };
      }
      defaultSpec.subnets = newSubnets.map((s) => ({ name: s.name, cidr: assigned.cidrs.get(s.name) }));
    }
  }
  const ids = (list: string[] | undefined, prefix: string) => {
    if (!list) return [];
    return zones.map((zone, i) => (list[i] ? { name: `${prefix}${zone}`, id: list[i] } : undefined)).filter((s) => s !== undefined);
  };
  const withIds = [...ids(o.subnetIds, ""), ...ids(o.utilitySubnetIds, "utility-")];
  if (withIds.length > 0) {
    const byName = new Map(((ownedSpec.subnets as Doc[] | undefined) ?? []).map((s) => [String(s.name), s]));
    for (const s of withIds) byName.set(s.name, { ...(byName.get(s.name) ?? { name: s.name }), id: s.id });
    ownedSpec.subnets = [...byName.values()];
  }

  // Groups: `nodes-<zone>` for every zone (those that exist, and those of new zones).
  const nodeGroups = zones.map((z) => `nodes-${z}`).filter((g, i) => groups.has(g) || (o.zones ?? []).includes(zones[i]!));
  const cpGroups = isNew ? placements.map((p) => p.group) : storedControlPlane;
  const sibling = (names: string[]) => names.map((n) => groups.get(n)).find((g) => g !== undefined);
  const fromSibling = (names: string[]) => {
    const s = spec(sibling(names));
    const out: Doc = {};
    for (const k of ["machineType", "image", "rootVolumeSize"]) if (s[k] !== undefined) out[k] = s[k];
    return out;
  };
  const defaultMachine = cloud ? DEFAULT_MACHINE[cloud] : undefined;
  const created = (g: string) => !groups.has(g);

  nodeGroups.forEach((g, i) => {
    const zone = g.slice("nodes-".length);
    if (o.zones?.includes(zone)) put(ownedGroups, g, { role: "Node", subnets: [zone] });
    if (created(g)) {
      // Without --node-count kops gives each zone one node.
      put(defaultGroups, g, {
        minSize: 1, maxSize: 1,
        ...(defaultMachine ? { machineType: defaultMachine.node } : {}), ...fromSibling(nodeGroups.filter((n) => !created(n))),
        nodeLabels: { "kops.k8s.io/instancegroup": g },
      });
    }
    if (o.nodeCount !== undefined) {
      const share = Math.floor(o.nodeCount / nodeGroups.length) + (i < o.nodeCount % nodeGroups.length ? 1 : 0);
      put(ownedGroups, g, { minSize: share, maxSize: share });
    }
  });
  if (o.nodeCount !== undefined && nodeGroups.length === 0) {
    refuse("nodeCount", `the cluster has no nodes-<zone> groups for the count to be shared over; size groups one by one (kstate edit ig)`);
  }

  // Re-applied, the options that laid the control plane out name it again (so a program's second
  // `up` is no change); options that do not lay it out leave it alone.
  const laysOut = o.zones !== undefined || o.controlPlaneZones !== undefined || o.controlPlaneCount !== undefined;
  const sameControlPlane = !isNew && laysOut && placements.length > 0 && JSON.stringify(placements.map((p) => p.group).sort()) === JSON.stringify(storedControlPlane)
    && storedEtcd.length > 0 && (storedSpec.etcdClusters as Doc[]).every((e) => JSON.stringify(membersOf(e)) === JSON.stringify(placements.map((p) => `${p.member}=${p.group}`).sort()));
  if (isNew || sameControlPlane) {
    for (const p of placements) {
      put(ownedGroups, p.group, { role: "Master", minSize: 1, maxSize: 1, subnets: [p.zone] });
      put(defaultGroups, p.group, { ...(defaultMachine ? { machineType: defaultMachine.controlPlane } : {}), nodeLabels: { "kops.k8s.io/instancegroup": p.group } });
    }
    const etcd = isNew ? [...(o.etcdClusters ?? ["main", "events"]), ...(o.networking === "cilium-etcd" ? ["cilium"] : [])] : storedEtcd;
    ownedSpec.etcdClusters = etcd.map((e) => ({ name: e, etcdMembers: placements.map((p) => ({ name: p.member, instanceGroup: p.group })) }));
    if (isNew) defaultSpec.etcdClusters = etcd.map((e) => ({
      name: e,
      cpuRequest: e === "main" ? "200m" : "100m",
      memoryRequest: "100Mi",
      manager: { backupRetentionDays: 90 },
      ...(cloud === "aws" ? { etcdMembers: placements.map((p) => ({ name: p.member, encryptedVolume: true })) } : {}),
    }));
  }

  if (o.bastion) {
    if (created("bastions")) {
      put(ownedGroups, "bastions", { role: "Bastion", minSize: 1, maxSize: 1, subnets: zones });
      put(defaultGroups, "bastions", { ...(defaultMachine ? { machineType: defaultMachine.bastion } : {}), nodeLabels: { "kops.k8s.io/instancegroup": "bastions" } });
    }
    if (o.image) put(ownedGroups, "bastions", { image: o.image });
  }

  // Role-wide settings reach the groups kops's expansion names, never one added by hand.
  const roleFields = (sizes: string | string[] | undefined, image: string | undefined, volume: number | undefined): Doc => {
    const types = machineTypes(sizes);
    const out: Doc = {};
    if (types.length > 0) out.machineType = types[0];
    // Several types make a mixed-instances policy, on AWS only (elsewhere kops keeps the first).
    if (types.length > 1 && cloud === "aws") out.mixedInstancesPolicy = { instances: types };
    if (image) out.image = image;
    if (volume !== undefined) out.rootVolumeSize = volume;
    return out;
  };
  const nodeFields = roleFields(o.nodeSize, o.nodeImage ?? o.image, o.nodeVolumeSize);
  const cpFields = roleFields(o.controlPlaneSize, o.controlPlaneImage ?? o.image, o.controlPlaneVolumeSize);
  if (Object.keys(nodeFields).length > 0) for (const g of nodeGroups) put(ownedGroups, g, nodeFields);
  if (Object.keys(cpFields).length > 0) for (const g of cpGroups) put(ownedGroups, g, cpFields);
  if (problems.length > 0) return { owned: { cluster: {}, instanceGroups: {} }, defaults: { cluster: {}, instanceGroups: {} }, problems, groups: [] };

  const known = [...nodeGroups, ...cpGroups, ...(o.bastion || groups.has("bastions") ? ["bastions"] : [])];
  return { owned: { cluster: owned, instanceGroups: ownedGroups }, defaults: { cluster: defaults, instanceGroups: defaultGroups }, problems, groups: known };
}

/**
 * Fields options write (as opposed to a program's own `spec` and `instanceGroups`): when options
 * stop naming one, its value stays, as a kops flag that is not given changes nothing.
 */
export function isOptionField(file: string, path: string): boolean {
  return file === "config"
    ? /^spec\.((subnets|etcdClusters)\[|(cloudProvider|kubernetesVersion|channel|networking|networkCIDR|kubernetesApiAccess|sshAccess|dnsZone|project|networkID|topology|api)(\.|\[|$))/.test(path)
    : /^spec\.(role|subnets|minSize|maxSize|machineType|mixedInstancesPolicy|image|rootVolumeSize)(\.|\[|$)/.test(path);
}
