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
 * | zones | for each zone the cluster does not have yet: its subnet (and utility subnet when private), its `nodes-<zone>` group; on create also the control plane and etcd members. Never removes a zone. The subnet is the zone's own, or on GCE its region's and on Azure the cluster's one (cloud-layout.ts). |
 * | nodeCount | minSize and maxSize of the `nodes-<zone>` groups, the count shared out over them |
 * | nodeSize | machineType (and with several types a mixed-instances policy) of the `nodes-<zone>` groups, never a group added by hand |
 * | controlPlaneSize | machineType of the `control-plane-<zone>` (or older `master-<zone>`) groups |
 * | image, nodeImage, controlPlaneImage | image of those same groups |
 * | nodeVolumeSize, controlPlaneVolumeSize | rootVolumeSize of those same groups |
 * | controlPlaneZones, controlPlaneCount | the control plane: on create only; on a cluster whose control plane differs they are refused (etcd membership) |
 * | bastion | a `bastions` group |
 * | kubernetesVersion, channel, networking, dnsZone, project, networkId | the one spec field each (networking on GCE with IP aliases also nonMasqueradeCIDR, podCIDR, serviceClusterIPRange) |
 * | azureSubscriptionId | spec.cloudConfig.azure.subscriptionId, on Azure |
 * | adminAccess | spec.kubernetesApiAccess (and spec.sshAccess unless sshAccess is given) |
 * | sshAccess | spec.sshAccess |
 * | dns | spec.topology.dns.type |
 * | apiLoadBalancerType | spec.api.loadBalancer.type |
 * | subnetIds, utilitySubnetIds | the id of each zone's subnet, in zone order |
 * | cloud, networkCidr, topology, etcdClusters | on create only: on an existing cluster another value is refused |
 */
import { configBaseOf } from "../store/layout";
import { type CloudLayout, cloudSpecDefaults, fallbackImage, gceAssignments, layoutOf, type SubnetPlace, subnetOf } from "./cloud-layout";
import { mergeOverlay } from "./merge";
import { fieldOptionCloudProblems, isFieldOptionPath, optionFields } from "./option-fields";
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

const CONTROL_PLANE_ROLES = new Set(["Master", "ControlPlane"]);
const EXPANDED_CONTROL_PLANE = /^(control-plane|master)-/;

function spec(d: Doc | undefined): Doc {
  const s = d?.spec;
  return typeof s === "object" && s !== null && !Array.isArray(s) ? (s as Doc) : {};
}

/** A subnet as stored or laid out: where it is (zone, region) and what kops gave it. */
type Subnet = SubnetSlot & { region?: string; id?: string };

function subnetsOf(clusterSpec: Doc): Subnet[] {
  const list = clusterSpec.subnets;
  if (!Array.isArray(list)) return [];
  return list.filter((s): s is Doc => typeof s === "object" && s !== null).map((s) => ({
    name: String(s.name ?? ""), type: String(s.type ?? ""),
    ...(typeof s.zone === "string" ? { zone: s.zone } : {}), ...(typeof s.region === "string" ? { region: s.region } : {}),
    ...(typeof s.cidr === "string" ? { cidr: s.cidr } : {}), ...(typeof s.id === "string" ? { id: s.id } : {}),
  }));
}

/** The zones groups name (`spec.zones`), where subnets do not say them (GCE, Azure), sorted as kops lists them. */
function zonesOfGroups(groups: ReadonlyMap<string, Doc>): string[] {
  const zones = [...groups.values()].flatMap((g) => {
    const z = spec(g).zones;
    return Array.isArray(z) ? z.filter((x): x is string => typeof x === "string") : [];
  });
  return [...new Set(zones)].sort();
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

/**
 * The ids `--subnets` and `--utility-subnets` give, by subnet name. Per zone, in the order of the
 * zones; on GCE the one id goes to the regional subnet (kops takes exactly one, and GCE has no
 * utility subnets); on Azure kops does not use them at all.
 */
function subnetIds(layout: CloudLayout, subnetsOfZones: string[], o: ClusterOptions): { list: { name: string; id: string }[] } | { option: string; error: string } {
  if (layout.subnetScope === "cluster") {
    const option = o.subnetIds ? "subnetIds" : o.utilitySubnetIds ? "utilitySubnetIds" : undefined;
    if (option) return { option, error: "kops does not use existing subnets on Azure (it lays out one subnet for the cluster); set that subnet's id with kstate edit cluster" };
    return { list: [] };
  }
  if (layout.subnetScope === "region") {
    if (o.utilitySubnetIds) return { option: "utilitySubnetIds", error: "GCE has no utility subnets (kops lays out none there)" };
    if (!o.subnetIds) return { list: [] };
    if (o.subnetIds.length !== 1) return { option: "subnetIds", error: `GCE's subnets are regional: kops takes exactly one, for the region's subnet (got ${o.subnetIds.length})` };
    return { list: [...new Set(subnetsOfZones)].map((name) => ({ name, id: o.subnetIds![0]! })) };
  }
  const perZone = (list: string[] | undefined, prefix: string) =>
    list ? subnetsOfZones.flatMap((subnet, i) => (list[i] ? [{ name: `${prefix}${subnet}`, id: list[i]! }] : [])) : [];
  return { list: [...perZone(o.subnetIds, ""), ...perZone(o.utilitySubnetIds, "utility-")] };
}

/** The keys of spec.networking that are network plugins (one per cluster). */
const NETWORK_PLUGINS = new Set(["cilium", "calico", "flannel", "kuberouter", "amazonvpc", "gce", "kopeio", "kindnet", "kubenet", "external", "cni", "canal", "weave", "romana", "lyftvpc", "classic"]);

/** The `spec.networking` field a `--networking` name sets, and what kops puts in it (setupNetworking). */
function networkingOf(name: string): { key: string; fields: Doc; noKubeProxy: boolean } {
  switch (name) {
    case "cilium": return { key: "cilium", fields: { enableNodePort: true }, noKubeProxy: true };
    case "cilium-etcd": return { key: "cilium", fields: { enableNodePort: true, etcdManaged: true }, noKubeProxy: true };
    case "cilium-eni": return { key: "cilium", fields: { enableNodePort: true, ipam: "eni" }, noKubeProxy: true };
    case "flannel": case "flannel-vxlan": return { key: "flannel", fields: { backend: "vxlan" }, noKubeProxy: false };
    case "flannel-udp": return { key: "flannel", fields: { backend: "udp" }, noKubeProxy: false };
    case "kube-router": return { key: "kuberouter", fields: {}, noKubeProxy: true };
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

/** An expansion that writes nothing: the options cannot apply, for `problems`. */
function refused(problems: OptionProblem[]): Expansion {
  return { owned: { cluster: {}, instanceGroups: {} }, defaults: { cluster: {}, instanceGroups: {} }, problems, groups: [] };
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
  const groups = stored?.groups ?? new Map<string, Doc>();
  const cloud = o.cloud ?? storedCloud ?? guessCloud(storeUrl);
  const layout = layoutOf(cloud);
  const zonal = storedSubnets.filter((s) => s.type !== "Utility");
  // A subnet of a zone names it; a regional one (GCE) or the cluster's one (Azure) does not, and
  // there the groups name the zones.
  const storedZones = layout.subnetScope === "zone" ? [...new Set(zonal.map((s) => s.zone ?? s.name))] : zonesOfGroups(groups);
  const storedTopology = zonal.length === 0 ? undefined : zonal.some((s) => s.type === "Private") ? "private" : "public";
  const storedNetwork = typeof storedSpec.networkCIDR === "string" ? storedSpec.networkCIDR : undefined;
  const storedEtcd = Array.isArray(storedSpec.etcdClusters) ? (storedSpec.etcdClusters as Doc[]).map((e) => String(e?.name)) : [];

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

  // kops's 0 for a count or a size means "not given".
  if (o.nodeCount === 0 || o.nodeVolumeSize === 0 || o.controlPlaneVolumeSize === 0) {
    o = { ...o };
    if (o.nodeCount === 0) delete o.nodeCount;
    if (o.nodeVolumeSize === 0) delete o.nodeVolumeSize;
    if (o.controlPlaneVolumeSize === 0) delete o.controlPlaneVolumeSize;
  }
  if (stored) {
    const plugins = typeof storedSpec.networking === "object" && storedSpec.networking !== null ? Object.keys(storedSpec.networking as Doc).filter((k) => NETWORK_PLUGINS.has(k)) : [];
    const wanted = o.networking !== undefined ? networkingOf(o.networking).key : undefined;
    if (wanted !== undefined && plugins.length > 0 && !plugins.includes(wanted)) {
      refuse("networking", `the cluster runs ${plugins.join(", ")}; changing the network plugin of an existing cluster is a migration kops does not do from create cluster (edit spec.networking by hand if you mean it)`);
    }
    const storedNetworkId = typeof storedSpec.networkID === "string" ? storedSpec.networkID : undefined;
    if (o.networkId !== undefined && o.networkId !== storedNetworkId) {
      refuse("networkId", `the cluster runs in ${storedNetworkId !== undefined ? `network ${storedNetworkId}` : "the network kops made for it"}; kops cannot move a cluster to another network`);
    }
    // cilium-etcd on a cilium cluster adds an etcd cluster: not done by create cluster.
    const cilium = (storedSpec.networking as Doc | undefined)?.cilium as Doc | undefined;
    if (o.networking === "cilium-etcd" && cilium && cilium.etcdManaged !== true) {
      refuse("networking", "cilium-etcd adds an etcd cluster for cilium; adding an etcd cluster to an existing cluster is not done by create cluster");
    }
    if (o.bastion === false && groups.has("bastions")) {
      refuse("bastion", "the cluster has a bastions group; false does not remove it (delete the group itself if you mean to)");
    }
  }
  if (stored === undefined && o.networkId !== undefined && o.networkCidr === undefined && layout.cidrs === "network") {
    refuse("networkId", "goes with networkCidr here: kops reads an existing network's CIDR from the cloud, which kstate never calls (give the network's CIDR)");
  }

  const topology = o.topology ?? storedTopology ?? "public";
  const priv = topology === "private";
  if (o.utilitySubnetIds && !priv) refuse("utilitySubnetIds", "goes with topology private (utility subnets exist only there)");
  const newZones = (o.zones ?? []).filter((z) => !storedZones.includes(z));
  const zones = [...storedZones, ...newZones];
  if (layout.singleZone && zones.length > 1) refuse("zones", `${cloud} clusters take one ${cloud === "hetzner" ? "location" : "region"} (kops's setupZones); this would make ${zones.join(", ")}`);

  // The control plane: laid out on create; on a stored cluster, the groups kops's expansion named.
  const isNew = stored === undefined;
  const cpZones = o.controlPlaneZones ?? (o.controlPlaneCount && o.controlPlaneCount > 1 ? zones : zones.slice(0, 1));
  const placements = cpZones.length > 0 ? controlPlanePlacements(cpZones, o.controlPlaneCount ?? cpZones.length, cloud) : [];
  const storedControlPlane = [...groups].filter(([n, g]) => CONTROL_PLANE_ROLES.has(String(spec(g).role)) && EXPANDED_CONTROL_PLANE.test(n)).map(([n]) => n).sort();
  if (!isNew && (o.controlPlaneZones !== undefined || o.controlPlaneCount !== undefined)) {
    const wanted = placements.map((p) => p.group).sort();
    // The same count in the same zones is the same control plane, whatever its groups are called.
    const zoneOfGroup = (g: string) => {
      const gs = spec(groups.get(g));
      const zonesOf = Array.isArray(gs.zones) ? (gs.zones as string[]) : [];
      const subnet = Array.isArray(gs.subnets) ? storedSubnets.find((s) => s.name === (gs.subnets as string[])[0]) : undefined;
      return zonesOf[0] ?? subnet?.zone ?? subnet?.name ?? "";
    };
    const sameZones = JSON.stringify(placements.map((p) => p.zone).sort()) === JSON.stringify(storedControlPlane.map(zoneOfGroup).sort());
    if (!sameZones) {
      refuse(o.controlPlaneCount !== undefined ? "controlPlaneCount" : "controlPlaneZones",
        `the cluster's control plane is ${storedControlPlane.join(", ") || "not laid out by kops"}; these options would make it ${wanted.join(", ")}, which changes etcd membership: add or remove control-plane groups by hand, as kops documents`);
    }
  }
  if (isNew && zones.length === 0 && (o.controlPlaneZones || o.controlPlaneCount || o.nodeCount !== undefined || o.bastion)) {
    refuse("zones", "required to create a cluster with controlPlaneZones, controlPlaneCount, nodeCount or bastion (on an existing cluster they apply to its zones)");
  }
  if (o.bastion && topology !== "private") refuse("bastion", `needs topology private (the cluster's is ${topology}); kops puts a bastion only in front of private subnets`);
  // The subnet each zone's groups go in; a zone the options give that kops cannot place is refused.
  const places = new Map<string, SubnetPlace>();
  for (const zone of new Set([...zones, ...cpZones])) {
    const place = subnetOf(layout, zone, name);
    if (!("error" in place)) places.set(zone, place);
    else if (o.zones?.includes(zone) || o.controlPlaneZones?.includes(zone)) refuse(o.zones?.includes(zone) ? "zones" : "controlPlaneZones", `${place.error}, so kops has no subnet to put it in`);
  }
  // A zone already there keeps the subnet it has, even one renamed by hand.
  const storedPlace = (zone: string) => (layout.subnetScope === "zone" ? zonal.find((s) => (s.zone ?? s.name) === zone) : undefined);
  const placeOf = (zone: string): SubnetPlace => {
    const kept = storedPlace(zone);
    return kept ? { name: kept.name, zone } : places.get(zone) ?? { name: zone, zone };
  };
  if (problems.length > 0) return refused(problems);

  const owned: Doc = { metadata: { name }, spec: {} };
  const ownedSpec = owned.spec as Doc;
  const defaults: Doc = { spec: {} };
  const defaultSpec = defaults.spec as Doc;
  const ownedGroups: Record<string, Doc> = {};
  const defaultGroups: Record<string, Doc> = {};

  // The cluster's own fields.
  if (o.cloud) ownedSpec.cloudProvider = o.cloud;
  else if (cloud) defaultSpec.cloudProvider = cloud;
  defaultSpec.configBase = configBaseOf(`${storeUrl.replace(/\/$/, "")}/${name}`);
  if (o.kubernetesVersion) ownedSpec.kubernetesVersion = o.kubernetesVersion;
  if (o.channel) ownedSpec.channel = o.channel;
  const net = networkingOf(o.networking ?? "cilium");
  if (o.networking) ownedSpec.networking = { [net.key]: {} };
  if (o.networkCidr) ownedSpec.networkCIDR = o.networkCidr;
  if (o.adminAccess) ownedSpec.kubernetesApiAccess = o.adminAccess;
  if (o.sshAccess) ownedSpec.sshAccess = o.sshAccess;
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
  // kops's SSH access follows the API's unless given (a default: on an existing cluster
  // --admin-access names only kubernetesApiAccess).
  if (!o.sshAccess && o.adminAccess) defaultSpec.sshAccess = o.adminAccess;
  defaultSpec.networking = { [net.key]: net.fields };
  if (net.noKubeProxy) defaultSpec.kubeProxy = { enabled: false };
  const network = o.networkCidr ?? storedNetwork ?? layout.networkCidr;
  if (layout.networkCidr !== undefined) defaultSpec.networkCIDR = network;
  // The Amazon VPC CNI gives pods addresses of the network itself.
  if (cloud === "aws" && net.key === "amazonvpc" && network) defaultSpec.nonMasqueradeCIDR = network;
  // The API: a load balancer, except for a public cluster with DNS (kops's setupAPI).
  // A gossip name (.k8s.local) cannot be resolved outside the cluster: kops balances it too.
  const gossip = name.endsWith(".k8s.local");
  const balanced = o.apiLoadBalancerType !== undefined || o.apiSslCertificate !== undefined || topology === "private" || dnsType === "None" || gossip;
  defaultSpec.api = balanced
    ? { loadBalancer: { ...(layout.aws ? { class: "Network" } : {}), type: o.apiLoadBalancerType === "internal" ? "Internal" : "Public" } }
    : { dns: {} };
  if (dnsType === "Public" && !gossip) defaultSpec.masterPublicName = `api.${name}`;
  Object.assign(defaultSpec, cloudSpecDefaults(cloud, { cluster: name, apiLoadBalancer: o.apiLoadBalancerType !== undefined }));
  // kops reads the subscription from AZURE_SUBSCRIPTION_ID (or --azure-subscription-id), on Azure only.
  if (cloud === "azure" && o.azureSubscriptionId) ownedSpec.cloudConfig = { azure: { subscriptionId: o.azureSubscriptionId } };
  if (cloud === "openstack") {
    const openstack = openstackFields(o);
    if (Object.keys(openstack).length > 0) ownedSpec.cloudConfig = { openstack };
  }

  // Subnets of new zones (named by --zones), with the CIDRs kops would give them: a zone's own, its
  // region's (GCE) or the cluster's one (Azure), with a utility subnet beside each private one.
  const storedNames = new Set(storedSubnets.map((s) => s.name));
  const newSubnets: Subnet[] = [];
  for (const zone of [...newZones].sort()) {
    const place = placeOf(zone);
    if (!storedNames.has(place.name) && !newSubnets.some((s) => s.name === place.name)) newSubnets.push({ ...place, type: priv ? "Private" : "Public" });
  }
  if (priv && layout.utilitySubnets) newSubnets.push(...newSubnets.map((s) => ({ ...s, name: `utility-${s.name}`, type: "Utility" })));
  // --zones names the subnets of the zones it lists: those there already keep their type.
  // In kops's order: the stored ones as stored, then new zonal subnets, then new utility ones.
  const listedNames = new Set((o.zones ?? []).map((z) => placeOf(z).name));
  const isListed = (s: Subnet) => (layout.subnetScope === "zone" ? (o.zones ?? []).includes(s.zone ?? s.name) : listedNames.has(s.type === "Utility" ? s.name.replace(/^utility-/, "") : s.name));
  const listed = [...storedSubnets, ...newSubnets].filter(isListed);
  const located = (s: Subnet): Doc => {
    if (layout.subnetScope !== "zone") return s.region !== undefined ? { region: s.region } : {};
    const zone = s.zone ?? s.name;
    const region = layout.region?.(zone);
    return { zone, ...(region !== undefined ? { region } : {}) };
  };
  if (listed.length > 0) ownedSpec.subnets = listed.map((s) => ({ name: s.name, type: s.type, ...located(s) }));
  // Subnet ids go in the order of the zones given (all of the cluster's on create).
  const idZones = o.zones ?? zones;
  for (const option of ["subnetIds", "utilitySubnetIds"] as const) {
    const list = o[option];
    if (list && layout.subnetScope === "zone" && list.length !== idZones.length) refuse(option, `gives ${list.length} subnet id${list.length === 1 ? "" : "s"} for ${idZones.length} zone${idZones.length === 1 ? "" : "s"} (${idZones.join(", ")}); give one per zone, in the order of zones`);
  }
  const ids = subnetIds(layout, idZones.map((z) => placeOf(z).name), o);
  if (!isNew && "list" in ids) {
    // Pointing a subnet that is there at another cloud subnet moves it: kops cannot.
    for (const { name: subnet, id } of ids.list) {
      const was = (Array.isArray(storedSpec.subnets) ? (storedSpec.subnets as Doc[]) : []).find((x) => x?.name === subnet);
      if (was && was.id !== id) refuse(o.utilitySubnetIds && subnet.startsWith("utility-") ? "utilitySubnetIds" : "subnetIds", `subnet ${subnet} is there${typeof was.id === "string" ? ` as ${was.id}` : ", laid out by kops"}; giving it another id would move it, which kops cannot do (ids go with new zones)`);
    }
  }
  if ("error" in ids) {
    refuse(ids.option, ids.error);
    return refused(problems);
  }
  if (newSubnets.length > 0 && layout.cidrs === "network" && network) {
    const assigned = assignSubnetCidrs(network, [...storedSubnets, ...newSubnets]);
    if ("error" in assigned) {
      refuse("zones", `cannot add ${newZones.join(", ")}: ${assigned.error}; give the new subnet a CIDR of your own with kstate edit cluster (kops would need the same)`);
      return refused(problems);
    }
    defaultSpec.subnets = newSubnets.map((s) => ({ name: s.name, cidr: assigned.cidrs.get(s.name) }));
  }
  if (layout.cidrs === "gce") {
    const withIds = new Map(ids.list.map((s) => [s.name, s.id]));
    const all = [...storedSubnets, ...newSubnets].map((s) => ({ ...s, ...(withIds.has(s.name) ? { id: withIds.get(s.name) } : {}) }));
    const inForce = o.networking || isNew ? { [net.key]: {} } : storedSpec.networking;
    const networking = typeof inForce === "object" && inForce !== null ? Object.keys(inForce) : [];
    const gce = gceAssignments(storedSpec, all, new Set(newSubnets.map((s) => s.name)), networking);
    if ("error" in gce) {
      refuse(o.networking ? "networking" : "zones", gce.error);
      return refused(problems);
    }
    if (gce.subnets.length > 0) defaultSpec.subnets = gce.subnets;
    // The ranges are --networking's when it is given (it names them), else kops's defaults.
    Object.assign(o.networking ? ownedSpec : defaultSpec, gce.ranges);
  }
  if (ids.list.length > 0) {
    const byName = new Map(((ownedSpec.subnets as Doc[] | undefined) ?? []).map((s) => [String(s.name), s]));
    for (const s of ids.list) byName.set(s.name, { ...(byName.get(s.name) ?? { name: s.name }), id: s.id });
    ownedSpec.subnets = [...byName.values()];
  }

  // Groups: `nodes-<zone>` for every zone (those that exist, and those of new zones).
  // A group deleted by hand stays deleted; only a new zone brings a new group.
  const nodeGroups = zones.map((z) => `nodes-${z}`).filter((g, i) => groups.has(g) || newZones.includes(zones[i]!));
  const cpGroups = isNew ? placements.map((p) => p.group) : storedControlPlane;
  const sibling = (names: string[]) => names.map((n) => groups.get(n)).find((g) => g !== undefined);
  const fromSibling = (names: string[]) => {
    const s = spec(sibling(names));
    const out: Doc = {};
    for (const k of ["machineType", "mixedInstancesPolicy", "image", "rootVolumeSize"]) if (s[k] !== undefined) out[k] = s[k];
    return out;
  };
  // The siblings a new worker group copies: kops's nodes-<zone> groups, else an older single `nodes`.
  const nodeSiblings = [...nodeGroups.filter((n) => groups.has(n)), "nodes"];
  // Without --image, kops's image where the channel names none (kstate does not read the channel).
  const imageDefault = fallbackImage(layout, o.kubernetesVersion ?? (typeof storedSpec.kubernetesVersion === "string" ? storedSpec.kubernetesVersion : undefined));
  const anyImage = () => [...groups.values()].map((g) => spec(g).image).find((i) => typeof i === "string") as string | undefined;
  const defaultMachine = layout.machines;
  // Where a zone's groups go: its subnet, and on GCE and Azure the zone itself.
  const placed = (zone: string): Doc => ({ subnets: [placeOf(zone).name], ...(layout.groupZones ? { zones: [zone] } : {}) });
  const created = (g: string) => !groups.has(g);

  nodeGroups.forEach((g, i) => {
    const zone = g.slice("nodes-".length);
    if (o.zones?.includes(zone)) put(ownedGroups, g, { role: "Node", ...placed(zone) });
    if (created(g)) {
      // Without --node-count kops gives each zone one node.
      put(defaultGroups, g, {
        minSize: 1, maxSize: 1,
        ...(defaultMachine ? { machineType: defaultMachine.node } : {}), ...(imageDefault ? { image: imageDefault } : {}), ...fromSibling(nodeSiblings),
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
      put(ownedGroups, p.group, { role: "Master", minSize: 1, maxSize: 1, ...placed(p.zone) });
      put(defaultGroups, p.group, { ...(defaultMachine ? { machineType: defaultMachine.controlPlane } : {}), ...(imageDefault ? { image: imageDefault } : {}), nodeLabels: { "kops.k8s.io/instancegroup": p.group } });
    }
    const etcd = isNew ? [...(o.etcdClusters ?? ["main", "events"]), ...(o.networking === "cilium-etcd" ? ["cilium"] : [])] : storedEtcd;
    ownedSpec.etcdClusters = etcd.map((e) => ({ name: e, etcdMembers: placements.map((p) => ({ name: p.member, instanceGroup: p.group })) }));
    if (isNew) defaultSpec.etcdClusters = etcd.map((e) => ({
      name: e,
      cpuRequest: e === "main" ? "200m" : "100m",
      memoryRequest: "100Mi",
      manager: { backupRetentionDays: 90 },
      ...(layout.aws ? { etcdMembers: placements.map((p) => ({ name: p.member, encryptedVolume: true })) } : {}),
    }));
  }

  if (o.bastion) {
    if (created("bastions")) {
      // kops puts bastions in every subnet that is not a utility one; on GCE it also lists every zone.
      const everyZone = [...new Set([...zones, ...cpZones])].sort();
      put(ownedGroups, "bastions", { role: "Bastion", minSize: 1, maxSize: 1, subnets: [...new Set(zones.map((z) => placeOf(z).name))], ...(layout.bastionZones ? { zones: everyZone } : {}) });
      const bastionImage = imageDefault ?? anyImage();
      put(defaultGroups, "bastions", { ...(defaultMachine ? { machineType: defaultMachine.bastion } : {}), ...(bastionImage ? { image: bastionImage } : {}), nodeLabels: { "kops.k8s.io/instancegroup": "bastions" } });
    }
  }
  // --image is every group's image kops lays out, the bastions included.
  if (o.image && (o.bastion || groups.has("bastions"))) put(ownedGroups, "bastions", { image: o.image });

  // Role-wide settings reach the groups kops's expansion names, never one added by hand.
  const roleFields = (sizes: string | string[] | undefined, image: string | undefined, volume: number | undefined): Doc => {
    const types = machineTypes(sizes);
    const out: Doc = {};
    if (types.length > 0) out.machineType = types[0];
    // Several types make a mixed-instances policy, on AWS only (elsewhere kops keeps the first).
    if (types.length > 1 && layout.aws) out.mixedInstancesPolicy = { instances: types };
    if (image) out.image = image;
    if (volume !== undefined) out.rootVolumeSize = volume;
    return out;
  };
  const nodeFields = roleFields(o.nodeSize, o.nodeImage ?? o.image, o.nodeVolumeSize);
  const cpFields = roleFields(o.controlPlaneSize, o.controlPlaneImage ?? o.image, o.controlPlaneVolumeSize);
  // One machine type for a group that has a mixed-instances policy: the policy runs that one too.
  const withPolicy = (g: string, fields: Doc): Doc => (fields.machineType !== undefined && fields.mixedInstancesPolicy === undefined && spec(groups.get(g)).mixedInstancesPolicy !== undefined
    ? { ...fields, mixedInstancesPolicy: { instances: [fields.machineType] } } : fields);
  for (const [fields, names, option] of [[nodeFields, nodeGroups, o.nodeSize !== undefined ? "nodeSize" : o.nodeVolumeSize !== undefined ? "nodeVolumeSize" : "nodeImage"], [cpFields, cpGroups, o.controlPlaneSize !== undefined ? "controlPlaneSize" : o.controlPlaneVolumeSize !== undefined ? "controlPlaneVolumeSize" : "controlPlaneImage"]] as const) {
    if (Object.keys(fields).length === 0) continue;
    if (names.length === 0 && !isNew && !(option.endsWith("Image") && o.image !== undefined)) {
      refuse(option, `the cluster has no ${fields === nodeFields ? "nodes-<zone>" : "control-plane-<zone>"} groups kops's expansion names; change its groups one by one (kstate edit ig)`);
    }
    for (const g of names) put(ownedGroups, g, withPolicy(g, fields));
  }
  // Group flags on a cluster without the groups kops's expansion names are refused, not ignored.
  if (!isNew) {
    const nodeOptions = ["image", "nodeImage", "nodeVolumeType", "nodeTenancy", "nodeSecurityGroups", "associatePublicIp"] as const;
    const cpOptions = ["image", "controlPlaneImage", "controlPlaneVolumeType", "controlPlaneTenancy", "controlPlaneSecurityGroups", "associatePublicIp"] as const;
    for (const [names, options, kind] of [[nodeGroups, nodeOptions, "nodes-<zone>"], [cpGroups, cpOptions, "control-plane-<zone>"]] as const) {
      const given = options.find((k) => o[k] !== undefined);
      if (names.length === 0 && given && !problems.some((p) => p.option === given)) {
        refuse(given, `the cluster has no ${kind} groups kops's expansion names; change its groups one by one (kstate edit ig)`);
      }
    }
  }
  // Flags that set one field each (option-fields.ts), where kops's expansion puts them.
  if (cloud) problems.push(...fieldOptionCloudProblems(o, cloud));
  const storedMembers = storedEtcd.length > 0 ? membersOf((storedSpec.etcdClusters as Doc[])[0]!).map((m) => m.split("=")[0]!) : [];
  const fields = optionFields(o, {
    cloud, nodeGroups, controlPlaneGroups: cpGroups, bastionGroups: o.bastion || groups.has("bastions") ? ["bastions"] : [],
    etcdClusters: isNew ? (ownedSpec.etcdClusters as Doc[] | undefined ?? []).map((e) => String(e.name)) : storedEtcd,
    etcdMembers: isNew ? placements.map((p) => p.member) : storedMembers,
    apiLoadBalancer: isNew ? balanced : typeof (storedSpec.api as Doc | undefined)?.loadBalancer === "object",
  });
  const cluster = mergeOverlay(owned, fields.cluster) as Doc;
  for (const [g, overlay] of Object.entries(fields.instanceGroups)) ownedGroups[g] = mergeOverlay(ownedGroups[g] ?? {}, overlay) as Doc;
  if (problems.length > 0) return refused(problems);

  const known = [...nodeGroups, ...cpGroups, ...(o.bastion || groups.has("bastions") ? ["bastions"] : [])];
  return { owned: { cluster, instanceGroups: ownedGroups }, defaults: { cluster: defaults, instanceGroups: defaultGroups }, problems, groups: known };
}

/** What kops's --os-* flags set in spec.cloudConfig.openstack (NewCluster, setupVPC, initializeOpenstack). */
function openstackFields(o: ClusterOptions): Doc {
  const out: Doc = {};
  const router: Doc = {};
  if (o.openstackExternalNetwork !== undefined) router.externalNetwork = o.openstackExternalNetwork;
  if (o.openstackExternalSubnet !== undefined) router.externalSubnet = o.openstackExternalSubnet;
  if (o.openstackDnsServers !== undefined) router.dnsServers = o.openstackDnsServers;
  if (Object.keys(router).length > 0) out.router = router;
  if (o.openstackKubeletIgnoreAz !== undefined) out.blockStorage = { "ignore-volume-az": o.openstackKubeletIgnoreAz };
  if (o.apiLoadBalancerType !== undefined) {
    // The API load balancer: haproxy unless Octavia (whose "ovn" provider balances by source).
    const lb: Doc = {};
    if (o.openstackExternalNetwork !== undefined) lb.floatingNetwork = o.openstackExternalNetwork;
    if (o.openstackLbFloatingSubnet !== undefined) lb.floatingSubnet = o.openstackLbFloatingSubnet;
    if (o.openstackOctavia !== undefined || o.openstackOctaviaProvider !== undefined) {
      const provider = o.openstackOctavia ? o.openstackOctaviaProvider ?? "octavia" : "haproxy";
      Object.assign(lb, { useOctavia: o.openstackOctavia === true, provider, method: provider === "ovn" ? "SOURCE_IP_PORT" : "ROUND_ROBIN" });
    }
    if (Object.keys(lb).length > 0) out.loadbalancer = lb;
  }
  return out;
}

/**
 * Fields options write (as opposed to a program's own `spec` and `instanceGroups`): when options
 * stop naming one, its value stays, as a kops flag that is not given changes nothing.
 */
export function isOptionField(file: string, path: string): boolean {
  if (isFieldOptionPath(file, path)) return true;
  return file === "config"
    ? /^spec\.((subnets|etcdClusters)\[|(cloudProvider|kubernetesVersion|channel|networking|networkCIDR|nonMasqueradeCIDR|podCIDR|serviceClusterIPRange|kubernetesApiAccess|sshAccess|dnsZone|project|networkID|topology|api|cloudConfig\.azure\.subscriptionId|cloudConfig\.openstack)(\.|\[|$))/.test(path)
    : /^spec\.(role|subnets|zones|minSize|maxSize|machineType|mixedInstancesPolicy|image|rootVolumeSize)(\.|\[|$)/.test(path);
}
