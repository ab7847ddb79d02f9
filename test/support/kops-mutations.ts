/**
 * Mutations of a valid kops document set, each changing it in one way and saying where: wrong
 * types, unknown and misspelt fields, bad enum values, out-of-range integers, bad CIDRs, groups
 * whose names disagree, etcd member counts, missing required fields, YAML 1.1 scalars, nulls,
 * what only some clouds support (DNS topologies, load balancer fields, zones, roles). More,
 * drawn from kops's API schema, are in kops-schema-mutations.ts.
 */
import type { Base, Doc, Mutation, Rng } from "./kops-documents";

/** A scalar written verbatim into the YAML text; `value` is what it means to kops (YAML 1.1). */
export class Raw {
  constructor(readonly text: string, readonly value: unknown) {}
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function obj(v: unknown): Doc {
  return v as Doc;
}

interface Target {
  /** `config` or `instancegroup/<name>`. */
  file: string;
  doc: Doc;
}

function groupTarget(b: Base, rng: Rng, role?: (r: unknown) => boolean): Target | undefined {
  const gs = b.groups.filter((g) => !role || role(obj(g.spec).role));
  if (gs.length === 0) return undefined;
  const g = rng.pick(gs);
  return { file: `instancegroup/${String(obj(g.metadata).name)}`, doc: g };
}

function spec(d: Doc): Doc {
  return obj(d.spec);
}

/** Sets `path` (dotted; numeric segments index lists) in `doc`, creating maps on the way. */
function setPath(doc: Doc, path: string, value: unknown): void {
  const keys = path.split(".");
  let at: Doc = doc;
  for (const k of keys.slice(0, -1)) {
    if (at[k] === undefined || at[k] === null || typeof at[k] !== "object") at[k] = {};
    at = at[k] as Doc;
  }
  at[keys[keys.length - 1]!] = value;
}

function deletePath(doc: Doc, path: string): void {
  const keys = path.split(".");
  let at: Doc | undefined = doc;
  for (const k of keys.slice(0, -1)) at = at?.[k] as Doc | undefined;
  if (at) delete at[keys[keys.length - 1]!];
}

const cluster = (b: Base): Target => ({ file: "config", doc: b.cluster });

/** A mutation that sets one field of the cluster or of a group to a value. */
function setting(label: string, where: "config" | "group" | "node" | "control-plane", path: string, value: (rng: Rng, b: Base) => unknown): Mutation {
  return {
    label,
    apply(b, rng) {
      const t = where === "config" ? cluster(b) : groupTarget(b, rng, where === "node" ? (r) => r === "Node" : where === "control-plane" ? (r) => r === "ControlPlane" || r === "Master" : undefined);
      if (!t) return undefined;
      setPath(t.doc, path, value(rng, b));
      return `${t.file}:${path}`;
    },
  };
}

function removing(label: string, where: "config" | "group", path: string): Mutation {
  return {
    label,
    apply(b, rng) {
      const t = where === "config" ? cluster(b) : groupTarget(b, rng)!;
      deletePath(t.doc, path);
      return `${t.file}:${path}`;
    },
  };
}

const subnetAt = (b: Base, rng: Rng) => rng.int(0, (spec(b.cluster).subnets as Doc[]).length - 1);

export const MUTATIONS: readonly Mutation[] = [
  // Wrong types.
  setting("type:string-for-int32:spec.kubelet.maxPods", "config", "spec.kubelet.maxPods", (rng) => String(rng.int(10, 250))),
  setting("type:string-for-int32:ig.minSize", "node", "spec.minSize", () => "1"),
  setting("type:number-for-string:ig.machineType", "group", "spec.machineType", (rng) => rng.int(1, 99)),
  setting("type:number-for-string:spec.kubernetesVersion", "config", "spec.kubernetesVersion", () => new Raw("1.30", 1.3)),
  setting("type:bool-for-string:ig.image", "group", "spec.image", () => true),
  setting("type:map-for-list:spec.sshAccess", "config", "spec.sshAccess", () => ({ cidr: "0.0.0.0/0" })),
  {
    label: "type:string-for-list:ig.subnets",
    apply(b, rng) {
      const t = groupTarget(b, rng)!;
      spec(t.doc).subnets = (spec(t.doc).subnets as string[])[0];
      return `${t.file}:spec.subnets`;
    },
  },
  setting("type:list-for-map:spec.kubelet", "config", "spec.kubelet", () => [{ maxPods: 110 }]),
  setting("type:string-for-bool:spec.kubelet.anonymousAuth", "config", "spec.kubelet.anonymousAuth", () => "false"),
  setting("type:int-for-bool:spec.iam.legacy", "config", "spec.iam.legacy", () => 0),
  setting("type:float-for-int32:spec.kubelet.maxPods", "config", "spec.kubelet.maxPods", () => 110.5),
  setting("type:string-for-map:ig.nodeLabels", "group", "spec.nodeLabels", () => "role=worker"),
  setting("type:number-in-string-map:ig.cloudLabels", "group", "spec.cloudLabels", () => ({ cost: 42 })),
  setting("type:map-for-string:spec.networking", "config", "spec.networking", () => "cilium"),
  // Unknown and misspelt fields, at several depths.
  setting("unknown-field:spec.kubelet.maxPodz", "config", "spec.kubelet.maxPodz", (rng) => rng.int(10, 250)),
  setting("unknown-field:ig.rootVolumeSise", "group", "spec.rootVolumeSise", (rng) => rng.int(20, 200)),
  setting("unknown-field:spec.kubernetesVersions", "config", "spec.kubernetesVersions", () => "v1.34.1"),
  setting("unknown-field:top-level", "config", "specification", () => ({ kubelet: {} })),
  setting("unknown-field:metadata.nmae", "config", "metadata.nmae", (_, b) => b.clusterName),
  setting("unknown-field:case:spec.kubelet.MaxPods", "config", "spec.kubelet.MaxPods", () => 110),
  setting("unknown-field:spec.kubeAPIServer.loglevel", "config", "spec.kubeAPIServer.loglevel", () => 2),
  setting("unknown-field:ig.spec.kubelet.evictionHardd", "group", "spec.kubelet.evictionHardd", () => "memory.available<100Mi"),
  {
    label: "unknown-field:spec.subnets[].zoen",
    apply(b, rng) {
      const i = subnetAt(b, rng);
      (spec(b.cluster).subnets as Doc[])[i]!.zoen = "x";
      return `config:spec.subnets.${i}.zoen`;
    },
  },
  {
    label: "unknown-field:spec.etcdClusters[].etcdMembers[].encryptedVolumes",
    apply(b) {
      const m = ((spec(b.cluster).etcdClusters as Doc[])[0]!.etcdMembers as Doc[])[0]!;
      m.encryptedVolumes = true;
      return "config:spec.etcdClusters.0.etcdMembers.0.encryptedVolumes";
    },
  },
  // Bad values for enum-like fields.
  setting("enum:ig.role", "group", "spec.role", (rng) => rng.pick(["Worker", "node", "master", "Controlplane"])),
  {
    label: "enum:subnet.type",
    apply(b, rng) {
      const i = subnetAt(b, rng);
      (spec(b.cluster).subnets as Doc[])[i]!.type = rng.pick(["Pubic", "private", "NAT"]);
      return `config:spec.subnets.${i}.type`;
    },
  },
  setting("enum:topology.dns.type", "config", "spec.topology.dns.type", (rng) => rng.pick(["Secret", "none", "Route53"])),
  setting("enum:api.loadBalancer.type", "config", "spec.api.loadBalancer.type", (rng) => rng.pick(["External", "public"])),
  setting("enum:cloudProvider", "config", "spec.cloudProvider", (rng) => rng.pick(["awz", "AWS", "hcloud"])),
  setting("enum:kubeProxy.proxyMode", "config", "spec.kubeProxy.proxyMode", () => "userspace-ish"),
  setting("enum:ig.instanceMetadata.httpTokens", "group", "spec.instanceMetadata.httpTokens", () => "sometimes"),
  setting("enum:updatePolicy", "config", "spec.updatePolicy", () => "whenever"),
  // Out-of-range integers.
  setting("range:int32-overflow:spec.kubelet.maxPods", "config", "spec.kubelet.maxPods", () => 2147483648),
  setting("range:int32-overflow:ig.rootVolumeSize", "group", "spec.rootVolumeSize", () => 4294967296),
  setting("range:negative-uint32:etcd.manager.backupRetentionDays", "config", "spec.etcdClusters.0.manager.backupRetentionDays", () => -1),
  setting("range:negative:ig.minSize", "node", "spec.minSize", () => -1),
  {
    label: "range:maxSize-below-minSize",
    apply(b, rng) {
      const t = groupTarget(b, rng, (r) => r === "Node")!;
      spec(t.doc).minSize = 3;
      spec(t.doc).maxSize = 2;
      return `${t.file}:spec.maxSize`;
    },
  },
  setting("range:control-plane-maxSize", "control-plane", "spec.maxSize", () => 3),
  // Bad CIDRs.
  setting("cidr:spec.nonMasqueradeCIDR", "config", "spec.nonMasqueradeCIDR", (rng) => rng.pick(["100.64.0.0/33", "100.64.0.300/10", "not-a-cidr", "100.64.0.0"])),
  setting("cidr:spec.sshAccess", "config", "spec.sshAccess", (rng) => [rng.pick(["0.0.0.0/0x", "10.0.0.0/40", "anywhere"])]),
  setting("cidr:spec.kubernetesApiAccess", "config", "spec.kubernetesApiAccess", () => ["1.2.3.4/"]),
  {
    label: "cidr:subnet.cidr",
    apply(b, rng) {
      const i = subnetAt(b, rng);
      (spec(b.cluster).subnets as Doc[])[i]!.cidr = rng.pick(["172.20.0.0/33", "300.1.0.0/16", "10.0.0.0/8/8"]);
      return `config:spec.subnets.${i}.cidr`;
    },
  },
  setting("cidr:spec.serviceClusterIPRange", "config", "spec.serviceClusterIPRange", () => "100.64.0.0/99"),
  // Groups whose names disagree between documents.
  {
    label: "names:duplicate-group",
    apply(b, rng) {
      const t = groupTarget(b, rng)!;
      const copy = clone(t.doc);
      spec(copy).machineType = rng.pick(b.groups.map((g) => spec(g).machineType));
      b.groups.push(copy);
      return `${t.file}:metadata.name`;
    },
  },
  {
    label: "names:renamed-control-plane-group",
    apply(b, rng) {
      const t = groupTarget(b, rng, (r) => r === "ControlPlane" || r === "Master")!;
      obj(t.doc.metadata).name = `${String(obj(t.doc.metadata).name)}-renamed`;
      return `${t.file}:metadata.name`;
    },
  },
  {
    label: "names:group-label-other-cluster",
    apply(b, rng) {
      const t = groupTarget(b, rng)!;
      obj(t.doc.metadata).labels = { "kops.k8s.io/cluster": "other.k8s.example.com" };
      return `${t.file}:metadata.labels`;
    },
  },
  setting("names:group-name-invalid", "node", "metadata.name", (rng) => rng.pick(["Nodes_A", "nodes a", "-nodes"])),
  setting("names:cluster-name-invalid", "config", "metadata.name", () => "Bad_Name.example.com"),
  {
    label: "names:group-subnet-unknown",
    apply(b, rng) {
      const t = groupTarget(b, rng)!;
      spec(t.doc).subnets = ["no-such-subnet"];
      return `${t.file}:spec.subnets`;
    },
  },
  // etcd.
  {
    label: "etcd:even-member-count",
    apply(b, rng) {
      const e = rng.pick(spec(b.cluster).etcdClusters as Doc[]);
      const members = e.etcdMembers as Doc[];
      if (members.length === 1) members.push({ ...clone(members[0]!), name: "b" });
      else members.pop();
      return `config:spec.etcdClusters.${String(e.name)}.etcdMembers`;
    },
  },
  {
    label: "etcd:no-members",
    apply(b) {
      (spec(b.cluster).etcdClusters as Doc[])[0]!.etcdMembers = [];
      return "config:spec.etcdClusters.0.etcdMembers";
    },
  },
  {
    label: "etcd:duplicate-member-name",
    apply(b) {
      const e = (spec(b.cluster).etcdClusters as Doc[])[0]!;
      const members = e.etcdMembers as Doc[];
      members.push({ ...clone(members[0]!) }, { ...clone(members[0]!) });
      return "config:spec.etcdClusters.0.etcdMembers";
    },
  },
  // Missing required fields.
  removing("missing:ig.role", "group", "spec.role"),
  removing("missing:spec.kubernetesVersion", "config", "spec.kubernetesVersion"),
  removing("missing:spec.cloudProvider", "config", "spec.cloudProvider"),
  removing("missing:spec.etcdClusters", "config", "spec.etcdClusters"),
  removing("missing:cluster metadata.name", "config", "metadata.name"),
  removing("missing:ig.metadata.name", "group", "metadata.name"),
  removing("missing:ig.cluster-label", "group", "metadata.labels"),
  {
    label: "missing:subnet.zone",
    apply(b, rng) {
      const i = subnetAt(b, rng);
      delete (spec(b.cluster).subnets as Doc[])[i]!.zone;
      return `config:spec.subnets.${i}.zone`;
    },
  },
  {
    label: "missing:subnet.name",
    apply(b, rng) {
      const i = subnetAt(b, rng);
      delete (spec(b.cluster).subnets as Doc[])[i]!.name;
      return `config:spec.subnets.${i}.name`;
    },
  },
  {
    label: "missing:etcd member instanceGroup",
    apply(b) {
      delete ((spec(b.cluster).etcdClusters as Doc[])[0]!.etcdMembers as Doc[])[0]!.instanceGroup;
      return "config:spec.etcdClusters.0.etcdMembers.0.instanceGroup";
    },
  },
  // YAML 1.1 scalars, as kops's Go YAML reads them.
  setting("yaml11:yes-no-in-bool:spec.kubelet.anonymousAuth", "config", "spec.kubelet.anonymousAuth", (rng) => rng.pick([new Raw("no", false), new Raw("off", false), new Raw("yes", true), new Raw("On", true)])),
  setting("yaml11:on-in-bool:ig.rootVolumeEncryption", "group", "spec.rootVolumeEncryption", (rng) => rng.pick([new Raw("on", true), new Raw("y", true), new Raw("N", false)])),
  setting("yaml11:on-in-string:ig.machineType", "group", "spec.machineType", (rng) => rng.pick([new Raw("on", true), new Raw("no", false), new Raw("y", true)])),
  setting("yaml11:off-in-string-map:ig.cloudLabels", "group", "spec.cloudLabels", () => ({ billing: new Raw("off", false) })),
  setting("yaml11:octal-int:spec.kubelet.maxPods", "config", "spec.kubelet.maxPods", () => new Raw("0110", 72)),
  setting("yaml11:hex-int:ig.rootVolumeSize", "group", "spec.rootVolumeSize", () => new Raw("0x40", 64)),
  setting("yaml11:float-literal-for-int32:spec.kubelet.maxPods", "config", "spec.kubelet.maxPods", () => new Raw("110.0", 110)),
  setting("yaml11:exponent-for-int32:ig.rootVolumeSize", "group", "spec.rootVolumeSize", () => new Raw("1e2", 100)),
  setting("yaml11:tilde-null:spec.kubelet", "config", "spec.kubelet", () => new Raw("~", null)),
  // Values kops reads and writes back in another spelling.
  setting("canonical:duration:spec.kubelet.shutdownGracePeriod", "config", "spec.kubelet.shutdownGracePeriod", (rng) => rng.pick(["1m", "90s", "0.5m"])),
  setting("canonical:quantity:etcd.memoryRequest", "config", "spec.etcdClusters.0.memoryRequest", (rng) => rng.pick(["1024Mi", "0.5Gi", "1e3"])),
  {
    // kops splits a stream on "\n---\n", which takes the line break that ended the document's last
    // line: a block scalar there loses its final newline.
    label: "yaml:block-scalar-ends-document",
    apply(b) {
      const s = spec(b.cluster);
      const assets = [{ name: "motd", path: "/etc/motd", content: "managed by kops\n" }];
      delete s.fileAssets;
      s.fileAssets = assets;
      b.tight = true;
      return "config:spec.fileAssets.0.content";
    },
  },
  // null.
  setting("null:optional:spec.kubelet", "config", "spec.kubelet", () => null),
  setting("null:optional:ig.nodeLabels", "group", "spec.nodeLabels", () => null),
  setting("null:required:spec.kubernetesVersion", "config", "spec.kubernetesVersion", () => null),
  setting("null:required:ig.role", "group", "spec.role", () => null),
  setting("null:list-item:spec.sshAccess", "config", "spec.sshAccess", () => [null]),
  setting("null:spec", "config", "spec", () => null),
  // What only some clouds support (kops's cloud support rules, validate-clouds.ts).
  ...(["Private", "Public"] as const).map((type): Mutation => ({
    label: `cloud:topology.dns.type-${type.toLowerCase()}`,
    apply(b) {
      const s = spec(b.cluster);
      setPath(s, "topology.dns.type", type);
      // Named, so kops looks up no hosted zone (offline, it cannot).
      s.dnsZone = "k8s.example.com";
      return "config:spec.topology.dns.type";
    },
  })),
  setting("cloud:api.loadBalancer.type-internal", "config", "spec.api.loadBalancer.type", () => "Internal"),
  setting("cloud:api.loadBalancer.class", "config", "spec.api.loadBalancer.class", () => "Network"),
  setting("cloud:sshAccess-prefix-list", "config", "spec.sshAccess", () => ["pl-0123456789abcdef0"]),
  {
    label: "cloud:networking.amazonvpc",
    apply(b) {
      const s = spec(b.cluster);
      s.networking = { amazonvpc: {} };
      delete s.kubeProxy;
      // As the valid sets have it: amazonvpc pods take addresses from the VPC.
      if (b.cloud === "aws") {
        if (s.networkCIDR) s.nonMasqueradeCIDR = s.networkCIDR;
        else delete s.nonMasqueradeCIDR;
        delete s.podCIDR;
        delete s.serviceClusterIPRange;
      }
      return "config:spec.networking.amazonvpc";
    },
  },
  {
    // The last subnet in another region (or zone, where kops takes one zone): kops's cloud set-up
    // refuses a cluster across regions. With one subnet, a zone kops does not know there.
    label: "cloud:subnet.zone-elsewhere",
    apply(b) {
      const subnets = spec(b.cluster).subnets as Doc[];
      const last = subnets[subnets.length - 1]!;
      const first = String(subnets[0]!.zone);
      const one = subnets.length === 1;
      const other: Record<string, string> = {
        aws: one ? "us" : "us-west-2a",
        hetzner: one ? "sin" : ["ash", "hil"].includes(first) ? "fsn1" : "ash",
        scaleway: first === "nl-ams-1" ? "fr-par-1" : "nl-ams-1",
        digitalocean: first === "sfo3" ? "nyc1" : "sfo3",
      };
      last.zone = other[b.cloud] ?? "elsewhere";
      return `config:spec.subnets.${subnets.length - 1}.zone`;
    },
  },
  setting("cloud:ig.role-apiserver", "node", "spec.role", () => "APIServer"),
  setting("cloud:ig.volumes", "node", "spec.volumes", () => [{ device: "/dev/xvdd", size: 20, type: "gp3" }]),
  // Document-level.
  setting("kind:unknown", "config", "kind", () => "Clusters"),
  setting("apiVersion:unknown", "group", "apiVersion", () => "kops.k8s.io/v1alpha9"),
  setting("version:kubernetesVersion-garbage", "config", "spec.kubernetesVersion", (rng) => rng.pick(["latest", "v1.x", "one.thirty"])),
];
