/**
 * The `kops create cluster` command line as kstate reads it: one table of flags (kops's names
 * and aliases, each to an option or a setting), the flags kops has that kstate refuses and why,
 * the parser (kops's flag syntax), the cluster name's sources and the `--set`/`--unset` overlay.
 */
import { parse as parseYamlValue } from "yaml";
import { mergeOverlay } from "../ops/merge";
import type { ClusterOptions } from "../ops/options";
import { clusterName as nameOf } from "./cluster-name";
import { UsageError } from "./io";

type Kind = "list" | "int" | "string" | "bool" | "enum" | "each";

/** What the command itself takes, besides the cluster options. */
export interface Settings {
  name?: string;
  state?: string;
  config?: string;
  set?: string[];
  unset?: string[];
  sshPublicKey?: string;
  dryRun?: boolean;
  output?: "yaml" | "json";
  yes?: boolean;
}

interface Flag {
  /** The flag's name, then kops's other spellings of it. */
  names: readonly string[];
  short?: string;
  /** The ClusterOptions key it sets, or the command's own setting. */
  option?: keyof ClusterOptions;
  setting?: keyof Settings;
  /** list: comma-separated, repeatable (as kops's string slices); each: repeatable, every value whole. */
  kind: Kind;
  values?: readonly string[];
  /** For machine types: one value is the type itself, several a mixed-instances list. */
  oneAsString?: boolean;
  arg?: string;
  help: string;
}

/** `kstate create cluster` flags, as `kops create cluster` spells them, each to what it sets. */
export const CREATE_FLAGS: readonly Flag[] = [
  { names: ["zones"], option: "zones", kind: "list", arg: "a,b", help: "zones to run in: a subnet and a node group each" },
  { names: ["control-plane-zones", "master-zones"], option: "controlPlaneZones", kind: "list", arg: "a,b", help: "zones of the control plane (an odd number)" },
  { names: ["control-plane-count", "master-count"], option: "controlPlaneCount", kind: "int", arg: "N", help: "control-plane nodes (default one per control-plane zone)" },
  { names: ["node-count"], option: "nodeCount", kind: "int", arg: "N", help: "worker nodes in all (default one per zone)" },
  { names: ["node-size"], option: "nodeSize", kind: "list", oneAsString: true, arg: "T[,T2]", help: "worker machine type; several make a mixed-instances group" },
  { names: ["control-plane-size", "master-size"], option: "controlPlaneSize", kind: "list", oneAsString: true, arg: "T[,T2]", help: "control-plane machine type(s)" },
  { names: ["node-volume-size"], option: "nodeVolumeSize", kind: "int", arg: "GB", help: "worker root volume size" },
  { names: ["control-plane-volume-size", "master-volume-size"], option: "controlPlaneVolumeSize", kind: "int", arg: "GB", help: "control-plane root volume size" },
  { names: ["kubernetes-version"], option: "kubernetesVersion", kind: "string", arg: "V", help: "e.g. v1.30.2 (needed on create: kstate does not read the channel for it)" },
  { names: ["cloud"], option: "cloud", kind: "string", arg: "C", help: "aws, gce, azure, hetzner, digitalocean, openstack, scaleway (default: aws on an s3:// store, gce on gs://; needed on create elsewhere)" },
  { names: ["networking"], option: "networking", kind: "string", arg: "N", help: "cilium (default), calico, flannel, kindnet, amazonvpc, …" },
  { names: ["network-cidr"], option: "networkCidr", kind: "string", arg: "CIDR", help: "the network's CIDR" },
  { names: ["os-ext-net"], option: "openstackExternalNetwork", kind: "string", arg: "NAME", help: "OpenStack: the router's external network (and the API load balancer's floating network)" },
  { names: ["os-ext-subnet"], option: "openstackExternalSubnet", kind: "string", arg: "NAME", help: "OpenStack: the router's external subnet" },
  { names: ["os-dns-servers"], option: "openstackDnsServers", kind: "string", arg: "IPs", help: "OpenStack: the router's DNS servers" },
  { names: ["os-lb-floating-subnet"], option: "openstackLbFloatingSubnet", kind: "string", arg: "NAME", help: "OpenStack: the API load balancer's floating subnet" },
  { names: ["os-octavia"], option: "openstackOctavia", kind: "bool", help: "OpenStack: the API load balancer through Octavia" },
  { names: ["os-octavia-provider"], option: "openstackOctaviaProvider", kind: "string", arg: "P", help: "OpenStack: the Octavia provider (default octavia)" },
  { names: ["os-kubelet-ignore-az"], option: "openstackKubeletIgnoreAz", kind: "bool", help: "OpenStack: volumes ignore availability zones" },
  { names: ["azure-subscription-id"], option: "azureSubscriptionId", kind: "string", arg: "ID", help: "the Azure subscription (default: AZURE_SUBSCRIPTION_ID, with --cloud azure)" },
  { names: ["network-id", "vpc"], option: "networkId", kind: "string", arg: "ID", help: "an existing network (AWS VPC) to use" },
  { names: ["subnets"], option: "subnetIds", kind: "list", arg: "ID,ID", help: "existing subnets in it, one per zone" },
  { names: ["utility-subnets"], option: "utilitySubnetIds", kind: "list", arg: "ID,ID", help: "existing utility subnets, one per zone (private topology)" },
  { names: ["topology"], short: "t", option: "topology", kind: "enum", values: ["public", "private"], help: "subnets reachable from the internet, or private ones behind NAT" },
  { names: ["bastion"], option: "bastion", kind: "bool", help: "a bastion group (private topology); also --bastion=true|false" },
  { names: ["dns"], option: "dns", kind: "enum", values: ["public", "private", "none"], help: "the cluster's DNS (none: no DNS records, as for gossip)" },
  { names: ["dns-zone"], option: "dnsZone", kind: "string", arg: "Z", help: "the DNS zone (default: the longest match of the name)" },
  { names: ["api-loadbalancer-type"], option: "apiLoadBalancerType", kind: "enum", values: ["public", "internal"], help: "the Kubernetes API load balancer's reach" },
  { names: ["ssh-access"], option: "sshAccess", kind: "list", arg: "CIDRs", help: "who may reach SSH (default: --admin-access)" },
  { names: ["admin-access"], option: "adminAccess", kind: "list", arg: "CIDRs", help: "who may reach the API" },
  { names: ["image"], option: "image", kind: "string", arg: "I", help: "machine image of every group" },
  { names: ["node-image"], option: "nodeImage", kind: "string", arg: "I", help: "machine image of the worker groups" },
  { names: ["control-plane-image", "master-image"], option: "controlPlaneImage", kind: "string", arg: "I", help: "machine image of the control-plane groups" },
  { names: ["channel"], option: "channel", kind: "string", arg: "C", help: "the kops channel (default stable)" },
  { names: ["etcd-clusters"], option: "etcdClusters", kind: "list", arg: "a,b", help: "etcd clusters (default main,events)" },
  { names: ["project"], option: "project", kind: "string", arg: "P", help: "the GCE project" },
  // Flags that set fields of the documents, and nothing else (src/ops/option-fields.ts).
  { names: ["kubernetes-feature-gates"], option: "kubernetesFeatureGates", kind: "list", arg: "G,-G", help: "feature gates of every Kubernetes component: G enables, -G disables" },
  { names: ["container-runtime"], option: "containerRuntime", kind: "string", arg: "containerd", help: "accepted: containerd is kops's only runtime (writes nothing)" },
  { names: ["bastion-image"], option: "bastionImage", kind: "string", arg: "I", help: "machine image of the bastions group (before --image)" },
  { names: ["node-volume-type"], option: "nodeVolumeType", kind: "string", arg: "T", help: "worker root volume type (e.g. gp3)" },
  { names: ["control-plane-volume-type"], option: "controlPlaneVolumeType", kind: "string", arg: "T", help: "control-plane root volume type" },
  { names: ["associate-public-ip"], option: "associatePublicIp", kind: "bool", help: "a public IP for every group's instances; =false: none" },
  { names: ["node-security-groups"], option: "nodeSecurityGroups", kind: "list", arg: "sg,sg", help: "more security groups for the worker groups" },
  { names: ["control-plane-security-groups", "master-security-groups"], option: "controlPlaneSecurityGroups", kind: "list", arg: "sg,sg", help: "more security groups for the control-plane groups" },
  { names: ["node-tenancy"], option: "nodeTenancy", kind: "enum", values: ["default", "dedicated", "host"], help: "EC2 tenancy of the worker groups" },
  { names: ["control-plane-tenancy", "master-tenancy"], option: "controlPlaneTenancy", kind: "enum", values: ["default", "dedicated", "host"], help: "EC2 tenancy of the control-plane groups" },
  { names: ["instance-manager"], option: "instanceManager", kind: "enum", values: ["cloudgroups", "karpenter"], help: "cloudgroups (kops's default; writes nothing); karpenter needs --discovery-store" },
  { names: ["disable-subnet-tags"], option: "disableSubnetTags", kind: "bool", help: "AWS: kops does not tag the subnets (spec.DisableSubnetTags)" },
  { names: ["encrypt-etcd-storage"], option: "encryptEtcdStorage", kind: "bool", help: "encrypt the etcd volumes (AWS's default); =false: not" },
  { names: ["etcd-storage-type"], option: "etcdStorageType", kind: "string", arg: "T", help: "volume type of the etcd members" },
  { names: ["authorization"], option: "authorization", kind: "string", arg: "RBAC|AlwaysAllow", help: "the API's authorization mode (kops's default RBAC)" },
  { names: ["cloud-labels"], option: "cloudLabels", kind: "string", arg: "k=v,k2=v2", help: "tags of the cloud resources (spec.cloudLabels)" },
  { names: ["api-loadbalancer-class"], option: "apiLoadBalancerClass", kind: "enum", values: ["classic", "network"], help: "AWS: the API load balancer's class (deprecated in kops)" },
  { names: ["api-ssl-certificate"], option: "apiSslCertificate", kind: "string", arg: "ARN", help: "AWS: the API load balancer's certificate (gives the API a load balancer)" },
  { names: ["api-public-name", "master-public-name"], option: "apiPublicName", kind: "string", arg: "NAME", help: "the API's public DNS name (spec.masterPublicName)" },
  { names: ["gce-service-account"], option: "gceServiceAccount", kind: "string", arg: "EMAIL", help: "GCE: the service account the VMs run as" },
  // The command's own flags.
  { names: ["name"], setting: "name", kind: "string", arg: "NAME", help: "the cluster, instead of the argument (default: KOPS_CLUSTER_NAME)" },
  { names: ["ssh-public-key"], setting: "sshPublicKey", kind: "string", arg: "FILE", help: "the admin SSH public key, stored where kops keeps it" },
  { names: ["set", "override"], setting: "set", kind: "each", arg: "spec.path=value", help: "set any Cluster spec field (value read as YAML: 110, true, [a, b])" },
  { names: ["unset"], setting: "unset", kind: "list", arg: "spec.path", help: "remove a Cluster spec field (before --set, as kops does)" },
  { names: ["dry-run"], setting: "dryRun", kind: "bool", help: "show what would change, write nothing" },
  { names: ["output"], short: "o", setting: "output", kind: "enum", values: ["yaml", "json"], help: "with --dry-run: print only the documents on stdout, as kops does" },
  { names: ["yes"], short: "y", setting: "yes", kind: "bool", help: "accepted and ignored: kstate never touches the cloud" },
  { names: ["state"], setting: "state", kind: "string", arg: "URL", help: "the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)" },
  { names: ["config"], setting: "config", kind: "string", arg: "FILE", help: "kops's config file (default ~/.kops.yaml, then ~/.kops/config)" },
];

const NEEDS_CLOUD = "needs the cloud: kstate writes only the state store (run kops update cluster on it for that)";

/** The other `kops create cluster` flags, refused with the reason. */
export const REFUSED_FLAGS: Readonly<Record<string, string>> = {
  target: NEEDS_CLOUD,
  out: NEEDS_CLOUD,
  "config-base": "not supported by kstate: spec.configBase is always {store}/{cluster}",
  "discovery-store": "not supported by kstate: set spec.serviceAccountIssuerDiscovery (discoveryStore, enableAWSOIDCProvider) with --set",
  "discovery-service": "not supported by kstate: set spec.serviceAccountIssuerDiscovery.discoveryService with --set",
  add: "not supported by kstate: cluster addons from files are kops's to apply",
  ipv6: "not supported by kstate",
  "api-server-count": "not supported by kstate (a kops feature flag)",
  ...Object.fromEntries(["azure-tenant-id", "azure-resource-group-name", "azure-route-table-name", "azure-admin-user"].map((f) => [f, "not supported by kstate (Azure)"])),
  ...Object.fromEntries(["spotinst-product", "spotinst-orientation"].map((f) => [f, "not supported by kstate (Spotinst)"])),
  "os-network": NEEDS_CLOUD,
};

function flagUsage(f: Flag): string {
  const value = f.kind === "enum" ? (f.values ?? []).join("|") : f.arg ?? "";
  return `${f.short ? `-${f.short}, ` : ""}--${f.names[0]}${value ? ` ${value}` : ""}`;
}

function flagLines(flags: readonly Flag[]): string {
  const width = Math.max(...flags.map((f) => flagUsage(f).length));
  return flags.map((f) => {
    const also = f.names.length > 1 ? ` (also --${f.names.slice(1).join(", --")})` : "";
    return `  ${flagUsage(f).padEnd(width)}  ${f.help}${also}`;
  }).join("\n");
}

export const CREATE_HELP = `Usage: kstate create cluster [NAME] [kops create-cluster flags] [--set spec.path=value ...] [--dry-run [-o yaml|json]]
(kstate create secret has its own help: kstate create secret --help)

Writes cluster NAME's config and instance groups the way \`kops create cluster\` does. When the
cluster exists, the flags are merged into it: give only what changes, and everything else in the
stored documents (hand edits and comments included) is kept. Shows each field that changes,
validates the result, and writes only if it is valid. The name is the argument, else --name,
else KOPS_CLUSTER_NAME, as for kops.

Cluster flags (as kops; list flags take a,b and may be repeated):
${flagLines(CREATE_FLAGS.filter((f) => f.option))}

Options:
${flagLines(CREATE_FLAGS.filter((f) => f.setting))}

Other kops create-cluster flags are refused with the reason (e.g. --target: kstate never
touches the cloud), and nothing is written.

Exit codes: 0 written (or nothing to change), 1 failure (invalid result, or refused: nothing written),
2 usage error, 3 conflict (another writer changed the cluster meanwhile).
`;

export interface ParsedCreate {
  positionals: string[];
  options: ClusterOptions;
  settings: Settings;
  /** The flag as typed that set each option or setting, for messages. */
  typed: Record<string, string>;
}

/** strconv.ParseBool, which kops's boolean flags use. */
function parseBool(flag: string, v: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new UsageError(`${flag} takes true or false (got ${JSON.stringify(v)})`);
}

function commaList(v: string): string[] {
  return v.split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * Reads `kstate create` arguments as kops's flag parser (pflag) reads them: `--flag value`,
 * `--flag=value`, `-o yaml`, `-oyaml`; booleans bare or `=true|false`; list flags repeatable and
 * comma-separated; any other flag once, the last one winning. Throws `UsageError` naming the flag.
 */
export function parseCreateFlags(argv: readonly string[]): ParsedCreate {
  const byName = new Map<string, Flag>();
  for (const f of CREATE_FLAGS) {
    for (const n of f.names) byName.set(`--${n}`, f);
    if (f.short) byName.set(`-${f.short}`, f);
  }
  const positionals: string[] = [];
  const options: Record<string, unknown> = {};
  const settings: Record<string, unknown> = {};
  const typed: Record<string, string> = {};
  // Each spelling of a flag is its own pflag flag bound to one variable: its first use replaces the value, its repeats append.
  const spelled = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq > 0 ? arg.slice(0, eq) : arg;
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    } else {
      // -o yaml, -oyaml, -o=yaml, -y
      name = arg.slice(0, 2);
      inline = arg.length > 2 ? arg.slice(arg[2] === "=" ? 3 : 2) : undefined;
    }
    const flag = byName.get(name);
    if (!flag) {
      const refused = REFUSED_FLAGS[name.replace(/^--/, "")];
      if (refused && name.startsWith("--")) throw new UsageError(`${name}: ${refused}`);
      throw new UsageError(`Unknown option '${name}'`);
    }
    let raw: string;
    if (flag.kind === "bool") {
      raw = inline ?? "true";
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) throw new UsageError(`${name} needs a value${next ? ` (got the flag ${next})` : ""}`);
      raw = next;
      i++;
    }
    let value: unknown;
    switch (flag.kind) {
      case "bool":
        value = parseBool(name, raw);
        break;
      case "int":
        if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`${name} must be a whole number (got ${JSON.stringify(raw)})`);
        value = Number(raw);
        break;
      case "enum": {
        const v = flag.option === "dns" ? raw.toLowerCase() : raw; // kops reads --dns in any case
        if (!flag.values!.includes(v)) throw new UsageError(`${name} must be ${flag.values!.slice(0, -1).join(", ")} or ${flag.values!.at(-1)} (got ${JSON.stringify(raw)})`);
        value = v;
        break;
      }
      case "list":
      case "each": {
        const key = flag.option ?? flag.setting!;
        const target = flag.option ? options : settings;
        const before = spelled.has(name) ? target[key] : undefined;
        spelled.add(name);
        const items = flag.kind === "list" ? commaList(raw) : [raw];
        if (flag.kind === "list" && items.length === 0) throw new UsageError(`${name} needs a value (got ${JSON.stringify(raw)})`);
        value = [...(Array.isArray(before) ? before : typeof before === "string" ? [before] : []), ...items];
        break;
      }
      default:
        if (raw === "") throw new UsageError(`${name} needs a value`);
        value = raw;
    }
    const key = flag.option ?? flag.setting!;
    if (flag.oneAsString && Array.isArray(value) && value.length === 1) value = value[0];
    (flag.option ? options : settings)[key] = value;
    typed[key] = name;
  }
  if (typeof options.networkCidr === "string" && options.networkCidr.includes(",")) {
    throw new UsageError(`${typed.networkCidr}: kstate takes one network CIDR; more go in spec.additionalNetworkCIDRs (--set spec.additionalNetworkCIDRs=[10.1.0.0/16])`);
  }
  return { positionals, options: options as ClusterOptions, settings: settings as Settings, typed };
}

/** The cluster's name as kops takes it: the argument, else --name, else KOPS_CLUSTER_NAME. */
export function clusterName(parsed: ParsedCreate, env: Record<string, string | undefined>): string {
  const [kind, ...rest] = parsed.positionals;
  if (kind !== "cluster") throw new UsageError(`create takes \`cluster NAME\` (got ${JSON.stringify(kind ?? "")})`);
  return nameOf("create cluster", rest, parsed.settings.name, env);
}

/** A `--set`/`--unset` path: `spec.a.b` (kops's `cluster.spec.a.b` too), map keys only. */
function specPath(flag: string, p: string): string[] {
  const parts = p.replace(/^(cluster|instancegroup)\./, "").split(".");
  if (parts[0] !== "spec" || parts.length < 2 || parts.some((s) => !/^[A-Za-z0-9_-]+$/.test(s))) {
    throw new UsageError(`${flag} paths start with spec. and name map keys, e.g. spec.kubelet.maxPods (got ${JSON.stringify(p)})`);
  }
  return parts;
}

/**
 * `--unset` and `--set` as one overlay: unsets first (a null removes the field), then sets, as
 * kops applies them. `spec.kubelet.maxPods=110` -> { spec: { kubelet: { maxPods: 110 } } }.
 */
export function specOverlay(sets: readonly string[], unsets: readonly string[]): Record<string, unknown> {
  let overlay: Record<string, unknown> = {};
  const add = (p: string[], value: unknown) => {
    const nested = p.reduceRight<unknown>((acc, key) => ({ [key]: acc }), value) as Record<string, unknown>;
    overlay = mergeOverlay(overlay, nested) as Record<string, unknown>;
  };
  for (const u of unsets) add(specPath("--unset", u), null);
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set takes path=value (got ${JSON.stringify(s)})`);
    const p = specPath("--set", s.slice(0, eq));
    let value: unknown;
    try {
      value = parseYamlValue(s.slice(eq + 1));
    } catch (e) {
      throw new UsageError(`--set ${s.slice(0, eq)}: the value is not valid YAML (${(e as Error).message.split("\n")[0]})`);
    }
    add(p, value);
  }
  return overlay;
}
