import * as assert from "node:assert/strict";
import { validateClusterWithGroups } from "../../src/ops/validate";

function cluster(spec: Record<string, unknown> = {}, name = "dev.k8s.example.com"): Record<string, unknown> {
  return {
    apiVersion: "kops.k8s.io/v1alpha2",
    kind: "Cluster",
    metadata: { name },
    spec: {
      cloudProvider: "aws",
      kubernetesVersion: "v1.30.2",
      networkCIDR: "172.20.0.0/16",
      subnets: [{ name: "us-east-1a", zone: "us-east-1a", type: "Public", cidr: "172.20.0.0/18" }],
      etcdClusters: [{ name: "main", etcdMembers: [{ name: "a", instanceGroup: "control-plane-us-east-1a" }] }],
      ...spec,
    },
  };
}

function ig(name: string, spec: Record<string, unknown>, clusterName = "dev.k8s.example.com"): Record<string, unknown> {
  return { apiVersion: "kops.k8s.io/v1alpha2", kind: "InstanceGroup", metadata: { name, labels: { "kops.k8s.io/cluster": clusterName } }, spec };
}

const GROUPS = {
  "control-plane-us-east-1a": ig("control-plane-us-east-1a", { role: "Master", minSize: 1, maxSize: 1, subnets: ["us-east-1a"] }),
  "nodes-us-east-1a": ig("nodes-us-east-1a", { role: "Node", minSize: 1, maxSize: 3, subnets: ["us-east-1a"] }),
};

const cases: { name: string; cluster?: Record<string, unknown>; groups?: Record<string, unknown>; previous?: Record<string, unknown>; problem: RegExp }[] = [
  { name: "a name without a dot", cluster: cluster({}, "dev"), problem: /config: metadata.name: "dev" must be a fully qualified DNS name/ },
  { name: "an uppercase name", cluster: cluster({}, "Dev.example.com"), problem: /metadata.name: "Dev.example.com" is not a valid DNS name/ },
  { name: "no cloud provider", cluster: cluster({ cloudProvider: undefined }), problem: /spec.cloudProvider: required/ },
  { name: "a cloud provider as a map (v1alpha3's form; v1alpha2 names it)", cluster: cluster({ cloudProvider: { aws: {}, gce: {} } }), problem: /config: spec.cloudProvider: expected a string, found a map/ },
  { name: "an unknown cloud provider", cluster: cluster({ cloudProvider: "metal" }), problem: /spec.cloudProvider: "metal" is not one of aws, azure, digitalocean, gce, hetzner, linode, openstack, scaleway/ },
  { name: "no Kubernetes version", cluster: cluster({ kubernetesVersion: undefined }), problem: /spec.kubernetesVersion: required/ },
  { name: "a bad Kubernetes version", cluster: cluster({ kubernetesVersion: "latest" }), problem: /spec.kubernetesVersion: "latest" is not a Kubernetes version/ },
  { name: "no etcd clusters", cluster: cluster({ etcdClusters: [] }), problem: /spec.etcdClusters: required/ },
  {
    name: "an even etcd member count",
    cluster: cluster({ etcdClusters: [{ name: "main", etcdMembers: [{ name: "a", instanceGroup: "control-plane-us-east-1a" }, { name: "b", instanceGroup: "control-plane-us-east-1a" }] }] }),
    problem: /spec.etcdClusters\[name=main\].etcdMembers: an odd number of members is required for quorum \(got 2\)/,
  },
  { name: "a bad CIDR", cluster: cluster({ networkCIDR: "172.20.0.0/33" }), problem: /spec.networkCIDR: "172.20.0.0\/33" is not a CIDR/ },
  { name: "a bad access CIDR", cluster: cluster({ sshAccess: ["0.0.0.0/0", "10.0.0.300/8"] }), problem: /spec.sshAccess: "10.0.0.300\/8" is not a CIDR/ },
  { name: "an unknown role", groups: { ...GROUPS, x: ig("x", { role: "Worker", subnets: ["us-east-1a"] }) }, problem: /instancegroup\/x: spec.role: "Worker" is not one of APIServer, Bastion, ControlPlane, Master, Node/ },
  { name: "maxSize below minSize", groups: { ...GROUPS, "nodes-us-east-1a": ig("nodes-us-east-1a", { role: "Node", minSize: 3, maxSize: 1, subnets: ["us-east-1a"] }) }, problem: /spec.maxSize: must be at least minSize \(3\), got 1/ },
  { name: "a negative size", groups: { ...GROUPS, "nodes-us-east-1a": ig("nodes-us-east-1a", { role: "Node", minSize: -1, subnets: ["us-east-1a"] }) }, problem: /spec.minSize: must be a whole number, 0 or more/ },
  { name: "a control-plane group of two", groups: { ...GROUPS, "control-plane-us-east-1a": ig("control-plane-us-east-1a", { role: "Master", minSize: 2, maxSize: 2, subnets: ["us-east-1a"] }) }, problem: /a control-plane group has exactly one instance/ },
  { name: "a control-plane group without a subnet", groups: { ...GROUPS, "control-plane-us-east-1a": ig("control-plane-us-east-1a", { role: "Master", minSize: 1, maxSize: 1 }) }, problem: /a control-plane group needs a subnet/ },
  { name: "no node group", groups: { "control-plane-us-east-1a": GROUPS["control-plane-us-east-1a"] }, problem: /at least one node instance group/ },
  { name: "no control-plane group", groups: { "nodes-us-east-1a": GROUPS["nodes-us-east-1a"] }, problem: /at least one control-plane instance group/ },
  { name: "a group in an unknown subnet", groups: { ...GROUPS, "nodes-b": ig("nodes-b", { role: "Node", subnets: ["us-east-1b"] }) }, problem: /instancegroup\/nodes-b: spec.subnets: subnet "us-east-1b" is not one of the cluster's subnets/ },
  {
    name: "an etcd cluster removed by an update",
    previous: cluster({ etcdClusters: [{ name: "main", etcdMembers: [{ name: "a", instanceGroup: "control-plane-us-east-1a" }] }, { name: "events", etcdMembers: [{ name: "a", instanceGroup: "control-plane-us-east-1a" }] }] }),
    problem: /etcd cluster "events" cannot be removed/,
  },
];

/** A Hetzner cluster, as kstate create cluster writes one (DNS None), with `spec` merged in. */
function hetzner(spec: Record<string, unknown> = {}, name = "dev.k8s.example.com"): Record<string, unknown> {
  return cluster({ cloudProvider: "hetzner", networkCIDR: "10.10.0.0/16", subnets: [{ name: "fsn1", zone: "fsn1", type: "Public" }], topology: { dns: { type: "None" } }, ...spec }, name);
}
const HETZNER_GROUPS = {
  "control-plane-us-east-1a": ig("control-plane-us-east-1a", { role: "Master", minSize: 1, maxSize: 1, subnets: ["fsn1"] }),
  "nodes-fsn1": ig("nodes-fsn1", { role: "Node", minSize: 1, maxSize: 3, subnets: ["fsn1"] }),
};
const PRIVATE_SUBNETS = [{ name: "us-east-1a", zone: "us-east-1a", type: "Private", cidr: "172.20.64.0/18" }, { name: "utility-us-east-1a", zone: "us-east-1a", type: "Utility", cidr: "172.20.0.0/21" }];

/** kops's checks that a cluster asks only for what its cloud supports: each with kops's words, at its field. */
const cloudCases: { name: string; cluster: Record<string, unknown>; groups?: Record<string, unknown>; problem: string }[] = [
  { name: "an Internal API load balancer without a Private subnet", cluster: cluster({ api: { loadBalancer: { type: "Internal", class: "Network" } } }), problem: "config: spec.api.loadBalancer.type: Internal LoadBalancers must have at least one subnet of type Private" },
  { name: "an Internal API load balancer without a Private subnet (Hetzner too)", cluster: hetzner({ api: { loadBalancer: { type: "Internal" } } }), groups: HETZNER_GROUPS, problem: "config: spec.api.loadBalancer.type: Internal LoadBalancers must have at least one subnet of type Private" },
  {
    name: "AWS subnets in two regions",
    cluster: cluster({ subnets: [{ name: "us-east-1a", zone: "us-east-1a", type: "Public", cidr: "172.20.0.0/18" }, { name: "us-west-2a", zone: "us-west-2a", type: "Public", cidr: "172.20.64.0/18" }] }),
    problem: 'config: spec.subnets[name=us-west-2a].zone: Clusters cannot span multiple regions (found zone "us-west-2a", but region is "us-east-1")',
  },
  { name: "an AWS zone of two letters", cluster: cluster({ subnets: [{ name: "us-east-1a", zone: "us", type: "Public", cidr: "172.20.0.0/18" }] }), problem: 'config: spec.subnets[name=us-east-1a].zone: invalid AWS zone: "us" in subnet "us-east-1a"' },
  {
    name: "Hetzner locations in two network zones",
    cluster: hetzner({ subnets: [{ name: "fsn1", zone: "fsn1", type: "Public" }, { name: "ash", zone: "ash", type: "Public" }] }),
    groups: HETZNER_GROUPS,
    problem: 'config: spec.subnets[name=ash].zone: cluster cannot span multiple regions (found zone "ash", but region is "eu-central")',
  },
  { name: "a Hetzner location kops does not know", cluster: hetzner({ subnets: [{ name: "fsn1", zone: "sin", type: "Public" }] }), groups: HETZNER_GROUPS, problem: 'config: spec.subnets[name=fsn1].zone: unknown zone "sin" for hetzner cloud, known zones are fsn1, nbg1, hel1, ash, hil' },
  { name: "private DNS on Hetzner", cluster: hetzner({ topology: { dns: { type: "Private" } } }), groups: HETZNER_GROUPS, problem: 'config: spec.topology.dns.type: cloud provider "hetzner" does not support private dns topology' },
  { name: "public DNS on Hetzner (a topology without a DNS type is public)", cluster: hetzner({ topology: { masters: "public" } }), groups: HETZNER_GROUPS, problem: 'config: spec.topology.dns.type: cloud provider "hetzner" does not support public dns topology' },
  { name: "private DNS on DigitalOcean", cluster: cluster({ cloudProvider: "digitalocean", networkCIDR: undefined, subnets: [{ name: "nyc1", region: "nyc1", zone: "nyc1", type: "Public" }], topology: { dns: { type: "Private" } } }), groups: { c: ig("c", { role: "Master", subnets: ["nyc1"] }), n: ig("n", { role: "Node", subnets: ["nyc1"] }) }, problem: 'config: spec.topology.dns.type: cloud provider "digitalocean" does not support private dns topology' },
  { name: "amazonvpc networking off AWS", cluster: hetzner({ networking: { amazonvpc: {} } }), groups: HETZNER_GROUPS, problem: "config: spec.networking.amazonvpc: amazon-vpc-routed-eni networking is supported only in AWS" },
  { name: "an AWS load balancer class off AWS", cluster: hetzner({ api: { loadBalancer: { type: "Public", class: "Network" } } }), groups: HETZNER_GROUPS, problem: "config: spec.api.loadBalancer.class: class is only supported on AWS" },
  { name: "an AWS prefix list off AWS", cluster: hetzner({ sshAccess: ["pl-0123456789abcdef0"] }), groups: HETZNER_GROUPS, problem: 'config: spec.sshAccess: "pl-0123456789abcdef0": Prefix List ID only supported for AWS' },
  { name: "a subnet ipv6CIDR off AWS", cluster: hetzner({ subnets: [{ name: "fsn1", zone: "fsn1", type: "Public", ipv6CIDR: "2001:db8::/64" }] }), groups: HETZNER_GROUPS, problem: "config: spec.subnets[name=fsn1].ipv6CIDR: ipv6CIDR can only be specified for AWS" },
  { name: "additionalNetworkCIDRs off AWS", cluster: hetzner({ additionalNetworkCIDRs: ["10.20.0.0/16"] }), groups: HETZNER_GROUPS, problem: "config: spec.additionalNetworkCIDRs: hetzner doesn't support additionalNetworkCIDRs" },
  { name: "a networkCIDR on GCE", cluster: cluster({ cloudProvider: "gce", project: "p", subnets: [{ name: "us-central1", region: "us-central1", type: "Public" }] }), groups: { c: ig("c", { role: "Master", subnets: ["us-central1"], zones: ["us-central1-a"] }), n: ig("n", { role: "Node", subnets: ["us-central1"] }) }, problem: "config: spec.networkCIDR: gce doesn't support networkCIDR" },
  { name: "a GCE subnet without its region", cluster: cluster({ cloudProvider: "gce", networkCIDR: undefined, project: "p", subnets: [{ name: "us-central1", type: "Public" }] }), groups: { c: ig("c", { role: "Master", subnets: ["us-central1"] }), n: ig("n", { role: "Node", subnets: ["us-central1"] }) }, problem: "config: spec.subnets[name=us-central1].region: region must be specified" },
  { name: "an APIServer group off AWS and GCE", cluster: hetzner(), groups: { ...HETZNER_GROUPS, api: ig("api", { role: "APIServer", subnets: ["fsn1"] }) }, problem: "instancegroup/api: spec.role: APIServer role only supported on AWS and GCE" },
  { name: "a Karpenter group off AWS", cluster: hetzner(), groups: { ...HETZNER_GROUPS, k: ig("k", { role: "Node", manager: "Karpenter", subnets: ["fsn1"] }) }, problem: "instancegroup/k: spec.manager: Karpenter InstanceGroups are only supported on AWS" },
  { name: "group volumes off AWS", cluster: hetzner(), groups: { ...HETZNER_GROUPS, v: ig("v", { role: "Node", subnets: ["fsn1"], volumes: [{ device: "/dev/xvdd", size: 20 }] }) }, problem: "instancegroup/v: spec.volumes: instancegroup volumes are only available with aws at present" },
];

/** What kops takes on the same clouds: none of the rules above may fire. */
const cloudAccepted: { name: string; cluster: Record<string, unknown>; groups?: Record<string, unknown> }[] = [
  { name: "an Internal load balancer with a Private subnet", cluster: cluster({ subnets: PRIVATE_SUBNETS, api: { loadBalancer: { type: "Internal", class: "Network" } } }) },
  { name: "AWS subnets in three zones of one region", cluster: cluster({ subnets: ["a", "b", "c"].map((z, i) => ({ name: `us-east-1${z}`, zone: `us-east-1${z}`, type: "Public", cidr: `172.20.${64 * i}.0/18` })) }) },
  { name: "Hetzner locations of one network zone", cluster: hetzner({ subnets: [{ name: "fsn1", zone: "fsn1", type: "Public" }, { name: "nbg1", zone: "nbg1", type: "Public" }] }), groups: HETZNER_GROUPS },
  {
    name: "gossip DNS on Hetzner (a name ending .k8s.local)",
    cluster: hetzner({ topology: { masters: "public" } }, "dev.k8s.local"),
    groups: Object.fromEntries(Object.entries(HETZNER_GROUPS).map(([n, g]) => [n, ig(n, (g as { spec: Record<string, unknown> }).spec, "dev.k8s.local")])),
  },
  { name: "no topology at all on Hetzner", cluster: hetzner({ topology: undefined }), groups: HETZNER_GROUPS },
  { name: "private DNS and amazonvpc on AWS", cluster: cluster({ topology: { dns: { type: "Private" } }, networking: { amazonvpc: {} }, sshAccess: ["pl-0123456789abcdef0"] }) },
];

describe("validation follows kops's cloud support rules", function () {
  for (const c of cloudCases) {
    it(`refuses ${c.name}`, function () {
      const problems = validateClusterWithGroups(c.cluster, c.groups ?? GROUPS);
      assert.ok(problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).includes(c.problem), problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join("\n") || "no problems");
    });
  }
  for (const c of cloudAccepted) {
    it(`accepts ${c.name}`, function () {
      assert.deepEqual(validateClusterWithGroups(c.cluster, c.groups ?? GROUPS), []);
    });
  }
});

describe("a schema problem the stored document already had is not a refusal", function () {
  const typo = (maxpods: number) => cluster({ kubelet: { maxpods, anonymousAuth: false } });
  const group = (extra: Record<string, unknown>) => ({ ...GROUPS, "nodes-us-east-1a": ig("nodes-us-east-1a", { role: "Node", minSize: 1, maxSize: 3, subnets: ["us-east-1a"], ...extra }) });
  const text = (problems: { file?: string; path: string; message: string }[]) => problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join("\n");

  it("an unknown field kept with its value, beside a change elsewhere", function () {
    const after = typo(5);
    (after.spec as Record<string, unknown>).kubernetesVersion = "v1.30.3";
    assert.deepEqual(validateClusterWithGroups(after, GROUPS, typo(5)), []);
  });
  it("an unknown field added is refused", function () {
    assert.match(text(validateClusterWithGroups(typo(5), GROUPS, cluster())), /config: spec.kubelet.maxpods: unknown field/);
  });
  it("an unknown field whose value changed is refused", function () {
    assert.match(text(validateClusterWithGroups(typo(6), GROUPS, typo(5))), /config: spec.kubelet.maxpods: unknown field/);
  });
  it("in an instance group, against that group's stored revision", function () {
    const stored = group({ rootVolumeSise: 50 });
    const after = group({ rootVolumeSise: 50, maxSize: 5 });
    assert.deepEqual(validateClusterWithGroups(cluster(), after, cluster(), undefined, stored), []);
    assert.match(text(validateClusterWithGroups(cluster(), after, cluster(), undefined, GROUPS)), /instancegroup\/nodes-us-east-1a: spec.rootVolumeSise: unknown field/);
  });
  it("a wrong type kept with its value", function () {
    const before = cluster({ kubelet: { maxPods: "110" } });
    assert.deepEqual(validateClusterWithGroups(before, GROUPS, before), []);
  });
  it("a required field missing before and after is still refused", function () {
    const before = cluster({ kubernetesVersion: undefined });
    assert.match(text(validateClusterWithGroups(before, GROUPS, before)), /spec.kubernetesVersion: required/);
  });
});

describe("validation follows kops's offline rules", function () {
  it("accepts a valid cluster", function () {
    assert.deepEqual(validateClusterWithGroups(cluster(), GROUPS), []);
  });
  for (const c of cases) {
    it(`refuses ${c.name}`, function () {
      const problems = validateClusterWithGroups(c.cluster ?? cluster(), c.groups ?? GROUPS, c.previous);
      const text = problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join("\n");
      assert.match(text, c.problem);
    });
  }
});
