/**
 * The flags that only set fields (src/ops/option-fields.ts): each value to the fields it names,
 * as kops v1.36.2 writes them (cmd/kops/create_cluster.go, upup/pkg/fi/cloudup/new_cluster.go),
 * and the values refused with the reason.
 */
import * as assert from "node:assert/strict";
import { CREATE_FLAGS } from "../../src/cli/create-flags";
import { FIELD_OPTIONS, type FieldPlaces, fieldOptionCloudProblems, isFieldOptionPath, optionFields, parseCloudLabels } from "../../src/ops/option-fields";
import { checkOptions, type ClusterOptions, OPTION_NAMES } from "../../src/ops/options";

type Doc = Record<string, unknown>;

const AT: FieldPlaces = {
  cloud: "aws",
  nodeGroups: ["nodes-us-east-1a", "nodes-us-east-1b"],
  controlPlaneGroups: ["control-plane-us-east-1a"],
  bastionGroups: ["bastions"],
  etcdClusters: ["main", "events"],
  etcdMembers: ["a"],
  apiLoadBalancer: true,
};

const NODES = ["nodes-us-east-1a", "nodes-us-east-1b"];
const onGroups = (groups: string[], fields: Doc) => Object.fromEntries(groups.map((g) => [g, { spec: fields }]));
const onMembers = (fields: Doc) => ({ etcdClusters: ["main", "events"].map((name) => ({ name, etcdMembers: [{ name: "a", ...fields }] })) });
const gates = (g: Doc) => Object.fromEntries(["kubelet", "kubeAPIServer", "kubeControllerManager", "kubeProxy", "kubeScheduler"].map((c) => [c, { featureGates: g }]));

interface Case {
  name: string;
  options: ClusterOptions;
  at?: Partial<FieldPlaces>;
  cluster?: Doc;
  groups?: Record<string, Doc>;
}

const cases: Case[] = [
  { name: "--kubernetes-feature-gates A,+B,-C: every component's featureGates, as strings", options: { kubernetesFeatureGates: ["A", "+B", "-C"] }, cluster: gates({ A: "true", B: "true", C: "false" }) },
  { name: "--kubernetes-feature-gates A,-A: the later one wins", options: { kubernetesFeatureGates: ["A", "-A"] }, cluster: gates({ A: "false" }) },
  { name: "--container-runtime containerd: nothing", options: { containerRuntime: "containerd" } },
  { name: "--bastion-image: the bastions group's image", options: { bastionImage: "ubuntu/bastion" }, groups: onGroups(["bastions"], { image: "ubuntu/bastion" }) },
  { name: "--bastion-image without a bastions group: nothing", options: { bastionImage: "ubuntu/bastion" }, at: { bastionGroups: [] } },
  { name: "--node-volume-type: rootVolumeType of the nodes-<zone> groups", options: { nodeVolumeType: "gp3" }, groups: onGroups(NODES, { rootVolumeType: "gp3" }) },
  { name: "--control-plane-volume-type: rootVolumeType of the control-plane groups", options: { controlPlaneVolumeType: "io1" }, groups: onGroups(["control-plane-us-east-1a"], { rootVolumeType: "io1" }) },
  {
    name: "--associate-public-ip: every group kops lays out, bastions too", options: { associatePublicIp: true },
    groups: onGroups([...NODES, "control-plane-us-east-1a", "bastions"], { associatePublicIp: true }),
  },
  {
    name: "--associate-public-ip=false: false, written (kops writes the pointer)", options: { associatePublicIp: false },
    groups: onGroups([...NODES, "control-plane-us-east-1a", "bastions"], { associatePublicIp: false }),
  },
  { name: "--node-security-groups: additionalSecurityGroups of the nodes", options: { nodeSecurityGroups: ["sg-1", "sg-2"] }, groups: onGroups(NODES, { additionalSecurityGroups: ["sg-1", "sg-2"] }) },
  { name: "--control-plane-security-groups: of the control plane", options: { controlPlaneSecurityGroups: ["sg-3"] }, groups: onGroups(["control-plane-us-east-1a"], { additionalSecurityGroups: ["sg-3"] }) },
  { name: "--node-tenancy: tenancy of the nodes", options: { nodeTenancy: "dedicated" }, groups: onGroups(NODES, { tenancy: "dedicated" }) },
  { name: "--control-plane-tenancy: tenancy of the control plane", options: { controlPlaneTenancy: "host" }, groups: onGroups(["control-plane-us-east-1a"], { tenancy: "host" }) },
  { name: "--instance-manager cloudgroups: nothing (kops's default)", options: { instanceManager: "cloudgroups" } },
  { name: "--disable-subnet-tags: spec.DisableSubnetTags true", options: { disableSubnetTags: true }, cluster: { DisableSubnetTags: true } },
  { name: "--disable-subnet-tags=false: the field absent, as kops leaves it", options: { disableSubnetTags: false }, cluster: { DisableSubnetTags: null } },
  { name: "--encrypt-etcd-storage: encryptedVolume of every member of every etcd cluster", options: { encryptEtcdStorage: true }, cluster: onMembers({ encryptedVolume: true }) },
  { name: "--encrypt-etcd-storage=false: encryptedVolume absent, as kops leaves it", options: { encryptEtcdStorage: false }, cluster: onMembers({ encryptedVolume: null }) },
  { name: "--etcd-storage-type: volumeType of every member", options: { etcdStorageType: "gp3" }, cluster: onMembers({ volumeType: "gp3" }) },
  { name: "--encrypt-etcd-storage with --etcd-storage-type: both, on the same members", options: { encryptEtcdStorage: true, etcdStorageType: "io1" }, cluster: onMembers({ encryptedVolume: true, volumeType: "io1" }) },
  {
    name: "--etcd-storage-type with three members", options: { etcdStorageType: "gp3" }, at: { etcdClusters: ["main"], etcdMembers: ["a", "b", "c"] },
    cluster: { etcdClusters: [{ name: "main", etcdMembers: ["a", "b", "c"].map((name) => ({ name, volumeType: "gp3" })) }] },
  },
  { name: "--authorization AlwaysAllow: alwaysAllow, rbac removed", options: { authorization: "AlwaysAllow" }, cluster: { authorization: { alwaysAllow: {}, rbac: null } } },
  { name: "--authorization rbac (any case): rbac, alwaysAllow removed", options: { authorization: "rbac" }, cluster: { authorization: { rbac: {}, alwaysAllow: null } } },
  { name: "--cloud-labels k=v,k2=v2: spec.cloudLabels", options: { cloudLabels: "Owner=John Doe,Team=Some Team" }, cluster: { cloudLabels: { Owner: "John Doe", Team: "Some Team" } } },
  { name: "cloudLabels as a map", options: { cloudLabels: { env: "dev" } }, cluster: { cloudLabels: { env: "dev" } } },
  { name: "--api-loadbalancer-class classic, on AWS with a load balancer", options: { apiLoadBalancerClass: "classic" }, cluster: { api: { loadBalancer: { class: "Classic" } } } },
  { name: "--api-loadbalancer-class network", options: { apiLoadBalancerClass: "network" }, cluster: { api: { loadBalancer: { class: "Network" } } } },
  { name: "--api-loadbalancer-class without a load balancer: nothing (kops ignores it)", options: { apiLoadBalancerClass: "network" }, at: { apiLoadBalancer: false } },
  { name: "--api-loadbalancer-class off AWS: nothing (kops ignores it)", options: { apiLoadBalancerClass: "network" }, at: { cloud: "gce" } },
  { name: "--api-ssl-certificate with a load balancer: its sslCertificate", options: { apiSslCertificate: "arn:aws:acm:us-east-1:1:certificate/x" }, cluster: { api: { loadBalancer: { sslCertificate: "arn:aws:acm:us-east-1:1:certificate/x" } } } },
  {
    name: "--api-ssl-certificate without one: a public network load balancer, as kops gives it", options: { apiSslCertificate: "arn:x" }, at: { apiLoadBalancer: false },
    cluster: { api: { dns: null, loadBalancer: { type: "Public", class: "Network", sslCertificate: "arn:x" } } },
  },
  {
    name: "--api-ssl-certificate and --api-loadbalancer-class without a load balancer: the class applies to the one the certificate brings",
    options: { apiSslCertificate: "arn:x", apiLoadBalancerClass: "network" }, at: { apiLoadBalancer: false },
    cluster: { api: { dns: null, loadBalancer: { type: "Public", class: "Network", sslCertificate: "arn:x" } } },
  },
  { name: "--api-public-name: spec.masterPublicName", options: { apiPublicName: "k8s.example.com" }, cluster: { masterPublicName: "k8s.example.com" } },
  { name: "--gce-service-account on GCE: spec.cloudConfig.gceServiceAccount", options: { gceServiceAccount: "vm@p.iam.gserviceaccount.com" }, at: { cloud: "gce" }, cluster: { cloudConfig: { gceServiceAccount: "vm@p.iam.gserviceaccount.com" } } },
  { name: "--gce-service-account off GCE: nothing (kops ignores it)", options: { gceServiceAccount: "vm@p.iam.gserviceaccount.com" } },
  { name: "options of expand.ts only: nothing", options: { zones: ["us-east-1a"], nodeSize: "m5.large", image: "img" } },
  {
    name: "several flags on one group merge", options: { nodeVolumeType: "gp3", nodeTenancy: "dedicated", nodeSecurityGroups: ["sg-1"], associatePublicIp: false },
    at: { controlPlaneGroups: [], bastionGroups: [] },
    groups: onGroups(NODES, { rootVolumeType: "gp3", associatePublicIp: false, additionalSecurityGroups: ["sg-1"], tenancy: "dedicated" }),
  },
  { name: "an invalid value names nothing", options: { nodeTenancy: "shared", authorization: "ABAC" } },
];

describe("option-fields: flags that set fields", function () {
  describe("each value to the fields it names", function () {
    for (const c of cases) {
      it(c.name, function () {
        const got = optionFields(c.options, { ...AT, ...c.at });
        assert.deepEqual(got.cluster, c.cluster ? { spec: c.cluster } : {});
        assert.deepEqual(got.instanceGroups, c.groups ?? {});
      });
    }
  });

  describe("values refused, naming the option", function () {
    const refused: [ClusterOptions, string][] = [
      [{ kubernetesFeatureGates: ["Foo=true"] }, 'kubernetesFeatureGates: "Foo=true" is not a feature gate: give Name to enable it, -Name to disable it'],
      [{ kubernetesFeatureGates: ["-"] }, 'kubernetesFeatureGates: "-" is not a feature gate: give Name to enable it, -Name to disable it'],
      [{ containerRuntime: "docker" as "containerd" }, "containerRuntime: containerd is kops's only container runtime (kops ignores the flag; kstate refuses another value rather than ignore it)"],
      [{ bastionImage: "" }, "bastionImage: must be a non-empty string"],
      [{ associatePublicIp: "yes" as unknown as boolean }, "associatePublicIp: must be true or false"],
      [{ nodeSecurityGroups: [] }, "nodeSecurityGroups: must be a non-empty list of security group ids"],
      [{ controlPlaneSecurityGroups: ["sg-1", "sg-1"] }, "controlPlaneSecurityGroups: lists a security group twice"],
      [{ nodeTenancy: "shared" }, "nodeTenancy: must be default, dedicated or host"],
      [{ instanceManager: "karpenter" }, "instanceManager: karpenter needs --discovery-store, which kstate does not take (kops then lays out one Karpenter-managed nodes group and sets spec.karpenter.enabled: do that with kstate edit)"],
      [{ instanceManager: "asg" as "cloudgroups" }, "instanceManager: must be cloudgroups or karpenter"],
      [{ authorization: "ABAC" }, "authorization: must be RBAC or AlwaysAllow"],
      [{ cloudLabels: "a=b,c" }, 'cloudLabels: "c" is not one key=value pair'],
      [{ cloudLabels: "a=b=c" }, 'cloudLabels: "a=b=c" is not one key=value pair'],
      [{ cloudLabels: 'a="b' }, 'cloudLabels: "a=\\"b": a quote is not closed'],
      [{ cloudLabels: "Name=x" }, 'cloudLabels: "Name" is reserved for kops\'s own labels (Name, KubernetesCluster, kubernetes.io/cluster/*, k8s.io/role/*, kops.k8s.io/*)'],
      [{ cloudLabels: "kops.k8s.io/x=y" }, 'cloudLabels: "kops.k8s.io/x" is reserved for kops\'s own labels (Name, KubernetesCluster, kubernetes.io/cluster/*, k8s.io/role/*, kops.k8s.io/*)'],
      [{ cloudLabels: "=v" }, "cloudLabels: a label needs a key"],
      [{ cloudLabels: { a: 1 } as unknown as Record<string, string> }, "cloudLabels: must be key=value pairs (k=v,k2=v2) or a map of strings"],
      [{ apiLoadBalancerClass: "Network" as "network" }, "apiLoadBalancerClass: must be classic or network"],
      [{ apiSslCertificate: "arn:x", apiLoadBalancerClass: "classic" }, "apiSslCertificate: needs a network load balancer (kops refuses it with apiLoadBalancerClass classic)"],
      [{ cloud: "gce", apiSslCertificate: "arn:x", project: "p" }, "apiSslCertificate: is an AWS setting (the cloud is gce)"],
      [{ cloud: "hetzner", apiLoadBalancerClass: "network" }, "apiLoadBalancerClass: is an AWS setting (the cloud is hetzner)"],
      [{ cloud: "aws", gceServiceAccount: "x@y" }, "gceServiceAccount: is a GCE setting (the cloud is aws)"],
      [{ cloud: "aws", nodeSecurityGroups: ["default"] }, 'nodeSecurityGroups: "default" is not an AWS security group id (sg-…)'],
      [{ cloud: "aws", controlPlaneVolumeType: "pd-ssd" }, 'controlPlaneVolumeType: must be one of standard, gp3, gp2, io1, io2 on AWS (got "pd-ssd")'],
    ];
    for (const [options, message] of refused) {
      it(message, function () {
        assert.deepEqual(checkOptions(options).map((p) => `${p.option}: ${p.message}`), [message]);
      });
    }

    it("the cloud's rules apply to a stored cluster's cloud too (fieldOptionCloudProblems)", function () {
      assert.deepEqual(fieldOptionCloudProblems({ gceServiceAccount: "x@y" }, "gce"), []);
      assert.deepEqual(fieldOptionCloudProblems({ gceServiceAccount: "x@y", nodeVolumeType: "pd-ssd" }, "digitalocean").map((p) => p.option), ["gceServiceAccount"]);
      assert.deepEqual(fieldOptionCloudProblems({ nodeSecurityGroups: ["sg-1"], nodeVolumeType: "gp3", apiSslCertificate: "arn:x" }, "aws"), []);
    });

    it("valid values pass", function () {
      const ok: ClusterOptions = {
        cloud: "aws", kubernetesFeatureGates: ["InPlacePodVerticalScaling", "-CSIMigrationAWS"], containerRuntime: "containerd", bastionImage: "img", nodeVolumeType: "gp3",
        controlPlaneVolumeType: "io1", associatePublicIp: false, nodeSecurityGroups: ["sg-1"], controlPlaneSecurityGroups: ["sg-2"], nodeTenancy: "default", controlPlaneTenancy: "dedicated",
        instanceManager: "cloudgroups", disableSubnetTags: true, encryptEtcdStorage: false, etcdStorageType: "gp3", authorization: "alwaysallow", cloudLabels: 'a=b,"c=d"=e',
        apiLoadBalancerClass: "network", apiSslCertificate: "arn:x", apiPublicName: "api.example.com",
      };
      assert.deepEqual(checkOptions(ok), []);
    });
  });

  describe("--cloud-labels, read as kops reads it", function () {
    const parsed: [string, Record<string, string>][] = [
      ["Owner=John Doe,Team=Some Team", { Owner: "John Doe", Team: "Some Team" }],
      ['foo="bar=baz"', { foo: "bar=baz" }],
      ['"a=b"=c', { "a=b": "c" }],
      ["a=b,,c=d", { a: "b", c: "d" }],
      ["  a=  b ", { a: "b " }],
      ['q="say ""hi"""', { q: 'say "hi"' }],
      ["a=1,a=2", { a: "2" }],
      ["a=", { a: "" }],
    ];
    for (const [text, labels] of parsed) {
      it(JSON.stringify(text), function () {
        assert.deepEqual(parseCloudLabels(text), { labels });
      });
    }
    it("a label named error is a label", function () {
      assert.deepEqual(optionFields({ cloudLabels: "error=x" }, AT).cluster, { spec: { cloudLabels: { error: "x" } } });
    });
  });

  describe("the table's options", function () {
    it("are cluster options, and kstate create cluster flags", function () {
      const flags = new Set(CREATE_FLAGS.map((f) => f.option));
      for (const o of FIELD_OPTIONS) {
        assert.ok(OPTION_NAMES.includes(o), `${o} in OPTION_NAMES`);
        assert.ok(flags.has(o), `${o} has a flag`);
      }
      assert.equal(FIELD_OPTIONS.length, 20);
    });

    it("every field an option names is an option field (its value stays when the option is no longer given)", function () {
      const all: ClusterOptions = {
        kubernetesFeatureGates: ["A"], bastionImage: "i", nodeVolumeType: "gp3", controlPlaneVolumeType: "gp3", associatePublicIp: true, nodeSecurityGroups: ["sg-1"],
        controlPlaneSecurityGroups: ["sg-2"], nodeTenancy: "default", controlPlaneTenancy: "default", disableSubnetTags: true, encryptEtcdStorage: true, etcdStorageType: "gp3",
        authorization: "RBAC", cloudLabels: "a=b", apiLoadBalancerClass: "network", apiSslCertificate: "arn:x", apiPublicName: "n",
      };
      const got = optionFields(all, AT);
      const leaves = (v: unknown, base: string): string[] => (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0
        ? Object.entries(v).flatMap(([k, x]) => leaves(x, `${base}.${/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : `["${k}"]`}`.replace(/\.\[/, "[")))
        : Array.isArray(v) && v.every((x) => typeof x === "object" && x !== null && "name" in x)
          ? v.flatMap((x) => leaves({ ...x, name: undefined }, `${base}[name=${String((x as Doc).name)}]`))
          : v === undefined ? [] : [base]);
      const clusterPaths = leaves((got.cluster as Doc).spec, "spec");
      assert.ok(clusterPaths.length > 10, clusterPaths.join(", "));
      for (const p of clusterPaths) assert.ok(isFieldOptionPath("config", p), p);
      const gce = optionFields({ gceServiceAccount: "x@y" }, { ...AT, cloud: "gce" });
      for (const p of leaves((gce.cluster as Doc).spec, "spec")) assert.ok(isFieldOptionPath("config", p), p);
      for (const [g, d] of Object.entries(got.instanceGroups)) for (const p of leaves(d.spec, "spec")) assert.ok(isFieldOptionPath(`instancegroup/${g}`, p), `${g}: ${p}`);
      assert.equal(isFieldOptionPath("config", "spec.kubelet.maxPods"), false);
      assert.equal(isFieldOptionPath("instancegroup/x", "spec.nodeLabels.a"), false);
    });
  });
});
