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

function ig(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: "kops.k8s.io/v1alpha2", kind: "InstanceGroup", metadata: { name, labels: { "kops.k8s.io/cluster": "dev.k8s.example.com" } }, spec };
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
