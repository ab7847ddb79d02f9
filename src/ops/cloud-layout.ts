/**
 * What differs from cloud to cloud in the documents `kops create cluster` writes
 * (upup/pkg/fi/cloudup/new_cluster.go, defaults.go, gce/network.go): where a zone's subnet is,
 * which groups name their zones, how subnets get their CIDRs, what kops puts in
 * `spec.cloudConfig`, and the machine types it picks. `expand.ts` consults this table.
 */
import { type Block, formatCidr, overlaps, parseCidr } from "./ipv4";

type Doc = Record<string, unknown>;

export interface CloudLayout {
  /**
   * What a subnet covers: a zone (kops's default), a region (GCE: one subnet per region, named
   * after it), or the whole cluster (Azure: one subnet named after the cluster).
   */
  subnetScope: "zone" | "region" | "cluster";
  /** The region of a zone, where subnets name one; undefined for a zone kops would refuse. */
  region?: (zone: string) => string | undefined;
  /** What a zone looks like there, for the refusal of one that does not (with its article). */
  zoneKind?: string;
  /** Utility subnets beside private ones (kops adds none on GCE). */
  utilitySubnets: boolean;
  /** Node and control-plane groups list their zone (`spec.zones`). */
  groupZones: boolean;
  /** The bastion group lists every zone of the cluster. */
  bastionZones: boolean;
  /** spec.networkCIDR kops assigns when none is given (PerformAssignments). */
  networkCidr?: string;
  /**
   * How new subnets get CIDRs: cut from spec.networkCIDR (subnet-cidrs.ts), allocated from
   * 10.0.0.0/8 as kops's GCE network assignment does (gceAssignments), or not at all.
   */
  cidrs?: "network" | "gce";
  /** The machine types kops gives groups without one (populate_instancegroup_spec.go). */
  machines?: { node: string; controlPlane: string; bastion: string };
  /** etcd members get encryptedVolume, several machine types a mixed-instances policy, the API load balancer a class. */
  aws: boolean;
  /** kops takes one zone (location, region) only there (setupZones). */
  singleZone?: boolean;
  /**
   * The image kops gives groups when the channel names none (new_cluster.go defaultImage): one
   * for Kubernetes before 1.32, one from it on.
   */
  images?: { before132: string; from132: string };
}

/** The image kops falls back on for a cloud and Kubernetes version, when the channel has none. */
export function fallbackImage(layout: CloudLayout, kubernetesVersion: string | undefined): string | undefined {
  const m = /^v?(\d+)\.(\d+)\./.exec(kubernetesVersion ?? "");
  if (!layout.images || !m) return undefined;
  return Number(m[1]) > 1 || Number(m[2]) >= 32 ? layout.images.from132 : layout.images.before132;
}

/** An AWS zone: a region (us-east-1) and a letter. */
function awsZoneToRegion(zone: string): string | undefined {
  const m = /^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$/.exec(zone);
  return m ? m[1] : undefined;
}

/** gce.ZoneToRegion: the first two parts of `us-central1-a`; fewer than three parts is no zone. */
export function gceZoneToRegion(zone: string): string | undefined {
  const parts = zone.split("-");
  return parts.length > 2 ? `${parts[0]}-${parts[1]}` : undefined;
}

/** azure.ZoneToLocation: `eastus-1` is zone 1 of location eastus; anything else is no zone. */
export function azureZoneToLocation(zone: string): string | undefined {
  const parts = zone.split("-");
  return parts.length === 2 ? parts[0] : undefined;
}

const ZONAL: CloudLayout = { subnetScope: "zone", utilitySubnets: true, groupZones: false, bastionZones: false, aws: false };

const LAYOUTS: Record<string, CloudLayout> = {
  aws: {
    ...ZONAL, networkCidr: "172.20.0.0/16", cidrs: "network", aws: true, zoneKind: "an AWS zone (region and letter, e.g. us-east-1a)",
    // kops takes the first of its candidates the region offers, t3.medium first.
    machines: { node: "t3.medium", controlPlane: "t3.medium", bastion: "t3.micro" },
  },
  gce: {
    subnetScope: "region", region: gceZoneToRegion, zoneKind: "a GCE zone (region-letter, e.g. us-central1-a)", utilitySubnets: false, groupZones: true, bastionZones: true, cidrs: "gce", aws: false,
    machines: { node: "e2-medium", controlPlane: "e2-medium", bastion: "e2-micro" },
  },
  azure: {
    subnetScope: "cluster", region: azureZoneToLocation, zoneKind: "an Azure zone (location-number, e.g. eastus-1)", utilitySubnets: true, groupZones: true, bastionZones: false,
    networkCidr: "10.0.0.0/16", cidrs: "network", aws: false,
    machines: { node: "Standard_B2s", controlPlane: "Standard_B2s", bastion: "Standard_B2s" },
  },
  // A DigitalOcean "zone" is a region, and its subnet says so.
  digitalocean: {
    ...ZONAL, region: (zone) => zone, singleZone: true, images: { before132: "ubuntu-22-04-x64", from132: "ubuntu-24-04-x64" },
    machines: { node: "s-2vcpu-4gb-amd", controlPlane: "s-2vcpu-4gb-amd", bastion: "s-2vcpu-4gb-amd" },
  },
  hetzner: { ...ZONAL, singleZone: true, images: { before132: "ubuntu-22.04", from132: "ubuntu-24.04" }, machines: { node: "cx23", controlPlane: "cx23", bastion: "cx23" } },
  scaleway: { ...ZONAL, images: { before132: "ubuntu_jammy", from132: "ubuntu_noble" }, machines: { node: "DEV1-M", controlPlane: "DEV1-M", bastion: "DEV1-M" } },
  // No machine types: kops picks them from the cloud's flavor list (m1.medium, m1.small for
  // bastions on a stock cloud), which kstate cannot read offline. kops requires --network-cidr.
  openstack: { ...ZONAL, cidrs: "network" },
};

export function layoutOf(cloud: string | undefined): CloudLayout {
  return (cloud !== undefined ? LAYOUTS[cloud] : undefined) ?? ZONAL;
}

/** Where a zone's subnet is: its name, and the zone and region the subnet records. */
export interface SubnetPlace {
  name: string;
  zone?: string;
  region?: string;
}

/** The subnet kops puts a zone's groups in, or an error naming the zone (setupZones). */
export function subnetOf(layout: CloudLayout, zone: string, cluster: string): SubnetPlace | { error: string } {
  const region = layout.region?.(zone);
  const known = layout.region ? region !== undefined : layout.aws ? awsZoneToRegion(zone) !== undefined : true;
  if (!known) return { error: `${JSON.stringify(zone)} is not ${layout.zoneKind ?? "a zone"}` };
  switch (layout.subnetScope) {
    case "zone": return { name: zone, zone, ...(region !== undefined ? { region } : {}) };
    case "region": return { name: region!, region: region! };
    case "cluster": return { name: cluster, region: region! };
  }
}

export interface CloudConfigInputs {
  cluster: string;
  /** --api-loadbalancer-type is given. */
  apiLoadBalancer: boolean;
}

/**
 * What kops writes in the Cluster spec for the cloud itself (setupVPC, the provider spec in
 * NewCluster, initializeOpenstack), as defaults: no kstate option names these fields. (The
 * Azure subscription comes from an option: expand.ts writes it.)
 */
export function cloudSpecDefaults(cloud: string | undefined, i: CloudConfigInputs): Doc {
  switch (cloud) {
    case "gce":
      return { cloudConfig: {} };
    case "azure":
      // tenantId is written even empty (the field has no omitempty); kops's --azure-tenant-id and
      // --azure-admin-user are not kstate options, so these are their defaults.
      return { cloudConfig: { azure: { adminUser: "kops", tenantId: "" } } };
    case "openstack": {
      // --os-ext-net, --os-kubelet-ignore-az, --os-octavia are not kstate options: their defaults.
      const openstack: Doc = {
        router: { externalNetwork: "" },
        blockStorage: { "bs-version": "v3", "ignore-volume-az": false, clusterName: i.cluster },
        monitor: { delay: "15s", timeout: "10s", maxRetries: 3 },
      };
      // With --api-loadbalancer-type kops also looks up floatingNetworkID in the cloud by the
      // network's name: kstate cannot, so that field stays absent.
      if (i.apiLoadBalancer) openstack.loadbalancer = { floatingNetwork: "", method: "ROUND_ROBIN", provider: "haproxy", useOctavia: false };
      return { cloudConfig: { openstack }, cloudControllerManager: { clusterName: i.cluster } };
    }
    default:
      return {};
  }
}

// ---------------------------------------------------------------------------------------------
// GCE: kops draws subnet, pod and service ranges from 10.0.0.0/8, skipping the first block of
// each size and any range in use (gce/network.go, pkg/util/subnet/cidrmap.go).


/** The GCE network every range is drawn from, and kops's nonMasqueradeCIDR with IP aliases. */
export const GCE_NETWORK = "10.0.0.0/8";

/** Draws ranges from 10.0.0.0/8 as kops does, never one overlapping a range in use. */
export class GceRanges {
  private readonly used: Block[];

  /** `inUse`: ranges already taken (the cluster's subnets, pod and service ranges); any that is not IPv4 is ignored. */
  constructor(inUse: readonly string[]) {
    this.used = inUse.map(parseCidr).filter((b): b is Block => b !== undefined);
  }

  /** The next free /bits block after the first, or undefined when 10.0.0.0/8 has none left. */
  allocate(bits: number): string | undefined {
    const network = parseCidr(GCE_NETWORK)!;
    const size = 2 ** (32 - bits);
    for (let base = network.base + size; base < network.base + 2 ** (32 - network.bits); base += size) {
      const candidate = { base, bits };
      if (this.used.some((u) => overlaps(u, candidate))) continue;
      this.used.push(candidate);
      return formatCidr(candidate);
    }
    return undefined;
  }
}

/** kops uses GCE IP aliases (one subnet; pod and service ranges of their own) with these networkings (gce.UsesIPAliases). */
const GCE_IP_ALIAS_NETWORKING = new Set(["gce", "kindnet"]);

export interface GceSubnet {
  name: string;
  cidr?: string;
  /** The subnet is an existing one (kops gives it no range). */
  id?: string;
}

/**
 * The ranges kops's GCE network assignment gives (gce.PerformNetworkAssignments): a /20 for each
 * new subnet; with IP aliases (`networking`: the spec.networking key in force) the one subnet a
 * /19, pods a /14 and services a /16, and nonMasqueradeCIDR 10.0.0.0/8. kops draws around the
 * ranges its network already has; kstate around the cluster's own (its subnets, pod and service
 * ranges), which are the same once the cluster is up. `fresh`: the subnets laid out now, the only
 * ones given a range; `networkings`: the spec.networking keys in force. A range already set is kept: kops keeps all
 * three only when all are set, but moving one range of a running cluster would break it.
 */
export function gceAssignments(clusterSpec: Doc, subnets: readonly GceSubnet[], fresh: ReadonlySet<string>, networkings: readonly string[]):
  { subnets: { name: string; cidr: string }[]; ranges: Doc } | { error: string } {
  const networking = networkings.find((k) => GCE_IP_ALIAS_NETWORKING.has(k));
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const pod = str(clusterSpec.podCIDR);
  const service = str(clusterSpec.serviceClusterIPRange);
  const ranges = new GceRanges([...subnets.map((s) => s.cidr), pod, service].filter((c): c is string => c !== undefined));
  const exhausted = (bits: number) => ({ error: `${GCE_NETWORK} has no free /${bits} range left for the cluster` });
  if (networking === undefined) {
    const out: { name: string; cidr: string }[] = [];
    for (const s of subnets) {
      if (!fresh.has(s.name) || s.cidr !== undefined || s.id !== undefined) continue;
      const cidr = ranges.allocate(20);
      if (cidr === undefined) return exhausted(20);
      out.push({ name: s.name, cidr });
    }
    return { subnets: out, ranges: {} };
  }
  const only = subnets[0];
  if (subnets.length !== 1 || only === undefined) {
    return { error: `GCE IP aliases (networking ${networking}) put the nodes in exactly one subnet; the cluster would have ${subnets.length} (${subnets.map((s) => s.name).join(", ")}), and kops refuses that too` };
  }
  const podCIDR = pod ?? ranges.allocate(14);
  if (podCIDR === undefined) return exhausted(14);
  const serviceClusterIPRange = service ?? ranges.allocate(16);
  if (serviceClusterIPRange === undefined) return exhausted(16);
  const nodes = only.cidr ?? ranges.allocate(19);
  if (nodes === undefined) return exhausted(19);
  const kept = pod !== undefined && service !== undefined && only.cidr !== undefined;
  const nonMasqueradeCIDR = kept ? str(clusterSpec.nonMasqueradeCIDR) ?? GCE_NETWORK : GCE_NETWORK;
  return { subnets: fresh.has(only.name) && only.cidr === undefined ? [{ name: only.name, cidr: nodes }] : [], ranges: { nonMasqueradeCIDR, podCIDR, serviceClusterIPRange } };
}
