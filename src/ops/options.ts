/**
 * The `kops create cluster` flags as typed options, and their checks. What each option writes
 * into the documents, on a new cluster and on a stored one, is `expand.ts` (and, for the flags
 * that only set fields, `option-fields.ts`); the options' type is `cluster-options.ts`.
 */
import { fieldOptionProblems } from "./option-fields";
import { schemeOfUrl } from "../vfs/schemes";
import type { ClusterOptions, OptionProblem } from "./cluster-options";

export type { ClusterOptions, OptionProblem } from "./cluster-options";

export const OPTION_NAMES: readonly (keyof ClusterOptions)[] = [
  "zones", "controlPlaneZones", "controlPlaneCount", "nodeCount", "nodeSize", "controlPlaneSize", "kubernetesVersion", "cloud",
  "networking", "networkCidr", "topology", "dns", "dnsZone", "sshAccess", "adminAccess", "image", "nodeImage", "controlPlaneImage", "channel",
  "nodeVolumeSize", "controlPlaneVolumeSize", "project", "azureSubscriptionId", "openstackExternalNetwork", "openstackExternalSubnet", "openstackDnsServers", "openstackLbFloatingSubnet", "openstackOctavia",
  "openstackOctaviaProvider", "openstackKubeletIgnoreAz", "networkId", "subnetIds", "utilitySubnetIds", "bastion", "apiLoadBalancerType", "etcdClusters",
  "kubernetesFeatureGates", "containerRuntime", "bastionImage", "nodeVolumeType", "controlPlaneVolumeType", "associatePublicIp", "nodeSecurityGroups",
  "controlPlaneSecurityGroups", "nodeTenancy", "controlPlaneTenancy", "instanceManager", "disableSubnetTags", "encryptEtcdStorage", "etcdStorageType", "authorization",
  "cloudLabels", "apiLoadBalancerClass", "apiSslCertificate", "apiPublicName", "gceServiceAccount",
];

/** kops's `--networking` names (setupNetworking in new_cluster.go). */
const NETWORKING = new Set(["cilium", "cilium-etcd", "cilium-eni", "calico", "flannel", "flannel-vxlan", "flannel-udp", "kindnet", "kubenet", "external", "cni",
  "amazonvpc", "amazon-vpc-routed-eni", "gce", "gcp", "kopeio", "kopeio-vxlan", "kube-router"]);

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
  if (o.networking !== undefined && !NETWORKING.has(o.networking)) add("networking", `unknown networking ${JSON.stringify(o.networking)}; one of ${[...NETWORKING].join(", ")}`);
  if (o.topology !== undefined && o.topology !== "public" && o.topology !== "private") add("topology", "must be public or private");
  for (const name of ["sshAccess", "adminAccess"] as const) {
    const v = o[name];
    if (v !== undefined && (!Array.isArray(v) || v.some((c) => typeof c !== "string"))) add(name, "must be a list of CIDRs");
  }
  for (const name of ["kubernetesVersion", "cloud", "networkCidr", "dnsZone", "image", "nodeImage", "controlPlaneImage", "channel", "project", "azureSubscriptionId", "networkId",
    "openstackExternalNetwork", "openstackExternalSubnet", "openstackDnsServers", "openstackLbFloatingSubnet", "openstackOctaviaProvider"] as const) {
    const v = o[name];
    if (v !== undefined && (typeof v !== "string" || v === "")) add(name, "must be a non-empty string");
  }
  for (const name of ["nodeSize", "controlPlaneSize"] as const) {
    const v = o[name];
    if (v === undefined) continue;
    const list = Array.isArray(v) ? v : typeof v === "string" ? v.split(",") : undefined;
    if (!list || list.length === 0 || list.some((t) => typeof t !== "string" || t.trim() === "")) add(name, "must be a machine type, or several (a,b or a list) for a mixed-instances policy");
    else if (new Set(list.map((t) => t.trim())).size !== list.length) add(name, "lists a machine type twice");
  }
  for (const name of ["nodeVolumeSize", "controlPlaneVolumeSize"] as const) {
    const v = o[name];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65536)) add(name, "must be a whole number of GB (0: kops's default)");
  }
  for (const name of ["subnetIds", "utilitySubnetIds", "etcdClusters"] as const) {
    const v = o[name];
    if (v !== undefined && (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== "string" || x === ""))) add(name, "must be a non-empty list of names");
  }
  if (o.etcdClusters && new Set(o.etcdClusters).size !== o.etcdClusters.length) add("etcdClusters", "lists an etcd cluster twice");
  for (const name of ["subnetIds", "utilitySubnetIds"] as const) {
    if (o[name] && o.zones && o[name]!.length !== o.zones.length) add(name, `gives ${o[name]!.length} subnet ids for ${o.zones.length} zones; give one per zone, in the order of zones`);
  }
  for (const name of ["bastion", "openstackOctavia", "openstackKubeletIgnoreAz"] as const) {
    if (o[name] !== undefined && typeof o[name] !== "boolean") add(name, "must be true or false");
  }
  for (const name of ["openstackExternalNetwork", "openstackExternalSubnet", "openstackDnsServers", "openstackLbFloatingSubnet", "openstackOctavia", "openstackOctaviaProvider", "openstackKubeletIgnoreAz"] as const) {
    if (o[name] !== undefined && o.cloud !== undefined && o.cloud !== "openstack") add(name, `is an OpenStack setting (the cloud is ${o.cloud})`);
  }
  if ((o.openstackLbFloatingSubnet !== undefined || o.openstackOctavia !== undefined || o.openstackOctaviaProvider !== undefined) && o.apiLoadBalancerType === undefined) {
    add(o.openstackLbFloatingSubnet !== undefined ? "openstackLbFloatingSubnet" : "openstackOctavia", "configures the API load balancer: give apiLoadBalancerType too (as kops)");
  }
  if (o.bastion && o.topology !== undefined && o.topology !== "private") add("bastion", "needs topology private (kops puts a bastion only in front of private subnets)");
  if (o.dns !== undefined && !["public", "private", "none"].includes(o.dns)) add("dns", "must be public, private or none");
  if (o.apiLoadBalancerType !== undefined && o.apiLoadBalancerType !== "public" && o.apiLoadBalancerType !== "internal") add("apiLoadBalancerType", "must be public or internal");
  problems.push(...fieldOptionProblems(o));
  return problems;
}

/** The cloud kops guesses from the store's scheme when `--cloud` is not given. */
export function guessCloud(storeUrl: string): string | undefined {
  return schemeOfUrl(storeUrl)?.defaultCloud;
}

/** The machine types of a size option: `a,b` or a list, the first the group's own. */
export function machineTypes(size: string | string[] | undefined): string[] {
  if (size === undefined) return [];
  return (Array.isArray(size) ? size : size.split(",")).map((t) => t.trim()).filter(Boolean);
}
