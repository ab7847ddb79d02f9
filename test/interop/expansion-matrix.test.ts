/**
 * The expansion matrix: for each flag set, the real kops v1.36.2 (`kops create cluster NAME
 * <flags> --dry-run -o yaml`, offline: see test/support/kops-create.ts for what each cloud needs)
 * and kstate (`kstate create cluster NAME <flags> --dry-run -o yaml` on a fresh store) must print
 * the same Cluster and InstanceGroup documents, field for field (the few run-dependent fields of
 * NORMALISED_FIELDS aside).
 *
 * The merge half: the same flags given to `kstate create cluster` for a cluster that already
 * exists (and was edited by hand) change exactly the fields those flags name (MERGE_FIELDS), and
 * nothing else; a change kops cannot make to a running cluster (another cloud, another topology,
 * another network CIDR once subnets exist) is refused naming the flag, with nothing written.
 *
 * Set KSTATE_MATRIX_REPORT=<file> to have every result written there as JSON at the end.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYamlText } from "yaml";
import {
  CHANNEL, type Cloud, compareDocuments, type Difference, diffValues, type Doc, dryRunDocuments, formatDifferences, kopsErrors, KUBERNETES_VERSION, normalise,
  PROFILES, runKops, runKstate, sameSnapshot, snapshot, splitDocuments, type StandIns, startStandIns,
} from "../support/kops-create";

const NAME = "matrix.k8s.example.com";

interface FlagSet {
  id: string;
  cloud: Cloud;
  /** kops's flags, in kops's spellings. --cloud, --kubernetes-version, --channel and --image are added unless given. */
  flags: string[];
  /** `--name NAME` instead of the positional name. */
  nameAsFlag?: boolean;
}

/**
 * Differences kstate keeps on purpose, each with its reason: kops reads these from the cloud
 * itself, which kstate never calls. Nothing else may differ.
 */
const DECLARED: { cloud: Cloud; doc: RegExp; path: string; why: string }[] = [
  { cloud: "openstack", doc: /^InstanceGroup\//, path: "spec.machineType", why: "kops picks the default flavor from the cloud's flavor list; without --node-size kstate leaves it to kops" },
  { cloud: "openstack", doc: /^Cluster$/, path: "spec.cloudConfig.openstack.loadbalancer.floatingNetworkID", why: "kops looks the floating network's id up by its name in the cloud" },
];

function declared(id: string, d: Difference): boolean {
  const set = FLAG_SETS.find((s) => s.id === id);
  return DECLARED.some((x) => x.cloud === set?.cloud && x.doc.test(d.doc) && x.path === d.path && d.kstate === undefined);
}

const z = (region: string, letters: string) => letters.split("").map((l) => `${region}${l}`).join(",");

// prettier-ignore
const FLAG_SETS: FlagSet[] = [
  // aws
  { id: "aws-1-zone", cloud: "aws", flags: ["--zones", "us-east-1a"] },
  { id: "aws-3-zones", cloud: "aws", flags: ["--zones", z("us-east-1", "abc")] },
  { id: "aws-ha-3-cp-zones-4-nodes", cloud: "aws", flags: ["--zones", z("us-east-1", "abc"), "--control-plane-zones", z("us-east-1", "abc"), "--node-count", "4"] },
  { id: "aws-2-zones-3-cp-5-nodes", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--control-plane-count", "3", "--node-count", "5"] },
  { id: "aws-3-zones-7-nodes", cloud: "aws", flags: ["--zones", z("us-east-1", "abc"), "--node-count", "7", "--node-size", "m5.large", "--control-plane-size", "m5.xlarge"] },
  { id: "aws-3-cp-in-1-zone", cloud: "aws", flags: ["--zones", z("us-east-1", "abc"), "--control-plane-zones", "us-east-1a", "--control-plane-count", "3"] },
  { id: "aws-private-2-zones", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--topology", "private"] },
  { id: "aws-private-bastion", cloud: "aws", flags: ["--zones", z("us-east-1", "abc"), "--topology", "private", "--bastion"] },
  { id: "aws-private-internal-api-lb", cloud: "aws", flags: ["--zones", "us-east-1a", "--topology", "private", "--api-loadbalancer-type", "internal"] },
  { id: "aws-public-api-lb", cloud: "aws", flags: ["--zones", "us-east-1a", "--api-loadbalancer-type", "public"] },
  { id: "aws-sizes", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--node-size", "m5.2xlarge", "--control-plane-size", "c5.xlarge"] },
  { id: "aws-mixed-sizes", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--node-size", "m5.large,m5a.large", "--control-plane-size", "m5.xlarge,m5a.xlarge"] },
  { id: "aws-master-size-spelling", cloud: "aws", flags: ["--zones", "us-east-1a", "--master-size", "c5.large", "--node-size", "t3.large"] },
  { id: "aws-node-and-cp-images", cloud: "aws", flags: ["--zones", "us-east-1a", "--node-image", "ubuntu/node-image", "--control-plane-image", "ubuntu/cp-image"] },
  { id: "aws-calico", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--networking", "calico"] },
  { id: "aws-amazonvpc", cloud: "aws", flags: ["--zones", "us-east-1a", "--networking", "amazonvpc"] },
  { id: "aws-cilium-etcd", cloud: "aws", flags: ["--zones", "us-east-1a", "--networking", "cilium-etcd"] },
  { id: "aws-network-cidr", cloud: "aws", flags: ["--zones", z("us-east-1", "abc"), "--network-cidr", "10.10.0.0/16"] },
  { id: "aws-private-network-cidr", cloud: "aws", flags: ["--zones", z("us-east-1", "abcd"), "--topology", "private", "--network-cidr", "10.20.0.0/16"] },
  { id: "aws-dns-zone", cloud: "aws", flags: ["--zones", "us-east-1a", "--dns-zone", "example.com"] },
  { id: "aws-admin-and-ssh-access", cloud: "aws", flags: ["--zones", "us-east-1a", "--admin-access", "10.0.0.0/8", "--ssh-access", "192.168.0.0/16,172.16.0.0/12"] },
  { id: "aws-admin-access-only", cloud: "aws", flags: ["--zones", "us-east-1a", "--admin-access", "203.0.113.0/24"] },
  { id: "aws-volume-sizes", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--node-volume-size", "64", "--control-plane-volume-size", "32"] },
  { id: "aws-etcd-main-only", cloud: "aws", flags: ["--zones", "us-east-1a", "--etcd-clusters", "main"] },
  { id: "aws-name-flag-k8s-1.31", cloud: "aws", flags: ["--zones", "us-east-1a", "--kubernetes-version", "v1.31.4"], nameAsFlag: true },
  { id: "aws-set-maxpods", cloud: "aws", flags: ["--zones", "us-east-1a", "--set", "spec.kubelet.maxPods=200"] },
  { id: "aws-unset-anonymous-auth", cloud: "aws", flags: ["--zones", "us-east-1a", "--unset", "spec.kubelet.anonymousAuth"] },
  // aws: flags that only set fields (src/ops/option-fields.ts)
  { id: "aws-feature-gates-labels-authz", cloud: "aws", flags: ["--zones", "us-east-1a", "--kubernetes-feature-gates", "InPlacePodVerticalScaling,-CSIMigrationPortworx", "--cloud-labels", "Owner=John Doe,Team=platform", "--authorization", "AlwaysAllow"] },
  { id: "aws-group-fields-private-bastion", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--topology", "private", "--bastion", "--bastion-image", "ubuntu/bastion-image", "--node-size", "m5.large", "--control-plane-size", "m5.xlarge",
    "--node-volume-type", "gp3", "--control-plane-volume-type", "io1", "--associate-public-ip=false", "--node-security-groups", "sg-0123,sg-0456", "--control-plane-security-groups", "sg-0789", "--node-tenancy", "dedicated", "--control-plane-tenancy", "default"] },
  { id: "aws-master-spellings-associate-public-ip", cloud: "aws", flags: ["--zones", "us-east-1a", "--master-security-groups", "sg-0aaa", "--master-tenancy", "dedicated", "--control-plane-size", "m5.large", "--associate-public-ip", "--master-public-name", "api.matrix.example.com"] },
  { id: "aws-etcd-unencrypted-gp3-3-cp", cloud: "aws", flags: ["--zones", z("us-east-1", "abc"), "--control-plane-count", "3", "--encrypt-etcd-storage=false", "--etcd-storage-type", "gp3"] },
  { id: "aws-etcd-encrypted-gp2", cloud: "aws", flags: ["--zones", "us-east-1a", "--encrypt-etcd-storage", "--etcd-storage-type", "gp2", "--etcd-clusters", "main,events"] },
  { id: "aws-api-ssl-certificate-dns-zone", cloud: "aws", flags: ["--zones", "us-east-1a", "--dns-zone", "example.com", "--api-ssl-certificate", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d", "--api-public-name", "k8s.example.com"] },
  { id: "aws-api-ssl-certificate-lb-class", cloud: "aws", flags: ["--zones", "us-east-1a", "--api-ssl-certificate", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d", "--api-loadbalancer-class", "network"] },
  { id: "aws-api-lb-class-classic", cloud: "aws", flags: ["--zones", "us-east-1a", "--dns-zone", "example.com", "--api-loadbalancer-type", "public", "--api-loadbalancer-class", "classic"] },
  { id: "aws-api-lb-class-without-lb", cloud: "aws", flags: ["--zones", "us-east-1a", "--dns-zone", "example.com", "--api-loadbalancer-class", "classic"] },
  { id: "aws-subnet-tags-runtime-manager-rbac", cloud: "aws", flags: ["--zones", z("us-east-1", "ab"), "--disable-subnet-tags", "--container-runtime", "containerd", "--instance-manager", "cloudgroups", "--authorization", "rbac"] },
  // gce (kops requires --project)
  { id: "gce-1-zone", cloud: "gce", flags: ["--zones", "us-central1-a", "--project", "kstate-offline"] },
  { id: "gce-ha-3-zones-5-nodes", cloud: "gce", flags: ["--zones", z("us-central1-", "abc"), "--control-plane-zones", z("us-central1-", "abc"), "--node-count", "5", "--project", "kstate-offline"] },
  { id: "gce-private-bastion", cloud: "gce", flags: ["--zones", z("us-central1-", "ab"), "--topology", "private", "--bastion", "--project", "kstate-offline"] },
  { id: "gce-service-account-labels-gates", cloud: "gce", flags: ["--zones", "us-central1-a", "--project", "kstate-offline", "--gce-service-account", "vm@kstate-offline.iam.gserviceaccount.com", "--cloud-labels", "team=platform,env=dev", "--kubernetes-feature-gates", "-InPlacePodVerticalScaling"] },
  { id: "gce-group-fields-etcd", cloud: "gce", flags: ["--zones", z("us-central1-", "ab"), "--project", "kstate-offline", "--associate-public-ip=false", "--node-volume-type", "pd-ssd", "--control-plane-volume-type", "pd-balanced", "--etcd-storage-type", "pd-ssd", "--encrypt-etcd-storage"] },
  { id: "gce-sizes-gce-networking", cloud: "gce", flags: ["--zones", "us-central1-a", "--node-size", "n2-standard-4", "--control-plane-size", "n2-standard-2", "--networking", "gce", "--project", "kstate-offline"] },
  // azure
  { id: "azure-1-zone", cloud: "azure", flags: ["--zones", "eastus-1"] },
  { id: "azure-3-zones-3-cp-4-nodes", cloud: "azure", flags: ["--zones", "eastus-1,eastus-2,eastus-3", "--control-plane-count", "3", "--node-count", "4", "--node-size", "Standard_D4s_v3"] },
  { id: "azure-network-cidr", cloud: "azure", flags: ["--zones", "eastus-1", "--network-cidr", "10.20.0.0/16"] },
  // digitalocean (one region)
  { id: "do-1-region", cloud: "digitalocean", flags: ["--zones", "nyc1"] },
  { id: "do-3-cp-2-nodes-sizes", cloud: "digitalocean", flags: ["--zones", "nyc1", "--control-plane-count", "3", "--node-count", "2", "--node-size", "s-4vcpu-8gb", "--control-plane-size", "s-2vcpu-4gb"] },
  { id: "do-dns-zone", cloud: "digitalocean", flags: ["--zones", "ams3", "--dns-zone", "example.com"] },
  // hetzner (one location)
  { id: "hetzner-3-nodes", cloud: "hetzner", flags: ["--zones", "fsn1", "--node-count", "3"] },
  { id: "hetzner-3-cp-sizes", cloud: "hetzner", flags: ["--zones", "nbg1", "--control-plane-count", "3", "--node-count", "5", "--node-size", "cx32", "--control-plane-size", "cx42"] },
  { id: "hetzner-gates-authz-labels-public-name", cloud: "hetzner", flags: ["--zones", "fsn1", "--kubernetes-feature-gates", "+UserNamespacesSupport", "--authorization", "AlwaysAllow", "--cloud-labels", "env=dev", "--api-public-name", "api.matrix.example.com", "--bastion-image", "ignored-without-bastion"] },
  { id: "hetzner-access", cloud: "hetzner", flags: ["--zones", "hel1", "--ssh-access", "10.0.0.0/8", "--admin-access", "198.51.100.0/24"] },
  // openstack (kops requires --network-cidr)
  { id: "openstack-1-zone", cloud: "openstack", flags: ["--zones", "nova", "--network-cidr", "10.0.0.0/16"] },
  { id: "openstack-3-zones-3-cp", cloud: "openstack", flags: ["--zones", "az1,az2,az3", "--network-cidr", "10.1.0.0/16", "--control-plane-count", "3", "--node-count", "3", "--node-size", "m1.large", "--control-plane-size", "m1.xlarge"] },
  { id: "openstack-private-bastion", cloud: "openstack", flags: ["--zones", "az1,az2", "--network-cidr", "10.2.0.0/16", "--topology", "private", "--bastion", "--node-size", "m1.large", "--control-plane-size", "m1.large"] },
  { id: "openstack-api-lb", cloud: "openstack", flags: ["--zones", "nova", "--network-cidr", "10.3.0.0/16", "--api-loadbalancer-type", "public", "--os-ext-net", "ext", "--node-size", "m1.medium", "--control-plane-size", "m1.large"] },
  // scaleway (one zone)
  { id: "scaleway-1-zone", cloud: "scaleway", flags: ["--zones", "fr-par-1"] },
  { id: "scaleway-3-cp-sizes", cloud: "scaleway", flags: ["--zones", "nl-ams-1", "--control-plane-count", "3", "--node-count", "2", "--node-size", "PRO2-S", "--control-plane-size", "PRO2-M"] },
];

const BOOLEAN_FLAGS = new Set(["--bastion", "--yes", "--dry-run", "--ipv6", "--encrypt-etcd-storage", "--associate-public-ip", "--disable-subnet-tags"]);

/** [flag, value] pairs (booleans with value "true"). */
function parseFlags(flags: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    const eq = f.indexOf("=");
    if (f.startsWith("--") && eq > 0) out.push([f.slice(0, eq), f.slice(eq + 1)]);
    else if (BOOLEAN_FLAGS.has(f)) out.push([f, "true"]);
    else out.push([f, flags[++i] ?? ""]);
  }
  return out;
}

function flagValue(flags: string[], ...names: string[]): string | undefined {
  const pairs = parseFlags(flags);
  for (const [f, v] of pairs.reverse()) if (names.includes(f)) return v;
  return undefined;
}

/** The set's flags with the ones every run needs added (offline channel, version, image, cloud). */
function allFlags(s: { cloud: Cloud; flags: string[] }): string[] {
  const out = [...s.flags];
  const has = (f: string) => parseFlags(out).some(([k]) => k === f);
  if (!has("--cloud")) out.push("--cloud", s.cloud);
  if (!has("--kubernetes-version")) out.push("--kubernetes-version", KUBERNETES_VERSION);
  if (!has("--channel")) out.push("--channel", CHANNEL);
  if (!has("--image")) out.push("--image", PROFILES[s.cloud].image);
  return out;
}

function nameArgs(nameAsFlag: boolean | undefined): string[] {
  return nameAsFlag ? ["--name", NAME] : [NAME];
}

// ---------------------------------------------------------------------------------------------
// Results, for KSTATE_MATRIX_REPORT

interface ExpansionResult { id: string; cloud: Cloud; flags: string[]; ms: number; kops: string; kstate: string; differences: Difference[] }
interface MergeResult { id: string; cloud: Cloud; base: string[]; flags: string[]; ms: number; outcome: string; problems: string[] }
const report = { expansion: [] as ExpansionResult[], merge: [] as MergeResult[], timings: {} as Record<string, number> };

function tempStore(prefix: string): { dir: string; url: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, url: `file://${dir}` };
}

describe("expansion matrix: `kstate create cluster --dry-run -o yaml` against the real `kops create cluster --dry-run -o yaml`", function () {
  this.timeout(180_000);
  let standIns: StandIns;
  let started = 0;
  before(async function () {
    started = Date.now();
    standIns = await startStandIns();
  });
  after(async function () {
    await standIns?.close();
    report.timings.expansionMs = Date.now() - started;
    writeReport();
  });

  it("has at least 30 flag sets, with unique ids, over at least 6 clouds", function () {
    assert.ok(FLAG_SETS.length >= 30, `${FLAG_SETS.length} flag sets`);
    assert.equal(new Set(FLAG_SETS.map((s) => s.id)).size, FLAG_SETS.length);
    assert.ok(new Set(FLAG_SETS.map((s) => s.cloud)).size >= 6);
  });

  for (const set of FLAG_SETS) {
    it(`${set.id}: ${set.flags.join(" ")}`, async function () {
      const t0 = Date.now();
      const flags = allFlags(set);
      const result: ExpansionResult = { id: set.id, cloud: set.cloud, flags: set.flags, ms: 0, kops: "", kstate: "", differences: [] };
      report.expansion.push(result);
      const store = tempStore("kstate-matrix-dry-");
      try {
        const kopsState = standIns.kopsState(set.cloud);
        const k = await runKops(["create", "cluster", ...nameArgs(set.nameAsFlag), "--state", kopsState, ...flags, "--dry-run", "-o", "yaml"], standIns.env(set.cloud));
        if (k.code !== 0) {
          result.kops = `refused (exit ${k.code}): ${kopsErrors(k.stderr)}`;
          assert.fail(`kops refused this flag set, so the matrix is wrong, not kstate:\n${kopsErrors(k.stderr)}`);
        }
        result.kops = "ok";
        const ours = await runKstate(["create", "cluster", ...nameArgs(set.nameAsFlag), "--state", store.url, ...flags, "--dry-run", "-o", "yaml"],
          set.cloud === "azure" ? { AZURE_SUBSCRIPTION_ID: standIns.env("azure").AZURE_SUBSCRIPTION_ID! } : {});
        if (ours.code !== 0) {
          result.kstate = `refused (exit ${ours.code}): ${ours.stderr.trim()}`;
          assert.fail(`kstate refused what kops expands (exit ${ours.code}):\n${ours.stderr.trim()}`);
        }
        result.kstate = "ok";
        const written = sameSnapshot(new Map(), snapshot(store.dir));
        if (written.length) result.differences.push({ doc: "store", path: "(dry run)", kops: undefined, kstate: `wrote ${written.join(", ")}` });
        const kopsDocs = normalise(splitDocuments(dryRunDocuments(k.stdout)), kopsState.replace(/^file:\/\//, ""), "kops");
        const ourDocs = normalise(splitDocuments(dryRunDocuments(ours.stdout)), store.dir, "kstate");
        result.differences.push(...compareDocuments(kopsDocs, ourDocs).filter((d) => !declared(set.id, d)));
        if (result.differences.length > 0) {
          assert.fail(`${result.differences.length} difference(s) between kops's documents and kstate's (path: kops value vs kstate value):\n${formatDifferences(result.differences)}`);
        }
      } finally {
        result.ms = Date.now() - t0;
        fs.rmSync(store.dir, { recursive: true, force: true });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The merge half

/**
 * Which stored fields each flag may change when it is given for a cluster that exists. A flag not
 * given changes nothing; a flag given changes only what its entry names. Targets:
 *   config            the Cluster document
 *   nodes             the groups named nodes-<zone> (role Node) that kops lays out; never a group the user added
 *   control-plane     the groups named control-plane-* (role Master)
 *   bastions          the group named bastions
 *   new-<target>      a group of that kind that this merge creates (its whole document)
 * Paths: `.`-separated keys; `[*]` any item of a named list, `[+]` an item this merge adds;
 * a trailing `.**` also allows everything below. On any document whose spec a flag may change,
 * metadata.generation may change with it (kops bumps it the same way).
 * Refused, naming the flag, with the store left byte-identical (refusedFlag, MergeCase.refuses):
 * --cloud other than the stored cloud; --topology other than the stored one; --network-cidr other
 * than the stored one once subnets exist; --etcd-clusters other than the stored clusters; a
 * control-plane layout (--control-plane-zones/--control-plane-count) other than the stored one;
 * --zones adding a zone when no block of the network CIDR is free for its subnet.
 */
type Target = "config" | "nodes" | "control-plane" | "bastions" | "new-nodes" | "new-control-plane" | "new-bastions";
type FieldRule = [Target, ...string[]];
// prettier-ignore
const MERGE_FIELDS: Record<string, FieldRule[]> = {
  "--cloud": [["config", "spec.cloudProvider"]], // refused when it differs from the stored cloud
  "--zones": [["config", "spec.subnets[+].**"], ["new-nodes", "**"]], // adds subnets and groups for new zones, never removes one
  // The control-plane layout and the etcd clusters are etcd membership: kops changes them only by a
  // documented manual procedure, so a merge that would change them is refused naming the flag.
  "--control-plane-zones": [],
  "--master-zones": [],
  "--control-plane-count": [],
  "--master-count": [],
  "--etcd-clusters": [],
  "--node-count": [["nodes", "spec.minSize", "spec.maxSize"]], // shared over the nodes-<zone> groups
  "--node-size": [["nodes", "spec.machineType", "spec.mixedInstancesPolicy.**"]],
  "--control-plane-size": [["control-plane", "spec.machineType", "spec.mixedInstancesPolicy.**"]],
  "--master-size": [["control-plane", "spec.machineType", "spec.mixedInstancesPolicy.**"]],
  "--kubernetes-version": [["config", "spec.kubernetesVersion"]],
  "--networking": [["config", "spec.networking.**", "spec.kubeProxy.**", "spec.nonMasqueradeCIDR", "spec.podCIDR", "spec.serviceClusterIPRange"]], // the CNI block and the ranges kops derives from it
  "--network-cidr": [["config", "spec.networkCIDR"]], // refused when it differs once subnets exist
  "--topology": [["config", "spec.topology.**"]], // refused when it differs
  "--dns-zone": [["config", "spec.dnsZone", "spec.topology.dns.**"]],
  "--dns": [["config", "spec.topology.dns.**"]],
  "--ssh-access": [["config", "spec.sshAccess"]],
  "--admin-access": [["config", "spec.kubernetesApiAccess"]], // only: kops's SSH access follows it on create, as a default
  "--image": [["nodes", "spec.image"], ["control-plane", "spec.image"], ["bastions", "spec.image"]],
  "--node-image": [["nodes", "spec.image"]],
  "--control-plane-image": [["control-plane", "spec.image"]],
  "--master-image": [["control-plane", "spec.image"]],
  "--channel": [["config", "spec.channel"]],
  "--node-volume-size": [["nodes", "spec.rootVolumeSize"]],
  "--control-plane-volume-size": [["control-plane", "spec.rootVolumeSize"]],
  "--master-volume-size": [["control-plane", "spec.rootVolumeSize"]],
  "--project": [["config", "spec.project"]],
  "--bastion": [["new-bastions", "**"], ["config", "spec.topology.bastion.**"]],
  "--api-loadbalancer-type": [["config", "spec.api.**"]],
  "--os-ext-net": [["config", "spec.cloudConfig.openstack.router.externalNetwork", "spec.cloudConfig.openstack.loadbalancer.floatingNetwork", "spec.cloudConfig.openstack.loadbalancer.floatingNetworkID"]],
  // Flags that only set fields (src/ops/option-fields.ts).
  "--kubernetes-feature-gates": [["config", ...["kubelet", "kubeAPIServer", "kubeControllerManager", "kubeProxy", "kubeScheduler"].map((c) => `spec.${c}.featureGates.**`)]],
  "--container-runtime": [],
  "--instance-manager": [],
  "--bastion-image": [["bastions", "spec.image"], ["new-bastions", "**"]],
  "--node-volume-type": [["nodes", "spec.rootVolumeType"]],
  "--control-plane-volume-type": [["control-plane", "spec.rootVolumeType"]],
  "--associate-public-ip": [["nodes", "spec.associatePublicIp"], ["control-plane", "spec.associatePublicIp"], ["bastions", "spec.associatePublicIp"]],
  "--node-security-groups": [["nodes", "spec.additionalSecurityGroups"]],
  "--control-plane-security-groups": [["control-plane", "spec.additionalSecurityGroups"]],
  "--master-security-groups": [["control-plane", "spec.additionalSecurityGroups"]],
  "--node-tenancy": [["nodes", "spec.tenancy"]],
  "--control-plane-tenancy": [["control-plane", "spec.tenancy"]],
  "--master-tenancy": [["control-plane", "spec.tenancy"]],
  "--disable-subnet-tags": [["config", "spec.DisableSubnetTags"]],
  "--encrypt-etcd-storage": [["config", "spec.etcdClusters[*].etcdMembers[*].encryptedVolume"]],
  "--etcd-storage-type": [["config", "spec.etcdClusters[*].etcdMembers[*].volumeType"]],
  "--authorization": [["config", "spec.authorization.**"]],
  "--cloud-labels": [["config", "spec.cloudLabels.**"]],
  "--api-loadbalancer-class": [["config", "spec.api.loadBalancer.class"]],
  "--api-ssl-certificate": [["config", "spec.api.**"]], // the certificate, and a load balancer where the API had none
  "--api-public-name": [["config", "spec.masterPublicName"]],
  "--master-public-name": [["config", "spec.masterPublicName"]],
  "--gce-service-account": [["config", "spec.cloudConfig.gceServiceAccount"]],
  "--name": [],
  "--yes": [],
  // --set spec.a.b=v and --unset spec.a.b name their own path: see allowedRules.
};

function allowedRules(flags: string[]): FieldRule[] {
  const pairs = parseFlags(flags);
  const rules: FieldRule[] = [];
  for (const [f, v] of pairs) {
    if (f === "--set" || f === "--unset") {
      const p = (f === "--set" ? v.slice(0, v.indexOf("=")) : v).replace(/^cluster\./, "");
      rules.push(["config", p, `${p}.**`]);
    } else if (MERGE_FIELDS[f]) rules.push(...MERGE_FIELDS[f]!);
    else rules.push(["config", `(no MERGE_FIELDS entry for ${f})`]);
  }
  return rules;
}

/** `spec.subnets[us-east-1a].cidr` -> ["spec", "subnets", "[us-east-1a]", "cidr"] */
function segments(p: string): string[] {
  return [...p.matchAll(/\[([^\]]*)\]|([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? `[${m[1]}]` : m[2]!));
}

function hasItem(doc: unknown, segs: string[]): boolean {
  let node: unknown = doc;
  for (const s of segs) {
    if (s.startsWith("[")) node = Array.isArray(node) ? node.find((i) => (i as Doc)?.name === s.slice(1, -1)) : undefined;
    else node = typeof node === "object" && node !== null ? (node as Doc)[s] : undefined;
    if (node === undefined) return false;
  }
  return true;
}

function pathMatches(pattern: string, change: string, before: Doc | undefined): boolean {
  const p = segments(pattern);
  const c = segments(change);
  const deep = p[p.length - 1] === "**";
  const fixed = deep ? p.slice(0, -1) : p;
  if (deep ? c.length < fixed.length : c.length !== fixed.length) return false;
  return fixed.every((seg, i) => {
    const got = c[i]!;
    if (seg === "[*]") return got.startsWith("[");
    if (seg === "[+]") return got.startsWith("[") && !hasItem(before, c.slice(0, i + 1));
    return seg === got;
  });
}

function groupKind(name: string, doc: Doc | undefined): "nodes" | "control-plane" | "bastions" | "user" {
  const role = doc?.spec?.role;
  if (/^nodes-/.test(name) && role === "Node") return "nodes";
  if (/^(control-plane|master)-/.test(name) && (role === "Master" || role === "ControlPlane")) return "control-plane";
  if (name === "bastions" && role === "Bastion") return "bastions";
  return "user";
}

type Files = Map<string, Doc>;

function readDocs(dir: string): { docs: Files; text: Map<string, string> } {
  const docs: Files = new Map();
  const text = new Map<string, string>();
  const root = path.join(dir, NAME);
  for (const [rel, bytes] of snapshot(root)) {
    text.set(rel, bytes.toString("utf8"));
    if (rel === "config" || rel.startsWith("instancegroup/")) docs.set(rel, parseYamlText(bytes.toString("utf8")) as Doc);
  }
  return { docs, text };
}

/** Every stored change that no given flag names. */
function unexplainedChanges(before: Files, after: Files, flags: string[], beforeText: Map<string, string>, afterText: Map<string, string>): string[] {
  const rules = allowedRules(flags);
  const problems: string[] = [];
  for (const file of [...new Set([...beforeText.keys(), ...afterText.keys()])].sort()) {
    const isDoc = file === "config" || file.startsWith("instancegroup/");
    if (!isDoc) {
      if (beforeText.get(file) !== afterText.get(file)) problems.push(`${file}: ${beforeText.has(file) ? (afterText.has(file) ? "changed" : "deleted") : "created"} (not a cluster document)`);
      continue;
    }
    const b = before.get(file);
    const a = after.get(file);
    const group = file.startsWith("instancegroup/") ? file.slice("instancegroup/".length) : undefined;
    if (b && !a) {
      problems.push(`${file}: deleted (no flag deletes a document)`);
      continue;
    }
    if (!b && a) {
      const kind = group ? groupKind(group, a) : "config";
      const ok = kind !== "user" && kind !== "config" && rules.some(([t]) => t === `new-${kind}`);
      if (!ok) problems.push(`${file}: created (${kind === "user" ? "a group kops would not name so" : `no given flag creates ${kind} groups`})`);
      continue;
    }
    const target: Target | "user" = group ? groupKind(group, b) : "config";
    const changes: { path: string; kops: unknown; kstate: unknown }[] = [];
    diffValues(b, a, "", changes);
    const explained = (p: string) => rules.some(([t, ...paths]) => t === target && paths.some((pat) => pathMatches(pat, p.replace(/ \(order\)$/, ""), b)));
    const specChanged = changes.some((c) => c.path.startsWith("spec") && explained(c.path));
    for (const c of changes) {
      if (c.path === "metadata.generation" && specChanged) continue;
      if (!explained(c.path)) problems.push(`${file} ${c.path}: ${JSON.stringify(c.kops) ?? "(absent)"} -> ${JSON.stringify(c.kstate) ?? "(absent)"} (no given flag names it)`);
    }
  }
  return problems;
}

/** The given flags' values, where they ought to have landed. */
function missingEffects(after: Files, flags: string[]): string[] {
  const problems: string[] = [];
  const config = after.get("config");
  const spec = (config?.spec ?? {}) as Doc;
  const groups = [...after.entries()].filter(([f]) => f.startsWith("instancegroup/")).map(([f, d]) => [f.slice("instancegroup/".length), d] as [string, Doc]);
  const ofKind = (k: string) => groups.filter(([n, d]) => groupKind(n, d) === k);
  const expect = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: ${JSON.stringify(got) ?? "(absent)"}, the flag says ${JSON.stringify(want)}`);
  };
  const v = (...f: string[]) => flagValue(flags, ...f);
  const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
  if (v("--kubernetes-version")) expect("spec.kubernetesVersion", spec.kubernetesVersion, v("--kubernetes-version"));
  if (v("--channel")) expect("spec.channel", spec.channel, v("--channel"));
  if (v("--cloud")) expect("spec.cloudProvider", spec.cloudProvider, v("--cloud"));
  if (v("--network-cidr")) expect("spec.networkCIDR", spec.networkCIDR, v("--network-cidr"));
  if (v("--dns-zone")) expect("spec.dnsZone", spec.dnsZone, v("--dns-zone"));
  if (v("--project")) expect("spec.project", spec.project, v("--project"));
  if (v("--ssh-access")) expect("spec.sshAccess", spec.sshAccess, list(v("--ssh-access")!));
  if (v("--admin-access")) {
    expect("spec.kubernetesApiAccess", spec.kubernetesApiAccess, list(v("--admin-access")!));
  }
  if (v("--networking")) {
    const key = ({ "cilium-etcd": "cilium", "cilium-eni": "cilium" } as Record<string, string>)[v("--networking")!] ?? v("--networking")!;
    expect("keys of spec.networking", Object.keys((spec.networking ?? {}) as Doc).filter((k) => k === key), [key]);
  }
  if (v("--api-loadbalancer-type")) expect("spec.api.loadBalancer.type", spec.api?.loadBalancer?.type, v("--api-loadbalancer-type") === "internal" ? "Internal" : "Public");
  if (v("--etcd-clusters")) expect("spec.etcdClusters names", ((spec.etcdClusters ?? []) as Doc[]).map((e) => e.name).filter((n) => list(v("--etcd-clusters")!).includes(n)), list(v("--etcd-clusters")!));
  if (v("--zones")) {
    for (const zone of list(v("--zones")!)) if (!after.has(`instancegroup/nodes-${zone}`)) problems.push(`instancegroup/nodes-${zone}: missing, though --zones names ${zone}`);
  }
  if (v("--node-count")) {
    const nodes = ofKind("nodes");
    const n = Number(v("--node-count"));
    expect("sum of minSize over the nodes-<zone> groups", nodes.reduce((s, [, d]) => s + Number(d.spec?.minSize ?? 0), 0), n);
    expect("sum of maxSize over the nodes-<zone> groups", nodes.reduce((s, [, d]) => s + Number(d.spec?.maxSize ?? 0), 0), n);
  }
  const eachOf = (kind: string, field: string, want: unknown, flag: string) => {
    for (const [name, d] of ofKind(kind)) expect(`instancegroup/${name} spec.${field} (${flag})`, d.spec?.[field], want);
  };
  if (v("--node-size")) eachOf("nodes", "machineType", list(v("--node-size")!)[0], "--node-size");
  if (v("--control-plane-size", "--master-size")) eachOf("control-plane", "machineType", list(v("--control-plane-size", "--master-size")!)[0], "--control-plane-size");
  if (v("--node-image") ?? v("--image")) eachOf("nodes", "image", v("--node-image") ?? v("--image"), "--node-image/--image");
  if (v("--control-plane-image", "--master-image") ?? v("--image")) eachOf("control-plane", "image", v("--control-plane-image", "--master-image") ?? v("--image"), "--control-plane-image/--image");
  if (v("--node-volume-size")) eachOf("nodes", "rootVolumeSize", Number(v("--node-volume-size")), "--node-volume-size");
  if (v("--control-plane-volume-size", "--master-volume-size")) eachOf("control-plane", "rootVolumeSize", Number(v("--control-plane-volume-size", "--master-volume-size")), "--control-plane-volume-size");
  if (v("--bastion")) expect("a bastions group", ofKind("bastions").length, 1);
  // Flags that only set fields (src/ops/option-fields.ts).
  const gates = v("--kubernetes-feature-gates");
  if (gates) {
    for (const g of list(gates)) {
      const name = g.replace(/^\+/, "").replace(/^-/, "");
      for (const c of ["kubelet", "kubeAPIServer", "kubeControllerManager", "kubeProxy", "kubeScheduler"]) expect(`spec.${c}.featureGates.${name}`, spec[c]?.featureGates?.[name], String(!g.replace(/^\+/, "").startsWith("-")));
    }
  }
  if (v("--bastion-image") && v("--bastion")) eachOf("bastions", "image", v("--bastion-image"), "--bastion-image");
  if (v("--node-volume-type")) eachOf("nodes", "rootVolumeType", v("--node-volume-type"), "--node-volume-type");
  if (v("--control-plane-volume-type")) eachOf("control-plane", "rootVolumeType", v("--control-plane-volume-type"), "--control-plane-volume-type");
  if (v("--associate-public-ip")) for (const k of ["nodes", "control-plane", "bastions"]) eachOf(k, "associatePublicIp", v("--associate-public-ip") === "true", "--associate-public-ip");
  if (v("--node-security-groups")) eachOf("nodes", "additionalSecurityGroups", list(v("--node-security-groups")!), "--node-security-groups");
  if (v("--control-plane-security-groups", "--master-security-groups")) eachOf("control-plane", "additionalSecurityGroups", list(v("--control-plane-security-groups", "--master-security-groups")!), "--control-plane-security-groups");
  if (v("--node-tenancy")) eachOf("nodes", "tenancy", v("--node-tenancy"), "--node-tenancy");
  if (v("--control-plane-tenancy", "--master-tenancy")) eachOf("control-plane", "tenancy", v("--control-plane-tenancy", "--master-tenancy"), "--control-plane-tenancy");
  if (v("--disable-subnet-tags")) expect("spec.DisableSubnetTags", spec.DisableSubnetTags, v("--disable-subnet-tags") === "true" ? true : undefined);
  const members = ((spec.etcdClusters ?? []) as Doc[]).flatMap((e) => ((e.etcdMembers ?? []) as Doc[]).map((m) => [`${e.name}/${m.name}`, m] as const));
  if (v("--encrypt-etcd-storage")) for (const [n, m] of members) expect(`etcd member ${n} encryptedVolume`, m.encryptedVolume, v("--encrypt-etcd-storage") === "true" ? true : undefined);
  if (v("--etcd-storage-type")) for (const [n, m] of members) expect(`etcd member ${n} volumeType`, m.volumeType, v("--etcd-storage-type"));
  if (v("--authorization")) expect("keys of spec.authorization", Object.keys(spec.authorization ?? {}), [v("--authorization")!.toLowerCase() === "alwaysallow" ? "alwaysAllow" : "rbac"]);
  if (v("--cloud-labels")) for (const pair of v("--cloud-labels")!.split(",")) expect(`spec.cloudLabels.${pair.split("=")[0]}`, spec.cloudLabels?.[pair.split("=")[0]!], pair.split("=")[1]);
  if (v("--api-public-name", "--master-public-name")) expect("spec.masterPublicName", spec.masterPublicName, v("--api-public-name", "--master-public-name"));
  if (v("--api-ssl-certificate")) expect("spec.api.loadBalancer.sslCertificate", spec.api?.loadBalancer?.sslCertificate, v("--api-ssl-certificate"));
  if (v("--gce-service-account")) expect("spec.cloudConfig.gceServiceAccount", spec.cloudConfig?.gceServiceAccount, v("--gce-service-account"));
  const set = parseFlags(flags).filter(([f]) => f === "--set");
  for (const [, s] of set) {
    const [p, raw] = [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)];
    const got = p.split(".").reduce<unknown>((n, k) => (n && typeof n === "object" ? (n as Doc)[k] : undefined), config);
    expect(p, got, parseYamlText(raw));
  }
  for (const [, p] of parseFlags(flags).filter(([f]) => f === "--unset")) {
    const got = p.replace(/^cluster\./, "").split(".").reduce<unknown>((n, k) => (n && typeof n === "object" ? (n as Doc)[k] : undefined), config);
    if (got !== undefined) problems.push(`${p}: ${JSON.stringify(got)}, --unset says absent`);
  }
  return problems;
}

const COMMENT = "# hand-written: kept by every merge";
const POLICY = '[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]';

/** The hand edits every merge base gets, made in the store's files as a person would. */
function editByHand(dir: string, cloud: Cloud): void {
  const root = path.join(dir, NAME);
  const configFile = path.join(root, "config");
  const config = fs.readFileSync(configFile, "utf8");
  const stored = parseYamlText(config) as Doc;
  assert.match(config, /^spec:\n/m, "the base config has a spec");
  // A comment, and a field kstate's expansion never writes (kops keeps both).
  fs.writeFileSync(configFile, config.replace(/^spec:\n/m, `spec:\n  ${COMMENT}\n  additionalPolicies:\n    node: '${POLICY}'\n`));
  // A nodes group's maxSize raised by hand.
  const nodes = fs.readdirSync(path.join(root, "instancegroup")).filter((g) => g.startsWith("nodes-")).sort()[0];
  assert.ok(nodes, "the base has a nodes-<zone> group");
  const nodesFile = path.join(root, "instancegroup", nodes);
  const text = fs.readFileSync(nodesFile, "utf8");
  assert.match(text, /^ {2}maxSize: \d+$/m, `${nodes} has a maxSize`);
  fs.writeFileSync(nodesFile, text.replace(/^ {2}maxSize: \d+$/m, "  maxSize: 10"));
  // A group of the user's own.
  const subnet = ((stored.spec?.subnets ?? []) as Doc[]).find((s) => s.type !== "Utility")?.name ?? "";
  fs.writeFileSync(path.join(root, "instancegroup", "gpu-workers"), [
    "apiVersion: kops.k8s.io/v1alpha2", "kind: InstanceGroup", "metadata:", "  labels:", `    kops.k8s.io/cluster: ${NAME}`, "  name: gpu-workers", "spec:",
    `  image: ${PROFILES[cloud].image}`, `  machineType: ${PROFILES[cloud].gpuMachineType}`, "  maxSize: 2", "  minSize: 0", "  nodeLabels:",
    "    kops.k8s.io/instancegroup: gpu-workers", "  role: Node", "  subnets:", `  - ${subnet}`, "",
  ].join("\n"));
}

interface MergeCase {
  id: string;
  cloud: Cloud;
  /** The base cluster's flags (kstate create cluster on an empty store); common flags added. */
  base: string[];
  /** The merge's flags; common flags added. */
  flags: string[];
  nameAsFlag?: boolean;
  /** The flag the merge must refuse, where `refusedFlag` cannot tell from the stored documents alone. */
  refuses?: string;
}

/**
 * The base for a flag set: its cloud and zones, the layout a merge may not change (control-plane
 * zones and count, etcd clusters, network CIDR, topology), and the cloud's sizes.
 */
function baseFor(s: FlagSet): string[] {
  const base = ["--node-size", PROFILES[s.cloud].nodeSize, "--control-plane-size", PROFILES[s.cloud].controlPlaneSize];
  for (const f of ["--zones", "--control-plane-zones", "--master-zones", "--control-plane-count", "--master-count", "--etcd-clusters", "--network-cidr", "--topology"]) {
    const v = flagValue(s.flags, f);
    if (v) base.push(f, v);
  }
  return base;
}

// prettier-ignore
const MERGE_ONLY: MergeCase[] = [
  { id: "merge-node-count-only", cloud: "aws", base: ["--zones", z("us-east-1", "ab"), "--node-count", "2"], flags: ["--node-count", "5"] },
  { id: "merge-node-size-only", cloud: "aws", base: ["--zones", z("us-east-1", "ab")], flags: ["--node-size", "m5.4xlarge"] },
  { id: "merge-image-only", cloud: "aws", base: ["--zones", "us-east-1a"], flags: ["--image", "ubuntu/newer-image"] },
  // Three zones take three /18 blocks of 172.20.0.0/16 (kops's layout): a fourth block is free.
  { id: "merge-zones-adds-a-zone", cloud: "aws", base: ["--zones", z("us-east-1", "abc")], flags: ["--zones", z("us-east-1", "abcd")] },
  { id: "merge-zones-without-the-stored-zones", cloud: "aws", base: ["--zones", z("us-east-1", "abc")], flags: ["--zones", "us-east-1d"] },
  { id: "merge-zones-and-node-count", cloud: "aws", base: ["--zones", z("us-east-1", "abc")], flags: ["--zones", z("us-east-1", "abcd"), "--node-count", "6"] },
  { id: "merge-zones-gce-same-region", cloud: "gce", base: ["--zones", "us-central1-a"], flags: ["--zones", z("us-central1-", "ab"), "--project", "kstate-offline"] },
  { id: "merge-nothing-but-the-common-flags", cloud: "hetzner", base: ["--zones", "fsn1"], flags: [] },
  { id: "merge-refused-network-cidr", cloud: "aws", base: ["--zones", z("us-east-1", "ab")], flags: ["--network-cidr", "10.99.0.0/16"] },
  { id: "merge-refused-cloud", cloud: "aws", base: ["--zones", "us-east-1a"], flags: ["--cloud", "gce"] },
  { id: "merge-refused-topology", cloud: "aws", base: ["--zones", z("us-east-1", "ab")], flags: ["--topology", "private"] },
  { id: "merge-refused-topology-back-to-public", cloud: "openstack", base: ["--zones", "nova", "--network-cidr", "10.0.0.0/16", "--topology", "private"], flags: ["--topology", "public"] },
  { id: "merge-refused-control-plane-count", cloud: "aws", base: ["--zones", z("us-east-1", "abc")], flags: ["--control-plane-count", "3"], refuses: "--control-plane-count" },
  { id: "merge-refused-control-plane-zones", cloud: "hetzner", base: ["--zones", "fsn1"], flags: ["--zones", "fsn1", "--control-plane-zones", "fsn1", "--control-plane-count", "3"], refuses: "--control-plane-count" },
  { id: "merge-refused-etcd-clusters", cloud: "aws", base: ["--zones", "us-east-1a"], flags: ["--etcd-clusters", "main"] },
  // Flags that only set fields, given again with other values.
  { id: "merge-api-ssl-certificate-on-a-dns-api", cloud: "aws", base: ["--zones", "us-east-1a", "--dns-zone", "example.com"], flags: ["--api-ssl-certificate", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d"] },
  { id: "merge-feature-gates-and-labels-again", cloud: "aws", base: ["--zones", "us-east-1a", "--kubernetes-feature-gates", "GateA", "--cloud-labels", "team=a"], flags: ["--kubernetes-feature-gates", "-GateA,GateB", "--cloud-labels", "env=dev"] },
  { id: "merge-authorization-back-to-rbac", cloud: "hetzner", base: ["--zones", "fsn1", "--authorization", "AlwaysAllow"], flags: ["--authorization", "RBAC"] },
  { id: "merge-group-fields-again", cloud: "aws", base: ["--zones", z("us-east-1", "ab"), "--node-tenancy", "dedicated", "--associate-public-ip=false", "--node-volume-type", "gp2"], flags: ["--node-tenancy", "default", "--associate-public-ip", "--node-volume-type", "gp3", "--disable-subnet-tags"] },
  // Two zones take both /17 halves of 172.20.0.0/16: no block is free for a third subnet.
  { id: "merge-refused-zones-without-room", cloud: "aws", base: ["--zones", z("us-east-1", "ab")], flags: ["--zones", z("us-east-1", "abc")], refuses: "--zones" },
];

const MERGE_CASES: MergeCase[] = [
  ...FLAG_SETS.map((s): MergeCase => ({ id: s.id, cloud: s.cloud, base: baseFor(s), flags: s.flags, ...(s.nameAsFlag ? { nameAsFlag: true } : {}) })),
  ...MERGE_ONLY,
];

/** The flag a merge must refuse, given what is stored, or undefined. */
function refusedFlag(stored: Doc | undefined, flags: string[]): string | undefined {
  const spec = (stored?.spec ?? {}) as Doc;
  const subnets = (spec.subnets ?? []) as Doc[];
  const cloud = flagValue(flags, "--cloud");
  if (cloud && spec.cloudProvider && cloud !== spec.cloudProvider) return "--cloud";
  const topology = flagValue(flags, "--topology");
  const storedTopology = subnets.some((s) => s.type === "Private") ? "private" : "public";
  if (topology && topology !== storedTopology) return "--topology";
  const cidr = flagValue(flags, "--network-cidr");
  if (cidr && subnets.length > 0 && cidr !== spec.networkCIDR) return "--network-cidr";
  // Another network plugin: kops keeps one per cluster, and kstate does not migrate one.
  const networking = flagValue(flags, "--networking");
  const plugin = networking && ({ "cilium-etcd": "cilium", "cilium-eni": "cilium", "kube-router": "kuberouter", gcp: "gce", "flannel-vxlan": "flannel", "flannel-udp": "flannel", "amazon-vpc-routed-eni": "amazonvpc", "kopeio-vxlan": "kopeio" } as Record<string, string>)[networking] || networking;
  const plugins = Object.keys((spec.networking ?? {}) as Doc);
  if (plugin && plugins.length > 0 && !plugins.includes(plugin)) return "--networking";
  // A classic load balancer on a cluster without DNS: kops's validation refuses the result
  // (--dns-zone on a merge names spec.dnsZone only, not the DNS type).
  const storedDns = ((spec.topology as Doc | undefined)?.dns as Doc | undefined)?.type;
  if (flagValue(flags, "--api-loadbalancer-class") === "classic" && storedDns === "None" && !flagValue(flags, "--dns")) return "topology.dns.type=none requires Network Load Balancer";
  // cilium-etcd on a cilium cluster would add an etcd cluster for it.
  if (networking === "cilium-etcd" && plugins.includes("cilium") && (spec.networking as Doc).cilium?.etcdManaged !== true) return "--networking";
  const etcd = flagValue(flags, "--etcd-clusters");
  const storedEtcd = ((spec.etcdClusters ?? []) as Doc[]).map((e) => e.name);
  if (etcd && JSON.stringify(etcd.split(",")) !== JSON.stringify(storedEtcd)) return "--etcd-clusters";
  return undefined;
}

describe("expansion matrix, merge half: the same flags for an existing, hand-edited cluster change exactly what they name", function () {
  this.timeout(180_000);
  let started = 0;
  before(function () {
    started = Date.now();
  });
  after(function () {
    report.timings.mergeMs = Date.now() - started;
    writeReport();
  });

  it("names every flag the matrix uses in MERGE_FIELDS", function () {
    const used = new Set(MERGE_CASES.flatMap((c) => parseFlags(allFlags({ cloud: c.cloud, flags: c.flags })).map(([f]) => f)));
    const missing = [...used].filter((f) => !MERGE_FIELDS[f] && f !== "--set" && f !== "--unset");
    assert.deepEqual(missing, []);
  });

  for (const c of MERGE_CASES) {
    it(`${c.id}: base ${c.base.join(" ")}; merge ${c.flags.join(" ") || "(common flags only)"}`, async function () {
      const t0 = Date.now();
      const result: MergeResult = { id: c.id, cloud: c.cloud, base: c.base, flags: c.flags, ms: 0, outcome: "", problems: [] };
      report.merge.push(result);
      const store = tempStore("kstate-matrix-merge-");
      try {
        const base = await runKstate(["create", "cluster", NAME, "--state", store.url, ...allFlags({ cloud: c.cloud, flags: c.base })]);
        if (base.code !== 0) {
          result.outcome = `base not created (exit ${base.code})`;
          result.problems.push(base.stderr.trim());
          assert.fail(`kstate could not create the base cluster (exit ${base.code}):\n${base.stderr.trim()}`);
        }
        editByHand(store.dir, c.cloud);
        const beforeFiles = snapshot(store.dir);
        const before = readDocs(store.dir);
        const flags = allFlags(c);
        const refused = c.refuses ?? refusedFlag(before.docs.get("config"), flags);
        const merged = await runKstate(["create", "cluster", ...nameArgs(c.nameAsFlag), "--state", store.url, ...flags]);
        const afterFiles = snapshot(store.dir);
        if (refused) {
          const written = sameSnapshot(beforeFiles, afterFiles);
          if (merged.code === 0) result.problems.push(`accepted (exit 0); it must refuse ${refused}`);
          else if (!merged.stderr.includes(refused)) result.problems.push(`refused (exit ${merged.code}) without naming ${refused}: ${merged.stderr.trim()}`);
          if (written.length) result.problems.push(`the store changed although the merge must be refused: ${written.join(", ")}`);
          result.outcome = result.problems.length ? "refusal expected" : "refused as expected";
          if (result.problems.length) assert.fail(`the merge must be refused naming ${refused}, with nothing written:\n  ${result.problems.join("\n  ")}`);
          return;
        }
        // 4: the merge found nothing to change (the flags say what the cluster already holds).
        if (merged.code !== 0 && merged.code !== 4) {
          result.outcome = `merge refused (exit ${merged.code})`;
          result.problems.push(merged.stderr.trim());
          const written = sameSnapshot(beforeFiles, afterFiles);
          if (written.length) result.problems.push(`and yet the store changed: ${written.join(", ")}`);
          assert.fail(`kstate refused the merge (exit ${merged.code}):\n${result.problems.join("\n")}`);
        }
        const after = readDocs(store.dir);
        result.problems.push(...unexplainedChanges(before.docs, after.docs, flags, before.text, after.text));
        result.problems.push(...missingEffects(after.docs, flags).map((p) => `not applied: ${p}`));
        if (!after.text.get("config")?.includes(COMMENT)) result.problems.push(`config: the hand-written comment ${JSON.stringify(COMMENT)} is gone`);
        result.outcome = result.problems.length ? "merged, with problems" : "merged as expected";
        if (result.problems.length) assert.fail(`${result.problems.length} problem(s) with the merge:\n  ${result.problems.join("\n  ")}`);
      } finally {
        result.ms = Date.now() - t0;
        fs.rmSync(store.dir, { recursive: true, force: true });
      }
    });
  }
});

function writeReport(): void {
  const file = process.env.KSTATE_MATRIX_REPORT;
  if (file) fs.writeFileSync(file, JSON.stringify(report, null, 2));
}
