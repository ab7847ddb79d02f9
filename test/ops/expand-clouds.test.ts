/**
 * The per-cloud shape of `kops create cluster`'s documents (cloud-layout.ts, as expand.ts uses it):
 * GCE's regional subnets and ranges, Azure's one subnet for the cluster, OpenStack's cloud config.
 * Expected values are kops v1.36.2's own (`kops create cluster --dry-run -o yaml`, as the expansion
 * matrix runs it) where the matrix covers the case, and kops's source otherwise.
 */
import * as assert from "node:assert/strict";
import { azureZoneToLocation, gceAssignments, GceRanges, gceZoneToRegion } from "../../src/ops/cloud-layout";
import { expandOptions, isOptionField, type StoredCluster } from "../../src/ops/expand";
import { mergeOverlay } from "../../src/ops/merge";
import type { ClusterOptions } from "../../src/ops/options";

type Doc = Record<string, any>;

const NAME = "dev.k8s.example.com";
const STORE = "file:///tmp/kstate-state";

/** What a new cluster's documents hold: kops's defaults with the options' fields over them. */
function create(o: ClusterOptions): { spec: Doc; groups: Record<string, Doc>; owned: Doc } {
  const e = expandOptions(NAME, STORE, o);
  assert.deepEqual(e.problems, []);
  const groups: Record<string, Doc> = {};
  for (const g of new Set([...Object.keys(e.defaults.instanceGroups), ...Object.keys(e.owned.instanceGroups)])) {
    groups[g] = (mergeOverlay(e.defaults.instanceGroups[g] ?? {}, e.owned.instanceGroups[g] ?? {}) as Doc).spec;
  }
  return { spec: (mergeOverlay(e.defaults.cluster, e.owned.cluster) as Doc).spec, groups, owned: e.owned.cluster.spec as Doc };
}

/** The merge's own expansion on a stored cluster: what the options name, and what kops would fill in. */
function merge(stored: StoredCluster, o: ClusterOptions) {
  return expandOptions(NAME, STORE, o, stored);
}

function problemsOf(o: ClusterOptions, stored?: StoredCluster): string[] {
  return expandOptions(NAME, STORE, o, stored).problems.map((p) => `${p.option}: ${p.message}`);
}

/** A stored cluster as kops (and kstate) create it with these options. */
function storedFrom(o: ClusterOptions): StoredCluster {
  const c = create(o);
  return { spec: c.spec, groups: new Map(Object.entries(c.groups).map(([n, s]) => [n, { spec: s }])) };
}

describe("expansion per cloud: GCE", function () {
  const gce = (more: ClusterOptions = {}): ClusterOptions => ({ cloud: "gce", project: "p", ...more });

  it("one subnet per region, named after it, with the /20 kops's network assignment gives; groups name their zone", function () {
    const c = create(gce({ zones: ["us-central1-a", "us-central1-b", "us-central1-c"], controlPlaneZones: ["us-central1-a", "us-central1-b", "us-central1-c"] }));
    assert.deepEqual(c.spec.subnets, [{ name: "us-central1", type: "Public", region: "us-central1", cidr: "10.0.16.0/20" }]);
    assert.deepEqual(c.spec.cloudConfig, {});
    for (const z of ["a", "b", "c"]) {
      assert.deepEqual([c.groups[`nodes-us-central1-${z}`]!.subnets, c.groups[`nodes-us-central1-${z}`]!.zones], [["us-central1"], [`us-central1-${z}`]]);
      assert.deepEqual([c.groups[`control-plane-us-central1-${z}`]!.subnets, c.groups[`control-plane-us-central1-${z}`]!.zones], [["us-central1"], [`us-central1-${z}`]]);
    }
    assert.ok(c.spec.etcdClusters.every((e: Doc) => e.etcdMembers.every((m: Doc) => !("encryptedVolume" in m))), "etcd volumes are encrypted by default on AWS only");
    assert.equal(c.spec.networkCIDR, undefined);
  });

  it("private: no utility subnets; the bastion goes in the regional subnet and lists every zone", function () {
    const c = create(gce({ zones: ["us-central1-b", "us-central1-a"], topology: "private", bastion: true }));
    assert.deepEqual(c.spec.subnets, [{ name: "us-central1", type: "Private", region: "us-central1", cidr: "10.0.16.0/20" }]);
    assert.deepEqual([c.groups.bastions!.subnets, c.groups.bastions!.zones], [["us-central1"], ["us-central1-a", "us-central1-b"]]);
  });

  it("zones in two regions make two subnets, each with its own /20, in zone order as kops lays them out", function () {
    const c = create(gce({ zones: ["us-central1-a", "europe-west1-b"] }));
    assert.deepEqual(c.spec.subnets.map((s: Doc) => [s.name, s.cidr]), [["europe-west1", "10.0.16.0/20"], ["us-central1", "10.0.32.0/20"]]);
  });

  it("--networking gce (IP aliases): a /19 for the nodes, pods a /14, services a /16, nonMasqueradeCIDR 10.0.0.0/8, all named by the option", function () {
    const c = create(gce({ zones: ["us-central1-a"], networking: "gce" }));
    assert.equal(c.spec.subnets[0].cidr, "10.0.32.0/19");
    assert.deepEqual([c.spec.nonMasqueradeCIDR, c.spec.podCIDR, c.spec.serviceClusterIPRange], ["10.0.0.0/8", "10.4.0.0/14", "10.1.0.0/16"]);
    assert.deepEqual([c.owned.nonMasqueradeCIDR, c.owned.podCIDR, c.owned.serviceClusterIPRange], ["10.0.0.0/8", "10.4.0.0/14", "10.1.0.0/16"]);
  });

  it("refuses what kops refuses: IP aliases over two subnets, a zone without a region, several subnet ids", function () {
    assert.match(problemsOf(gce({ zones: ["us-central1-a", "europe-west1-b"], networking: "gce" })).join("\n"), /^networking: GCE IP aliases \(networking gce\) put the nodes in exactly one subnet; the cluster would have 2 \(europe-west1, us-central1\)/);
    assert.deepEqual(problemsOf(gce({ zones: ["us-central1"] })), ['zones: "us-central1" is not a GCE zone (region-letter, e.g. us-central1-a), so kops has no subnet to put it in']);
    assert.match(problemsOf(gce({ zones: ["us-central1-a"], subnetIds: ["a", "b"] })).join("\n"), /^subnetIds: GCE's subnets are regional: kops takes exactly one/);
    assert.match(problemsOf(gce({ zones: ["us-central1-a"], topology: "private", utilitySubnetIds: ["u"] })).join("\n"), /^utilitySubnetIds: GCE has no utility subnets/);
  });

  it("an existing subnet (--subnets) is the region's, and gets no range", function () {
    const c = create(gce({ zones: ["us-central1-a"], subnetIds: ["kops-subnet"] }));
    assert.deepEqual(c.spec.subnets, [{ name: "us-central1", type: "Public", region: "us-central1", id: "kops-subnet" }]);
  });

  it("a new zone in the cluster's region joins its subnet: no second subnet, no new range", function () {
    const stored = storedFrom(gce({ zones: ["us-central1-a"] }));
    const e = merge(stored, { zones: ["us-central1-a", "us-central1-b"] });
    assert.deepEqual(e.problems, []);
    assert.deepEqual(e.owned.cluster.spec, { subnets: [{ name: "us-central1", type: "Public", region: "us-central1" }], etcdClusters: (e.owned.cluster.spec as Doc).etcdClusters });
    assert.equal((e.defaults.cluster.spec as Doc).subnets, undefined);
    assert.deepEqual(e.owned.instanceGroups["nodes-us-central1-b"], { spec: { role: "Node", subnets: ["us-central1"], zones: ["us-central1-b"] } });
    assert.deepEqual(e.owned.instanceGroups["control-plane-us-central1-a"]?.spec, { role: "Master", minSize: 1, maxSize: 1, subnets: ["us-central1"], zones: ["us-central1-a"] });
  });

  it("a new zone in another region gets its subnet a /20 clear of the cluster's", function () {
    const stored = storedFrom(gce({ zones: ["us-central1-a"] }));
    const e = merge(stored, { zones: ["europe-west1-b"] });
    assert.deepEqual((e.defaults.cluster.spec as Doc).subnets, [{ name: "europe-west1", cidr: "10.0.32.0/20" }]);
  });

  it("--networking gce on a running cluster of another plugin is refused; on one made with gce, pod and service ranges stay as they are and again nothing changes", function () {
    const stored = storedFrom(gce({ zones: ["us-central1-a"] }));
    assert.deepEqual(merge(stored, { networking: "gce" }).problems.map((p) => p.option), ["networking"], "cilium to gce is a migration");
    const made = storedFrom(gce({ zones: ["us-central1-a"], networking: "gce" }));
    const e = merge({ ...made, spec: { ...made.spec, nonMasqueradeCIDR: undefined, podCIDR: undefined, serviceClusterIPRange: undefined } }, { networking: "gce" });
    const owned = e.owned.cluster.spec as Doc;
    assert.deepEqual([owned.nonMasqueradeCIDR, owned.podCIDR, owned.serviceClusterIPRange], ["10.0.0.0/8", "10.4.0.0/14", "10.1.0.0/16"]);
    assert.equal(owned.subnets, undefined);
    assert.equal((e.defaults.cluster.spec as Doc).subnets, undefined);
    const after = { ...stored, spec: { ...stored.spec, nonMasqueradeCIDR: "10.0.0.0/8", podCIDR: "10.4.0.0/14", serviceClusterIPRange: "10.1.0.0/16", networking: { gce: {} } } };
    const again = merge(after, { networking: "gce" }).owned.cluster.spec as Doc;
    assert.deepEqual([again.nonMasqueradeCIDR, again.podCIDR, again.serviceClusterIPRange], ["10.0.0.0/8", "10.4.0.0/14", "10.1.0.0/16"]);
  });

  it("kops's allocator: the first block of each size is never used, and ranges in use are stepped over", function () {
    const r = new GceRanges(["10.0.16.0/20"]);
    assert.deepEqual([r.allocate(14), r.allocate(16), r.allocate(19), r.allocate(20)], ["10.4.0.0/14", "10.1.0.0/16", "10.0.32.0/19", "10.0.64.0/20"]);
    assert.equal(new GceRanges(["10.0.0.0/8"]).allocate(20), undefined);
    const none = gceAssignments({}, [{ name: "us-central1" }], new Set(["us-central1"]), ["cilium"]);
    assert.deepEqual(none, { subnets: [{ name: "us-central1", cidr: "10.0.16.0/20" }], ranges: {} });
  });

  it("zone to region as kops reads it: the first two parts; fewer than three parts is no zone", function () {
    assert.deepEqual(["us-central1-a", "europe-west4-b", "us-central1", "a"].map(gceZoneToRegion), ["us-central1", "europe-west4", undefined, undefined]);
  });
});

describe("expansion per cloud: Azure", function () {
  const azure = (more: ClusterOptions = {}): ClusterOptions => ({ cloud: "azure", azureSubscriptionId: "sub-1", ...more });

  it("one subnet named after the cluster, with the whole network (default 10.0.0.0/16); groups name their zone", function () {
    const c = create(azure({ zones: ["eastus-1", "eastus-2", "eastus-3"], controlPlaneCount: 3 }));
    assert.equal(c.spec.networkCIDR, "10.0.0.0/16");
    assert.deepEqual(c.spec.subnets, [{ name: NAME, type: "Public", region: "eastus", cidr: "10.0.0.0/16" }]);
    assert.deepEqual(c.spec.cloudConfig, { azure: { adminUser: "kops", tenantId: "", subscriptionId: "sub-1" } });
    assert.deepEqual([c.groups["nodes-eastus-2"]!.subnets, c.groups["nodes-eastus-2"]!.zones], [[NAME], ["eastus-2"]]);
    assert.deepEqual([c.groups["control-plane-eastus-3"]!.subnets, c.groups["control-plane-eastus-3"]!.zones], [[NAME], ["eastus-3"]]);
  });

  it("--network-cidr is the subnet's too", function () {
    assert.equal(create(azure({ zones: ["eastus-1"], networkCidr: "10.20.0.0/16" })).spec.subnets[0].cidr, "10.20.0.0/16");
  });

  it("the subscription is the option's, on Azure only", function () {
    assert.deepEqual(create({ cloud: "azure", zones: ["eastus-1"] }).spec.cloudConfig, { azure: { adminUser: "kops", tenantId: "" } });
    assert.equal(create({ cloud: "aws", zones: ["us-east-1a"], azureSubscriptionId: "sub-1" }).spec.cloudConfig, undefined);
    assert.ok(isOptionField("config", "spec.cloudConfig.azure.subscriptionId"));
    assert.ok(!isOptionField("config", "spec.cloudConfig.azure.adminUser"));
  });

  it("a new zone joins the one subnet", function () {
    const stored = storedFrom(azure({ zones: ["eastus-1"] }));
    const e = merge(stored, { zones: ["eastus-2"] });
    assert.deepEqual(e.problems, []);
    assert.deepEqual((e.owned.cluster.spec as Doc).subnets, [{ name: NAME, type: "Public", region: "eastus" }]);
    assert.equal((e.defaults.cluster.spec as Doc).subnets, undefined);
    assert.deepEqual(e.owned.instanceGroups["nodes-eastus-2"], { spec: { role: "Node", subnets: [NAME], zones: ["eastus-2"] } });
  });

  it("refuses a zone without its number, and subnet ids (kops does not use them on Azure)", function () {
    assert.deepEqual(problemsOf(azure({ zones: ["eastus"] })), ['zones: "eastus" is not an Azure zone (location-number, e.g. eastus-1), so kops has no subnet to put it in']);
    assert.match(problemsOf(azure({ zones: ["eastus-1"], subnetIds: ["s"] })).join("\n"), /^subnetIds: kops does not use existing subnets on Azure/);
    assert.deepEqual(["eastus-1", "eastus", "east-us-1"].map(azureZoneToLocation), ["eastus", undefined, undefined]);
  });
});

describe("expansion per cloud: OpenStack", function () {
  const openstack = (more: ClusterOptions = {}): ClusterOptions => ({ cloud: "openstack", networkCidr: "10.0.0.0/16", zones: ["nova"], ...more });

  it("kops's cloud config: the router, block storage and monitor, and the cloud controller manager's cluster name", function () {
    const c = create(openstack());
    assert.deepEqual(c.spec.cloudConfig, {
      openstack: {
        router: { externalNetwork: "" },
        blockStorage: { "bs-version": "v3", "ignore-volume-az": false, clusterName: NAME },
        monitor: { delay: "15s", timeout: "10s", maxRetries: 3 },
      },
    });
    assert.deepEqual(c.spec.cloudControllerManager, { clusterName: NAME });
    assert.deepEqual(c.spec.subnets, [{ name: "nova", type: "Public", zone: "nova", cidr: "10.0.0.0/16" }]);
  });

  it("no default machine type: kops takes it from the cloud's flavor list, which kstate cannot read", function () {
    const c = create(openstack({ zones: ["az1", "az2"], topology: "private", bastion: true }));
    for (const g of ["nodes-az1", "control-plane-az1", "bastions"]) assert.equal(c.groups[g]!.machineType, undefined, g);
  });

  it("--api-loadbalancer-type: kops's load balancer settings (its floating network id is looked up in the cloud, so absent)", function () {
    assert.deepEqual(create(openstack({ apiLoadBalancerType: "public" })).spec.cloudConfig.openstack.loadbalancer,
      { floatingNetwork: "", method: "ROUND_ROBIN", provider: "haproxy", useOctavia: false });
  });
});

describe("expansion per cloud: the zonal clouds keep their layout", function () {
  it("AWS private: a subnet and a utility subnet per zone, no zones on groups, no cloud config", function () {
    const c = create({ cloud: "aws", zones: ["us-east-1a", "us-east-1b"], topology: "private", bastion: true });
    assert.deepEqual(c.spec.subnets.map((s: Doc) => [s.name, s.type, s.zone, s.cidr]), [
      ["us-east-1a", "Private", "us-east-1a", "172.20.64.0/18"], ["us-east-1b", "Private", "us-east-1b", "172.20.128.0/18"],
      ["utility-us-east-1a", "Utility", "us-east-1a", "172.20.0.0/21"], ["utility-us-east-1b", "Utility", "us-east-1b", "172.20.8.0/21"],
    ]);
    assert.deepEqual([c.groups.bastions!.subnets, c.groups.bastions!.zones, c.groups["nodes-us-east-1a"]!.zones], [["us-east-1a", "us-east-1b"], undefined, undefined]);
    assert.equal(c.spec.cloudConfig, undefined);
  });

  it("DigitalOcean: the subnet is the region, and says so", function () {
    assert.deepEqual(create({ cloud: "digitalocean", zones: ["nyc1"] }).spec.subnets, [{ name: "nyc1", type: "Public", zone: "nyc1", region: "nyc1" }]);
  });

  it("groups' zones are an option field (kept when the options stop naming them)", function () {
    assert.ok(isOptionField("instancegroup/nodes-us-central1-a", "spec.zones"));
  });
});
