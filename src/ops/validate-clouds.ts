/**
 * kops's checks that a cluster asks only for what its cloud supports, each with kops's condition
 * and wording: pkg/apis/kops/validation/validation.go (validateClusterSpec, validateNetworking,
 * validateSubnets, validateCloudDNSTopology), instancegroup.go (CrossValidateInstanceGroup),
 * legacy.go (DeepValidate), and the zone rules kops's cloud set-up applies before any change
 * (upup/pkg/fi/cloudup/utils.go BuildCloud: awsup and hetzner FindRegion, scaleway
 * ParseZoneFromClusterSpec, run by `kops edit` and `kops update`).
 */

type Obj = Record<string, unknown>;

/** Reports a problem at a field path of the document being checked. */
export type Add = (path: string, message: string) => void;

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Set, as Go sees a field: present and not null (a string also not empty). */
function set(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "";
}

/** The DNS topologies each cloud supports (validateCloudDNSTopology's table). */
const DNS_TOPOLOGIES: Record<string, { gossip: boolean; none: boolean; public: boolean; private: boolean }> = {
  aws: { none: true, gossip: true, public: true, private: true },
  azure: { none: true, gossip: true, public: false, private: false },
  digitalocean: { none: true, gossip: true, public: true, private: false },
  gce: { none: true, gossip: true, public: true, private: true },
  hetzner: { none: true, gossip: true, public: false, private: false },
  linode: { none: true, gossip: false, public: false, private: false },
  metal: { none: true, gossip: false, public: false, private: false },
  openstack: { none: true, gossip: true, public: true, private: true },
  scaleway: { none: true, gossip: true, public: true, private: false },
};

/** The load balancer fields only AWS has (validateClusterSpec). */
const AWS_LOAD_BALANCER_FIELDS = ["class", "idleTimeoutSeconds", "securityGroupOverride", "additionalSecurityGroups", "sslCertificate", "sslPolicy", "crossZoneLoadBalancing", "accessLog"];

/** Clouds whose subnets name their region, all the same (validateCloudProvider's requiresSubnetRegion). */
const SUBNET_REGION_CLOUDS = new Set(["azure", "digitalocean", "gce", "linode"]);

/** Hetzner's locations and the network zone each is in (hetzner.FindRegion). */
const HETZNER_REGIONS: Record<string, string> = { fsn1: "eu-central", nbg1: "eu-central", hel1: "eu-central", ash: "us-east", hil: "us-west" };

function dnsType(spec: Obj): string | undefined {
  const t = obj(obj(spec.topology)?.dns)?.type;
  return typeof t === "string" ? t : undefined;
}

/** dns.IsGossipClusterName, unless the DNS is None (Cluster.UsesLegacyGossip). */
function usesGossip(name: unknown, spec: Obj): boolean {
  return dnsType(spec) !== "None" && typeof name === "string" && name.replace(/\.$/, "").endsWith(".k8s.local");
}

/** The Cluster's rules that depend on its cloud. `cloud` is `spec.cloudProvider`. */
export function cloudClusterRules(name: unknown, spec: Obj, cloud: string | undefined, add: Add): void {
  // An unknown cloud is the schema's problem; nothing here would be about the cluster.
  const supports = cloud === undefined ? undefined : DNS_TOPOLOGIES[cloud];
  if (cloud === undefined || !supports) return;
  const subnets = list(spec.subnets).map((s) => obj(s)).filter((s): s is Obj => s !== undefined);
  const subnetAt = (s: Obj, field: string) => `spec.subnets[name=${String(s.name)}].${field}`;

  const lb = obj(obj(spec.api)?.loadBalancer);
  if (lb) {
    if (cloud !== "aws") {
      for (const f of AWS_LOAD_BALANCER_FIELDS) if (set(lb[f])) add(`spec.api.loadBalancer.${f}`, `${f} is only supported on AWS`);
    }
    if (lb.type === "Internal" && !subnets.some((s) => s.type === "Private")) add("spec.api.loadBalancer.type", "Internal LoadBalancers must have at least one subnet of type Private");
    // A classic load balancer answers neither of these (kops's aws.go).
    if (cloud === "aws" && lb.class === "Classic") {
      if (dnsType(spec) === "None") add("spec.api.loadBalancer.type", "topology.dns.type=none requires Network Load Balancer");
      if (set(lb.sslCertificate)) add("spec.api.loadBalancer.sslCertificate", "sslCertificate requires a network load balancer");
    }
  }
  const networking = obj(spec.networking);
  if (networking && "external" in networking) add("spec.networking.external", "external is not supported for Kubernetes >= 1.26");
  if (networking && "gce" in networking && cloud !== "gce") add("spec.networking.gce", "GCP networking is supported only when on GCP");
  // Cilium's NodePort replaces kube-proxy (kops validation.go); kops fills in an unset kubeProxy as enabled.
  if (obj(networking?.cilium)?.enableNodePort === true && obj(spec.kubeProxy)?.enabled !== false) {
    add("spec.kubeProxy.enabled", "When Cilium NodePort is enabled, kubeProxy must be disabled (enabled: false)");
  }

  if (cloud !== "aws") {
    for (const s of subnets) if (set(s.ipv6CIDR)) add(subnetAt(s, "ipv6CIDR"), "ipv6CIDR can only be specified for AWS");
    const amazonvpc = obj(spec.networking)?.amazonvpc;
    if (amazonvpc !== undefined && amazonvpc !== null) add("spec.networking.amazonvpc", "amazon-vpc-routed-eni networking is supported only in AWS");
    if (list(spec.additionalNetworkCIDRs).length > 0) add("spec.additionalNetworkCIDRs", `${cloud} doesn't support additionalNetworkCIDRs`);
  }
  if (cloud === "gce" && set(spec.networkCIDR)) add("spec.networkCIDR", "gce doesn't support networkCIDR");

  if (SUBNET_REGION_CLOUDS.has(cloud)) {
    let region: string | undefined;
    for (const s of subnets) {
      if (!set(s.region)) add(subnetAt(s, "region"), "region must be specified");
      else if (region === undefined) region = String(s.region);
      else if (s.region !== region) add(subnetAt(s, "region"), "clusters cannot span regions");
    }
  }

  // The zones, as kops's cloud set-up reads them (a subnet without a zone is refused elsewhere).
  if (cloud === "aws") {
    let region: string | undefined;
    for (const s of subnets) {
      if (typeof s.zone !== "string" || s.zone === "") continue;
      if (s.zone.length <= 2) {
        add(subnetAt(s, "zone"), `invalid AWS zone: ${JSON.stringify(s.zone)} in subnet ${JSON.stringify(s.name)}`);
        continue;
      }
      const zoneRegion = s.zone.slice(0, -1);
      if (region !== undefined && zoneRegion !== region) add(subnetAt(s, "zone"), `Clusters cannot span multiple regions (found zone ${JSON.stringify(s.zone)}, but region is ${JSON.stringify(region)})`);
      region ??= zoneRegion;
    }
  }
  if (cloud === "hetzner") {
    let region: string | undefined;
    for (const s of subnets) {
      if (typeof s.zone !== "string" || s.zone === "") continue;
      const zoneRegion = HETZNER_REGIONS[s.zone];
      if (zoneRegion === undefined) add(subnetAt(s, "zone"), `unknown zone ${JSON.stringify(s.zone)} for hetzner cloud, known zones are fsn1, nbg1, hel1, ash, hil`);
      else if (region !== undefined && zoneRegion !== region) add(subnetAt(s, "zone"), `cluster cannot span multiple regions (found zone ${JSON.stringify(s.zone)}, but region is ${JSON.stringify(region)})`);
      else region = zoneRegion;
    }
  }

  if (cloud === "scaleway") {
    const zones = subnets.map((s) => s.zone).filter((z) => set(z));
    for (const s of subnets) if (set(s.zone) && s.zone !== zones[0]) add(subnetAt(s, "zone"), "scaleway currently only supports clusters in the same zone");
  }

  // The DNS topology, checked (as kops does) when the cluster says anything about its topology.
  if (obj(spec.topology)) {
    const type = dnsType(spec);
    const kind = usesGossip(name, spec) ? "gossip" : type === "None" ? "none" : type === "Private" ? "private" : type === undefined || type === "" || type === "Public" ? "public" : undefined;
    if (kind !== undefined && !supports[kind]) add("spec.topology.dns.type", `cloud provider ${JSON.stringify(cloud)} does not support ${kind} dns topology`);
  }
}

/** An InstanceGroup's rules that depend on its cluster's cloud (`add` reports in the group's file). */
export function cloudGroupRules(clusterSpec: Obj, cloud: string | undefined, group: Obj, add: Add): void {
  const spec = obj(group.spec);
  if (!spec || cloud === undefined || !DNS_TOPOLOGIES[cloud]) return;
  if (spec.role === "APIServer") {
    if (cloud !== "aws" && cloud !== "gce") add("spec.role", "APIServer role only supported on AWS and GCE");
    if (dnsType(clusterSpec) === "None") add("spec.role", "APIServer cannot be used with topology.dns.type=None");
  }
  if (spec.manager === "Karpenter") {
    if (cloud !== "aws") add("spec.manager", "Karpenter InstanceGroups are only supported on AWS");
    if (spec.role !== "Node") add("spec.role", "Karpenter InstanceGroups must have role Node");
  }
  if (cloud !== "aws" && list(spec.volumes).length > 0) add("spec.volumes", "instancegroup volumes are only available with aws at present");
}
