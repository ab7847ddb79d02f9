import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { CREATE_FLAGS, parseCreateFlags, REFUSED_FLAGS } from "../../src/cli/create-flags";
import { takeConfigFlag } from "../../src/cli/kops-config";
import { planSshPublicKey } from "../../src/ops/ssh-key";
import { parseYaml, parseYamlStream } from "../../src/store/yaml";
import { openPath, resetMemoryStore } from "../../src/vfs";
import { ValidationError } from "../../src/vfs/errors";
import { kstate } from "../support/cli";
import { uniqueName } from "../support/env";
import { CHANNEL, kops, kopsEnv } from "../support/kops";
import { toolPath } from "../support/servers";
import { snapshot } from "../support/snapshot";

type Doc = Record<string, any>;

const NAME = "flags.k8s.example.com";
const BASE = ["--cloud", "aws", "--zones", "us-east-1a,us-east-1b", "--kubernetes-version", "v1.30.2"];

// Keys made with ssh-keygen; each fingerprint is what `ssh-keygen -l -E md5` prints for it (and,
// for the first three, the file name real kops gives it: checked against kops below).
const KEYS = {
  rsa: {
    text: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDCyzbehFOpHuoyjszJg8ay3UPEK4hGntFN+AQstiAt45RGtFT/M1tBuwT+po3a1g7APe0EpgVVPQhsERZs1YDxjtH5aaUKfQftM+x2bfP0bmbPnqisarKt5/W0jM4cSLFyyBtferXKUiTnzKcTdAsp4X0ySohIBOHSGl3AiU2OKW0hMs6pcyB8yZEgxeagpAKNBAvyWV/Fc3BGL2sDUdJXurZClDA0gh5wdqDtvavFsZLr1/PXi/J5fQRajAewIzX4awVltdqxTVE7EtXL86O8HiQ+8m0pGm9WECJHrvevwjQtGwEqmGNS8Tmlgs9Idokw5eJMfHvxlyJE8FgT1UAx me@host\n",
    md5: "bd:e9:be:3c:f4:86:52:77:09:88:01:6b:43:bc:96:5e",
  },
  ed25519: {
    text: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN7FKmfUht9t4KczGwO9R7Qyxdyw/ewYQfRBIFi23UxC ed\n",
    md5: "3b:ed:fa:a0:bb:59:d5:66:63:89:98:0d:85:5f:a5:0d",
  },
  ecdsa: {
    text: "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBI9q0LTHd1pT0MgTVEHuC+y2hXmia96usp+3PC7vTNOQDErgSI9/D6qlkcRE8b2A7lg1O+sLIp/NZqurESl1dDk= ec@host\n",
    md5: "72:24:9c:38:f6:c4:ad:5d:53:59:e1:9a:b2:c1:56:a4",
  },
};

function memStore(): string {
  const n = uniqueName("flags");
  resetMemoryStore(n);
  return `memfs://${n}`;
}

function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kstate-${prefix}-`));
}

function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** The documents of a `--dry-run -o json` run, without the per-run creation time. */
function jsonDocs(stdout: string): Doc[] {
  const docs = JSON.parse(`[${stdout}]`) as Doc[];
  for (const d of docs) delete d.metadata?.creationTimestamp;
  return docs;
}

function byName(docs: Doc[]): Record<string, Doc> {
  return Object.fromEntries(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d]));
}

async function dryJson(argv: string[], env: Record<string, string> = {}): Promise<Record<string, Doc>> {
  // Dry runs write nothing, so they share one empty store (and so one spec.configBase).
  resetMemoryStore("flags-dry");
  const r = await kstate(["create", "cluster", NAME, ...argv, "--dry-run", "-o", "json"], { env: { KOPS_STATE_STORE: "memfs://flags-dry", ...env } });
  assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
  return byName(jsonDocs(r.stdout));
}

describe("kstate create cluster: kops's flags", function () {
  describe("the flag table", function () {
    const cases: { argv: string[]; options?: Doc; settings?: Doc }[] = [
      { argv: ["--zones", "a,b", "--zones=c"], options: { zones: ["a", "b", "c"] } },
      { argv: ["--master-zones", "a,b,c"], options: { controlPlaneZones: ["a", "b", "c"] } },
      { argv: ["--control-plane-zones=a"], options: { controlPlaneZones: ["a"] } },
      { argv: ["--master-count", "3", "--node-count=5"], options: { controlPlaneCount: 3, nodeCount: 5 } },
      { argv: ["--master-size", "m5.large"], options: { controlPlaneSize: "m5.large" } },
      { argv: ["--control-plane-size", "m5.large,m5a.large"], options: { controlPlaneSize: ["m5.large", "m5a.large"] } },
      { argv: ["--node-size", "m5.large,m5a.large"], options: { nodeSize: ["m5.large", "m5a.large"] } },
      { argv: ["--node-size", "m5.large", "--node-size", "m5a.large"], options: { nodeSize: ["m5.large", "m5a.large"] } },
      { argv: ["--node-size", "m5.large"], options: { nodeSize: "m5.large" } },
      { argv: ["--master-volume-size", "50", "--node-volume-size", "30"], options: { controlPlaneVolumeSize: 50, nodeVolumeSize: 30 } },
      { argv: ["--control-plane-volume-size=64"], options: { controlPlaneVolumeSize: 64 } },
      { argv: ["--master-image", "img-1", "--node-image", "img-2", "--image", "img-3"], options: { controlPlaneImage: "img-1", nodeImage: "img-2", image: "img-3" } },
      { argv: ["--vpc", "vpc-1"], options: { networkId: "vpc-1" } },
      { argv: ["--network-id", "vpc-2", "--subnets", "subnet-a,subnet-b", "--utility-subnets", "subnet-c,subnet-d"], options: { networkId: "vpc-2", subnetIds: ["subnet-a", "subnet-b"], utilitySubnetIds: ["subnet-c", "subnet-d"] } },
      { argv: ["--bastion"], options: { bastion: true } },
      { argv: ["--bastion=true"], options: { bastion: true } },
      { argv: ["--bastion=false"], options: { bastion: false } },
      { argv: ["--bastion=1"], options: { bastion: true } },
      { argv: ["--api-loadbalancer-type", "internal"], options: { apiLoadBalancerType: "internal" } },
      { argv: ["--etcd-clusters", "main,events,leases"], options: { etcdClusters: ["main", "events", "leases"] } },
      { argv: ["--dns", "Private", "--dns-zone", "example.com"], options: { dns: "private", dnsZone: "example.com" } },
      { argv: ["--project", "my-project", "--cloud", "gce"], options: { project: "my-project", cloud: "gce" } },
      { argv: ["-t", "private", "--topology=public"], options: { topology: "public" } },
      { argv: ["--ssh-access", "10.0.0.0/8", "--admin-access", "10.1.0.0/16,10.2.0.0/16"], options: { sshAccess: ["10.0.0.0/8"], adminAccess: ["10.1.0.0/16", "10.2.0.0/16"] } },
      { argv: ["--network-cidr", "10.0.0.0/16", "--networking", "calico", "--channel", "alpha"], options: { networkCidr: "10.0.0.0/16", networking: "calico", channel: "alpha" } },
      // The flags that set fields (src/ops/option-fields.ts).
      { argv: ["--kubernetes-feature-gates", "A,-B", "--kubernetes-feature-gates=+C"], options: { kubernetesFeatureGates: ["A", "-B", "+C"] } },
      { argv: ["--container-runtime", "containerd", "--bastion-image", "img-b", "--authorization", "AlwaysAllow"], options: { containerRuntime: "containerd", bastionImage: "img-b", authorization: "AlwaysAllow" } },
      { argv: ["--node-volume-type", "gp3", "--control-plane-volume-type=io1", "--etcd-storage-type", "gp2"], options: { nodeVolumeType: "gp3", controlPlaneVolumeType: "io1", etcdStorageType: "gp2" } },
      { argv: ["--associate-public-ip=false", "--disable-subnet-tags", "--encrypt-etcd-storage"], options: { associatePublicIp: false, disableSubnetTags: true, encryptEtcdStorage: true } },
      { argv: ["--node-security-groups", "sg-1,sg-2", "--master-security-groups", "sg-3"], options: { nodeSecurityGroups: ["sg-1", "sg-2"], controlPlaneSecurityGroups: ["sg-3"] } },
      { argv: ["--node-tenancy", "dedicated", "--master-tenancy", "host", "--instance-manager", "cloudgroups"], options: { nodeTenancy: "dedicated", controlPlaneTenancy: "host", instanceManager: "cloudgroups" } },
      { argv: ["--cloud-labels", "Owner=John Doe,Team=x"], options: { cloudLabels: "Owner=John Doe,Team=x" } },
      { argv: ["--api-loadbalancer-class", "classic", "--api-ssl-certificate", "arn:x", "--master-public-name", "api.example.com"], options: { apiLoadBalancerClass: "classic", apiSslCertificate: "arn:x", apiPublicName: "api.example.com" } },
      { argv: ["--gce-service-account", "vm@p.iam.gserviceaccount.com"], options: { gceServiceAccount: "vm@p.iam.gserviceaccount.com" } },
      { argv: ["--dry-run", "-oyaml"], settings: { dryRun: true, output: "yaml" } },
      { argv: ["--dry-run=true", "-o=json"], settings: { dryRun: true, output: "json" } },
      { argv: ["--output", "yaml", "-y"], settings: { output: "yaml", yes: true } },
      { argv: ["--yes=false"], settings: { yes: false } },
      // Two spellings of one kops flag are two pflag flags bound to one variable: a spelling's first
      // use replaces the value, its repeats append to it.
      { argv: ["--set", "spec.a=[x, y]", "--override", "spec.b=1"], settings: { set: ["spec.b=1"] } },
      { argv: ["--set", "spec.a=1", "--set", "spec.b=2"], settings: { set: ["spec.a=1", "spec.b=2"] } },
      { argv: ["--master-size", "m5.large", "--control-plane-size", "m5.xlarge"], options: { controlPlaneSize: "m5.xlarge" } },
      { argv: ["--control-plane-size", "a1", "--master-size", "b1", "--control-plane-size", "c1"], options: { controlPlaneSize: ["b1", "c1"] } },
      { argv: ["--master-zones", "a", "--master-zones", "b", "--control-plane-zones", "c,d"], options: { controlPlaneZones: ["c", "d"] } },
      { argv: ["--control-plane-zones", "c", "--master-zones", "a", "--master-zones", "b"], options: { controlPlaneZones: ["a", "b"] } },
      { argv: ["--unset", "spec.a,spec.b", "--unset", "spec.c"], settings: { unset: ["spec.a", "spec.b", "spec.c"] } },
      { argv: ["--name", "x.example.com", "--state", "memfs://s", "--config", "/tmp/k.yaml", "--ssh-public-key", "~/.ssh/id.pub"], settings: { name: "x.example.com", state: "memfs://s", config: "/tmp/k.yaml", sshPublicKey: "~/.ssh/id.pub" } },
    ];
    for (const c of cases) {
      it(c.argv.join(" "), function () {
        const parsed = parseCreateFlags(["cluster", "n.example.com", ...c.argv]);
        assert.deepEqual(parsed.positionals, ["cluster", "n.example.com"]);
        assert.deepEqual(parsed.options, c.options ?? {});
        assert.deepEqual(parsed.settings, c.settings ?? {});
      });
    }

    const errors: { argv: string[]; message: RegExp }[] = [
      { argv: ["--target", "terraform"], message: /^--target: needs the cloud/ },
      { argv: ["--target=terraform"], message: /^--target: needs the cloud/ },
      { argv: ["--out", "dir"], message: /^--out: needs the cloud/ },
      { argv: ["--add", "addon.yaml"], message: /^--add: not supported by kstate/ },
      { argv: ["--discovery-store", "s3://x"], message: /^--discovery-store: not supported by kstate: set spec\.serviceAccountIssuerDiscovery/ },
      { argv: ["--ipv6"], message: /^--ipv6: not supported by kstate/ },
      { argv: ["--node-tenancy", "shared"], message: /^--node-tenancy must be default, dedicated or host \(got "shared"\)/ },
      { argv: ["--api-loadbalancer-class", "Network"], message: /^--api-loadbalancer-class must be classic or network/ },
      { argv: ["--encrypt-etcd-storage=maybe"], message: /^--encrypt-etcd-storage takes true or false/ },
      { argv: ["--azure-tenant-id", "x"], message: /^--azure-tenant-id: not supported by kstate \(Azure\)/ },
      { argv: ["--os-network", "n"], message: /^--os-network: needs the cloud/ },
      { argv: ["--spotinst-product", "x"], message: /^--spotinst-product: not supported by kstate \(Spotinst\)/ },
      { argv: ["--bogus"], message: /^Unknown option '--bogus'/ },
      { argv: ["--bastion=maybe"], message: /^--bastion takes true or false \(got "maybe"\)/ },
      { argv: ["--master-count", "three"], message: /^--master-count must be a whole number \(got "three"\)/ },
      { argv: ["--node-volume-size", "1.5"], message: /^--node-volume-size must be a whole number/ },
      { argv: ["--topology", "mixed"], message: /^--topology must be public or private \(got "mixed"\)/ },
      { argv: ["--dns", "secret"], message: /^--dns must be public, private or none \(got "secret"\)/ },
      { argv: ["--api-loadbalancer-type", "external"], message: /^--api-loadbalancer-type must be public or internal/ },
      { argv: ["-o", "xml"], message: /^-o must be yaml or json \(got "xml"\)/ },
      { argv: ["--zones"], message: /^--zones needs a value/ },
      { argv: ["--zones", "--node-count", "2"], message: /^--zones needs a value \(got the flag --node-count\)/ },
      { argv: ["--zones", ","], message: /^--zones needs a value/ },
      { argv: ["--network-cidr", "10.0.0.0/16,10.1.0.0/16"], message: /^--network-cidr: kstate takes one network CIDR; more go in spec\.additionalNetworkCIDRs/ },
    ];
    for (const c of errors) {
      it(`refuses ${c.argv.join(" ")}, naming the flag`, function () {
        assert.throws(() => parseCreateFlags(["cluster", "n.example.com", ...c.argv]), (e: Error) => {
          assert.match(e.message, c.message);
          return e.constructor.name === "UsageError";
        });
      });
    }

    it("knows every flag of `kops create cluster --help`: taken or refused with a reason", async function () {
      const { stdout } = await promisify(execFile)(toolPath("kops"), ["create", "cluster", "--help"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpDir("home") } });
      const section = stdout.slice(stdout.indexOf("\nFlags:\n"), stdout.indexOf("\nGlobal Flags:\n"));
      const kopsFlags = [...section.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]!).filter((f) => f !== "help");
      assert.ok(kopsFlags.length > 60, `parsed ${kopsFlags.length} flags from kops's help`);
      const taken = new Set(CREATE_FLAGS.flatMap((f) => f.names));
      const unknown = kopsFlags.filter((f) => !taken.has(f) && !(f in REFUSED_FLAGS));
      assert.deepEqual(unknown, [], "kops flags kstate neither takes nor refuses");
      // kops's hidden (deprecated) spellings of the flags it lists are taken too.
      for (const f of ["master-zones", "master-count", "master-size", "master-image", "master-volume-size", "vpc", "override", "master-security-groups", "master-tenancy", "master-public-name"]) assert.ok(taken.has(f), f);
    });

    it("--help lists every flag of the table, with kops's other spellings", async function () {
      const r = await kstate(["create", "--help"]);
      assert.equal(r.code, 0);
      for (const f of CREATE_FLAGS) {
        assert.match(r.stdout, new RegExp(`\\n  ${f.short ? `-${f.short}, ` : ""}--${f.names[0]}\\b`), f.names[0]);
        for (const alias of f.names.slice(1)) assert.match(r.stdout, new RegExp(`also [^)]*--${alias}\\b`), alias);
      }
    });
  });

  describe("aliases reach the same options", function () {
    const pairs: [string[], string[]][] = [
      [["--master-size", "m5.xlarge"], ["--control-plane-size", "m5.xlarge"]],
      [["--master-zones", "us-east-1a"], ["--control-plane-zones", "us-east-1a"]],
      [["--master-count", "3"], ["--control-plane-count", "3"]],
      [["--master-image", "ubuntu/test"], ["--control-plane-image", "ubuntu/test"]],
      [["--master-volume-size", "50"], ["--control-plane-volume-size", "50"]],
      [["--vpc", "vpc-0123", "--network-cidr", "10.1.0.0/16"], ["--network-id", "vpc-0123", "--network-cidr", "10.1.0.0/16"]],
      [["--bastion", "-t", "private"], ["--bastion=true", "--topology", "private"]],
      [["--master-security-groups", "sg-1"], ["--control-plane-security-groups", "sg-1"]],
      [["--master-tenancy", "dedicated"], ["--control-plane-tenancy", "dedicated"]],
      [["--master-public-name", "api.example.com"], ["--api-public-name", "api.example.com"]],
    ];
    for (const [a, b] of pairs) {
      it(`${a.join(" ")} writes what ${b.join(" ")} writes`, async function () {
        assert.deepEqual(await dryJson([...BASE, ...a]), await dryJson([...BASE, ...b]));
      });
    }

    // These read fields the lead's option expansion (src/ops/expand.ts) writes.
    it("the flags land in the documents (expansion by src/ops/expand.ts)", async function () {
      const docs = await dryJson([...BASE, "--master-size", "m5.xlarge", "--node-size", "m5.large,m5a.large", "--master-volume-size", "50", "--node-volume-size", "30",
        "--topology", "private", "--bastion", "--vpc", "vpc-0123", "--network-cidr", "10.1.0.0/16", "--api-loadbalancer-type", "internal", "--dns", "private", "--dns-zone", "example.com"]);
      const cluster = docs[`Cluster/${NAME}`]!;
      assert.equal(cluster.spec.networkID, "vpc-0123");
      assert.equal(cluster.spec.api.loadBalancer.type, "Internal");
      assert.equal(cluster.spec.topology.dns.type, "Private");
      assert.equal(docs["InstanceGroup/control-plane-us-east-1a"]!.spec.machineType, "m5.xlarge");
      assert.equal(docs["InstanceGroup/control-plane-us-east-1a"]!.spec.rootVolumeSize, 50);
      assert.equal(docs["InstanceGroup/nodes-us-east-1b"]!.spec.rootVolumeSize, 30);
      assert.deepEqual(docs["InstanceGroup/nodes-us-east-1b"]!.spec.mixedInstancesPolicy?.instances, ["m5.large", "m5a.large"]);
      assert.equal(docs["InstanceGroup/bastions"]!.spec.role, "Bastion");
    });
  });

  describe("refused flags write nothing", function () {
    for (const argv of [["--target", "terraform"], ["--out", "./out"], ["--add", "x.yaml"], ["--ipv6"], ["--bastion", "true"], ["--master-count", "2"], ["--unset", "kubelet.maxPods"]]) {
      it(argv.join(" "), async function () {
        const state = `file://${tmpDir("refuse")}`;
        assert.equal((await kstate(["create", "cluster", NAME, ...BASE], { env: { KOPS_STATE_STORE: state } })).code, 0);
        const before = await snapshot(openPath(state));
        const r = await kstate(["create", "cluster", NAME, ...BASE, ...argv, "--node-size", "m5.2xlarge"], { env: { KOPS_STATE_STORE: state } });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`^kstate create: .*${argv[0] === "--bastion" ? "a boolean flag takes its value after =" : argv[0]}`));
        assert.equal(r.stdout, "");
        assert.deepEqual(await snapshot(openPath(state)), before, "the store is byte-identical");
      });
    }
  });

  describe("the cluster name", function () {
    it("is the argument, --name, or KOPS_CLUSTER_NAME", async function () {
      for (const [argv, env] of [[[NAME], {}], [["--name", NAME], {}], [[], { KOPS_CLUSTER_NAME: NAME }], [["--name", NAME], { KOPS_CLUSTER_NAME: "other.example.com" }], [[NAME, "--name", NAME], {}]] as const) {
        const state = memStore();
        const r = await kstate(["create", "cluster", ...argv, ...BASE], { env: { KOPS_STATE_STORE: state, ...env } });
        assert.equal(r.code, 0, `${argv.join(" ")} ${JSON.stringify(env)}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`Creating cluster ${NAME.replace(/\./g, "\\.")}`));
        assert.deepEqual(await openPath(state).listFolders(), [NAME]);
      }
    });

    it("two different names, or none, are usage errors", async function () {
      const cases: [string[], Record<string, string>, RegExp][] = [
        [[NAME, "--name", "other.example.com"], {}, /two cluster names: "flags\.k8s\.example\.com" \(argument\) and "other\.example\.com" \(--name\); give one/],
        [[NAME], { KOPS_CLUSTER_NAME: "other.example.com" }, /two cluster names: .* and "other\.example\.com" \(KOPS_CLUSTER_NAME\)/],
        [[], {}, /needs a cluster name: the argument, --name NAME or KOPS_CLUSTER_NAME/],
        [[NAME, "other.example.com"], {}, /takes one cluster name/],
      ];
      for (const [argv, env, message] of cases) {
        const state = memStore();
        const r = await kstate(["create", "cluster", ...argv, ...BASE], { env: { KOPS_STATE_STORE: state, ...env } });
        assert.equal(r.code, 2, argv.join(" "));
        assert.match(r.stderr, message);
        assert.deepEqual(await openPath(state).listTree(), [], "nothing written");
      }
    });
  });

  describe("--yes", function () {
    for (const flag of ["--yes", "-y"]) {
      it(`${flag} is accepted, said to be ignored once, and changes nothing else`, async function () {
        const [a, b] = [memStore(), memStore()];
        const plain = await kstate(["create", "cluster", NAME, ...BASE], { env: { KOPS_STATE_STORE: a } });
        const yes = await kstate(["create", "cluster", NAME, ...BASE, flag], { env: { KOPS_STATE_STORE: b } });
        assert.equal(yes.code, 0, yes.stderr);
        assert.equal(yes.stderr.match(/--yes is accepted and ignored/g)?.length, 1, yes.stderr);
        assert.match(yes.stderr, /never touches the cloud/);
        assert.equal(plain.stderr, "");
        assert.equal(yes.stdout.split(b).join(a), plain.stdout);
        assert.deepEqual((await openPath(b).listTree()).map((f) => f.path), (await openPath(a).listTree()).map((f) => f.path));
      });
    }
  });

  describe("the state store from kops's config file", function () {
    it("~/.kops.yaml (fake HOME) serves create and get; ~/.kops/config is read only without it", async function () {
      const home = tmpDir("home");
      const [first, second] = [tmpDir("store-a"), tmpDir("store-b")];
      writeFile(home, ".kops/config", `kops_state_store: file://${second}\n`);
      const created = await kstate(["create", "cluster", NAME, ...BASE], { env: { HOME: home } });
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, new RegExp(`in file://${second}`));
      writeFile(home, ".kops.yaml", `# kops's config\nKOPS_STATE_STORE: file://${first}/\n`);
      assert.equal((await kstate(["create", "cluster", NAME, ...BASE], { env: { HOME: home } })).code, 0);
      assert.ok(fs.existsSync(path.join(first, NAME, "config")), "~/.kops.yaml, key in any case, wins over ~/.kops/config");
      const list = await kstate(["get", "clusters"], { env: { HOME: home } });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`^${NAME.replace(/\./g, "\\.")}\\t+aws\\tus-east-1a,us-east-1b$`, "m"));
      const yaml = await kstate(["get", "cluster", NAME, "-o", "yaml"], { env: { HOME: home } });
      assert.equal((parseYaml(yaml.stdout, "get").toJS() as Doc).metadata.name, NAME);
    });

    it("--state, KSTATE_STATE_STORE and KOPS_STATE_STORE come before the file; --config names another file", async function () {
      const home = tmpDir("home");
      const [fromFile, fromEnv, fromFlag, fromConfig] = [tmpDir("file"), tmpDir("env"), tmpDir("flag"), tmpDir("config")];
      writeFile(home, ".kops.yaml", `kops_state_store: file://${fromFile}\n`);
      const other = writeFile(tmpDir("cfg"), "kops.yaml", `kops_state_store: file://${fromConfig}\n`);
      const where = async (argv: string[], env: Record<string, string>) => {
        const r = await kstate(["create", "cluster", NAME, ...BASE, "--dry-run", ...argv], { env: { HOME: home, ...env } });
        assert.equal(r.code, 0, r.stderr);
        return /in (\S+)\n/.exec(r.stdout)![1];
      };
      assert.equal(await where([], {}), `file://${fromFile}`);
      assert.equal(await where([], { KOPS_STATE_STORE: `file://${fromEnv}` }), `file://${fromEnv}`);
      assert.equal(await where([], { KSTATE_STATE_STORE: `file://${fromEnv}`, KOPS_STATE_STORE: `file://${fromFlag}` }), `file://${fromEnv}`);
      assert.equal(await where(["--state", `file://${fromFlag}`], { KOPS_STATE_STORE: `file://${fromEnv}` }), `file://${fromFlag}`);
      assert.equal(await where(["--config", other], {}), `file://${fromConfig}`);
      assert.equal(await where([`--config=${other}`], { KOPS_STATE_STORE: `file://${fromEnv}` }), `file://${fromEnv}`);
    });

    it("takeConfigFlag turns --config FILE into the variable open-store.ts reads, for every command", function () {
      assert.deepEqual(takeConfigFlag(["get", "clusters", "--config", "/k.yaml", "-o", "yaml"], { A: "1" }), { argv: ["get", "clusters", "-o", "yaml"], env: { A: "1", KSTATE_KOPS_CONFIG: "/k.yaml" } });
      assert.deepEqual(takeConfigFlag(["--config=/k.yaml", "--", "--config", "x"], {}), { argv: ["--", "--config", "x"], env: { KSTATE_KOPS_CONFIG: "/k.yaml" } });
      assert.throws(() => takeConfigFlag(["--config"], {}), /--config needs a FILE/);
    });

    it("a broken or missing config file is an error naming it, and nothing is written", async function () {
      const cases: [string, RegExp][] = [
        ["kops_state_store: [unclosed\n", /not valid YAML \([^\n]*[^:\n]\)\n/],
        ["- a list\n", /expected a map of settings/],
        ["kops_state_store: 42\n", /kops_state_store must be a URL such as s3:\/\/bucket \(got 42\)/],
        ["kops_state_store: file:///a\nKOPS_STATE_STORE: file:///b\n", /sets the state store twice/],
        // A YAML version kops's reader refuses too: an error naming the file, not the library's own warning.
        ["%YAML 9.9\n---\nkops_state_store: file:///a\n", /not valid YAML \(Unsupported YAML version 9\.9 at line 1, column 7\)\n/],
        // kops reads YAML 1.1 alone (a 1.1 directive, or none, is fine), and one %YAML directive.
        ["%YAML 1.2\n---\nkops_state_store: file:///a\n", /not valid YAML \(%YAML 1\.2: kops reads YAML 1\.1 only, and refuses the file\)\n/],
        ["%YAML 1.1\n%YAML 1.1\n---\nkops_state_store: file:///a\n", /not valid YAML \(two %YAML directives; kops refuses the file too\)\n/],
      ];
      for (const [text, message] of cases) {
        const home = tmpDir("home");
        const file = writeFile(home, ".kops.yaml", text);
        for (const argv of [["create", "cluster", NAME, ...BASE], ["get", "clusters"]]) {
          const r = await kstate(argv, { env: { HOME: home } });
          assert.equal(r.code, 2, `${argv[0]} with ${JSON.stringify(text)}`);
          assert.match(r.stderr, new RegExp(`kops config file ${file.replace(/[.]/g, "\\.")}: `));
          assert.match(r.stderr, message);
        }
        assert.deepEqual(fs.readdirSync(home), [".kops.yaml"], "nothing written beside it");
      }
      const missing = await kstate(["create", "cluster", NAME, ...BASE, "--config", "/nonexistent/kops.yaml"], { env: {} });
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /kops config file \/nonexistent\/kops\.yaml: cannot read it \(ENOENT\)/);
      const none = await kstate(["get", "clusters"], { env: { HOME: tmpDir("empty-home") } });
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no state store: pass --state URL, or set KSTATE_STATE_STORE or KOPS_STATE_STORE, or put kops_state_store: URL in ~\/\.kops\.yaml/);
      // A config file that sets no store is the one named.
      const silentHome = tmpDir("silent-home");
      const silent = writeFile(silentHome, "other.yaml", "a: &a [*a]\n");
      const unset = await kstate(["get", "clusters", "--config", silent], { env: { HOME: silentHome } });
      assert.equal(unset.code, 2);
      assert.ok(unset.stderr.includes(`put kops_state_store: URL in ${silent} (it sets none)`), unset.stderr);
    });

    it("a config file of several YAML documents is read as kops reads it: the first is the settings, the rest is never read", async function () {
      const home = tmpDir("docs-home");
      const store = tmpDir("docs-store");
      const file = writeFile(home, "k.yaml", `kops_state_store: file://${store}\n---\nbroken: [unclosed\n`);
      const r = await kstate(["create", "cluster", NAME, ...BASE, "--config", file], { env: { HOME: home } });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /YAML|parseAllDocuments/);
      assert.ok(fs.existsSync(path.join(store, NAME, "config")));
    });
  });

  describe("--dry-run -o yaml|json", function () {
    it("-o yaml prints only the documents, as kops separates them; the plan goes to stderr", async function () {
      const state = `file://${tmpDir("dry")}`;
      const key = writeFile(tmpDir("key"), "id.pub", KEYS.ed25519.text);
      const r = await kstate(["create", "cluster", NAME, ...BASE, "--ssh-public-key", key, "--dry-run", "-o", "yaml"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(r.code, 0, r.stderr);
      const docs = parseYamlStream(r.stdout, "stdout").map((d) => d.toJS() as Doc);
      assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`), [`Cluster/${NAME}`, "InstanceGroup/control-plane-us-east-1a", "InstanceGroup/nodes-us-east-1a", "InstanceGroup/nodes-us-east-1b", "SSHCredential/admin"]);
      assert.equal(r.stdout.split("\n---\n\n").length, 5, "kops's separator: a blank line, ---, a blank line");
      assert.ok(r.stdout.startsWith("apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\n"));
      assert.deepEqual(docs[4], { apiVersion: "kops.k8s.io/v1alpha2", kind: "SSHCredential", metadata: { labels: { "kops.k8s.io/cluster": NAME }, name: "admin" }, spec: { publicKey: KEYS.ed25519.text.trim() } });
      assert.match(r.stderr, /Creating cluster flags\.k8s\.example\.com/);
      assert.match(r.stderr, /pki\/ssh\/public\/admin\/3bedfaa0bb59d5666389980d855fa50d: create \(admin SSH public key, ssh-ed25519 3b:ed:/);
      assert.match(r.stderr, /Dry run: nothing was written\.\n$/);
      assert.deepEqual(await openPath(state).listTree(), [], "nothing written");
    });

    it("-o json prints one compact object per document, joined by commas as kops joins them", async function () {
      const r = await kstate(["create", "cluster", NAME, ...BASE, "--dry-run", "-o", "json"], { env: { KOPS_STATE_STORE: memStore() } });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split("\n");
      assert.equal(lines.length, 5, "four documents, each ending in a newline");
      assert.ok(lines[0]!.startsWith('{"kind":"Cluster","apiVersion":"kops.k8s.io/v1alpha2","metadata":'));
      for (const l of lines.slice(1, 4)) assert.ok(l.startsWith(',{"kind":"InstanceGroup"'), l.slice(0, 40));
      assert.deepEqual(jsonDocs(r.stdout).map((d) => d.kind), ["Cluster", "InstanceGroup", "InstanceGroup", "InstanceGroup"]);
    });

    it("on an existing cluster, -o prints the whole result: untouched groups too", async function () {
      const state = memStore();
      assert.equal((await kstate(["create", "cluster", NAME, ...BASE], { env: { KOPS_STATE_STORE: state } })).code, 0);
      const r = await kstate(["create", "cluster", NAME, "--master-size", "m5.2xlarge", "--dry-run", "-o", "json"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(r.code, 0, r.stderr);
      const docs = byName(jsonDocs(r.stdout));
      assert.deepEqual(Object.keys(docs), [`Cluster/${NAME}`, "InstanceGroup/control-plane-us-east-1a", "InstanceGroup/nodes-us-east-1a", "InstanceGroup/nodes-us-east-1b"]);
      assert.equal(docs["InstanceGroup/control-plane-us-east-1a"]!.spec.machineType, "m5.2xlarge");
      assert.match(r.stderr, /Merging into cluster/);
    });

    it("without -o stdout is the plan, as before; -o without --dry-run is a usage error", async function () {
      const r = await kstate(["create", "cluster", NAME, ...BASE, "--dry-run"], { env: { KOPS_STATE_STORE: memStore() } });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Creating cluster flags\.k8s\.example\.com in memfs:\/\/\S+\n {2}config: create\n[\s\S]*Dry run: nothing was written\.\n$/);
      assert.equal(r.stderr, "");
      const bad = await kstate(["create", "cluster", NAME, ...BASE, "-o", "yaml"], { env: { KOPS_STATE_STORE: memStore() } });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /-o yaml goes with --dry-run/);
    });

    it("kops create -f takes the -o yaml file (real kops, offline)", async function () {
      this.timeout(120_000);
      const dir = tmpDir("kops-f");
      const key = writeFile(dir, "id.pub", KEYS.rsa.text);
      const manifest = path.join(dir, "c.yaml");
      const r = await kstate(["create", "cluster", NAME, "--cloud", "hetzner", "--zones", "fsn1", "--kubernetes-version", "v1.30.2", "--image", "ubuntu-24.04",
        "--node-size", "cx22", "--master-size", "cx32", "--ssh-public-key", key, "--dry-run", "-o", "yaml"], { env: { KOPS_STATE_STORE: `file://${path.join(dir, "planned")}` } });
      assert.equal(r.code, 0, r.stderr);
      fs.writeFileSync(manifest, r.stdout);
      const store = `file://${path.join(dir, "kops")}`;
      const out = await kops(["create", "-f", manifest, "--state", store], kopsEnv({ HCLOUD_TOKEN: "unused-offline" }));
      assert.match(out.stdout, /Created cluster\/flags\.k8s\.example\.com\nCreated instancegroup\/control-plane-fsn1\nCreated instancegroup\/nodes-fsn1\nAdded ssh credential/);
      const kopsGot = await kops(["get", "ig", "--name", NAME, "--state", store, "-o", "yaml"], kopsEnv());
      assert.deepEqual(parseYamlStream(kopsGot.stdout, "kops").map((d) => (d.toJS() as Doc).spec.machineType), ["cx32", "cx22"]);
    });
  });

  describe("--unset", function () {
    it("removes a Cluster spec field, keeping the rest and its comments", async function () {
      const state = memStore();
      assert.equal((await kstate(["create", "cluster", NAME, ...BASE, "--set", "spec.kubelet.maxPods=110", "--set", "spec.kubeAPIServer.auditLogMaxAge=10"], { env: { KOPS_STATE_STORE: state } })).code, 0);
      const config = openPath(state).join(NAME, "config");
      await config.write((await config.read()).data.toString().replace("  kubelet:\n", "  kubelet:\n    # kept\n"));
      const r = await kstate(["create", "cluster", NAME, "--unset", "spec.kubelet.maxPods,cluster.spec.kubeAPIServer"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /config: - spec\.kubelet\.maxPods: 110/);
      assert.match(r.stdout, /config: - spec\.kubeAPIServer\.auditLogMaxAge: 10/);
      const text = (await config.read()).data.toString();
      const spec = (parseYaml(text, "config").toJS() as Doc).spec;
      assert.equal(spec.kubelet.maxPods, undefined);
      assert.equal(spec.kubelet.anonymousAuth, false, "the rest of kubelet stays");
      assert.equal(spec.kubeAPIServer, undefined);
      assert.match(text, /kubelet:\n {4}# kept\n/);
    });

    it("comes before --set, as in kops; bad paths name --unset", async function () {
      const state = memStore();
      const r = await kstate(["create", "cluster", NAME, ...BASE, "--set", "spec.kubelet.maxPods=120", "--unset", "spec.kubelet.maxPods"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((parseYaml((await openPath(state).join(NAME, "config").read()).data.toString(), "c").toJS() as Doc).spec.kubelet.maxPods, 120);
      for (const bad of ["kubelet.maxPods", "spec", "spec.etcdClusters[0]"]) {
        const e = await kstate(["create", "cluster", NAME, "--unset", bad], { env: { KOPS_STATE_STORE: state } });
        assert.equal(e.code, 2, bad);
        assert.match(e.stderr, /--unset paths start with spec\. and name map keys/);
      }
    });
  });

  describe("--ssh-public-key", function () {
    describe("the file name kops gives a key", function () {
      for (const [type, key] of Object.entries(KEYS)) {
        it(`${type}: the MD5 fingerprint, colons dropped; the body the file's bytes`, function () {
          const planned = planSshPublicKey(key.text, "id.pub");
          assert.equal(planned.fingerprint, key.md5);
          assert.equal(planned.file, `pki/ssh/public/admin/${key.md5.replace(/:/g, "")}`);
          assert.ok(planned.body.equals(Buffer.from(key.text)));
          assert.equal(planned.publicKey, key.text.trim());
        });
      }

      it("reads the first key of an authorized_keys file, options and comments allowed", function () {
        const text = `# admins\n\nnot a key\r\nfrom="10.0.0.0/8",no-pty ${KEYS.ed25519.text}${KEYS.rsa.text}`;
        assert.equal(planSshPublicKey(text, "keys").fingerprint, KEYS.ed25519.md5);
      });

      const bad: [string, string | Buffer, RegExp][] = [
        ["a private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", /it is a private key; give the \.pub file/],
        ["an SSH2 key", "---- BEGIN SSH2 PUBLIC KEY ----\nAAAAC3Nz\n---- END SSH2 PUBLIC KEY ----\n", /RFC 4716/],
        ["an empty file", "", /no line holds a key/],
        ["a truncated key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN7FKmfUht9t4KczGwO9R7Qyxdyw ed\n", /no line holds a key|not an SSH wire encoding|the key is \d+ bytes, not 32/],
        ["a certificate", "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAAA== x\n", /is a certificate/],
        ["an unknown type", `x ${Buffer.from("\x00\x00\x00\x03abc").toString("base64")}\n`, /unknown key type "abc"/],
      ];
      for (const [what, text, message] of bad) {
        it(`refuses ${what}, naming the file`, function () {
          assert.throws(() => planSshPublicKey(text, "/home/me/id"), (e: unknown) => {
            assert.ok(ValidationError.isInstance(e));
            assert.match(e.message, /^\/home\/me\/id: not an OpenSSH public key: /);
            assert.match(e.message, message);
            return true;
          });
        });
      }
    });

    it("is planned with the documents, written only with them, once, and never beside another key", async function () {
      const state = `file://${tmpDir("ssh")}`;
      const home = tmpDir("home");
      writeFile(home, ".ssh/id_ed25519.pub", KEYS.ed25519.text);
      const env = { KOPS_STATE_STORE: state, HOME: home };
      const file = path.join(state.slice("file://".length), NAME, "pki/ssh/public/admin/3bedfaa0bb59d5666389980d855fa50d");

      const dry = await kstate(["create", "cluster", NAME, ...BASE, "--ssh-public-key", "~/.ssh/id_ed25519.pub", "--dry-run"], { env });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /\n {2}pki\/ssh\/public\/admin\/3bedfaa0bb59d5666389980d855fa50d: create \(admin SSH public key, ssh-ed25519 3b:ed:fa:a0:bb:59:d5:66:63:89:98:0d:85:5f:a5:0d\)\n/);
      assert.deepEqual(await openPath(state).listTree(), [], "a dry run writes nothing");

      const invalid = await kstate(["create", "cluster", NAME, ...BASE, "--kubernetes-version", "latest", "--ssh-public-key", "~/.ssh/id_ed25519.pub"], { env });
      assert.equal(invalid.code, 1);
      assert.deepEqual(await openPath(state).listTree(), [], "an invalid cluster: not the key either");

      const real = await kstate(["create", "cluster", NAME, ...BASE, "--ssh-public-key", "~/.ssh/id_ed25519.pub"], { env });
      assert.equal(real.code, 0, real.stderr);
      assert.match(real.stdout, /Written: 4 document\(s\) and the admin SSH public key of flags\.k8s\.example\.com\./);
      assert.equal(fs.readFileSync(file, "utf8"), KEYS.ed25519.text, "the key file's bytes, newline included, as kops writes them");

      const again = await kstate(["create", "cluster", NAME, "--ssh-public-key", "~/.ssh/id_ed25519.pub"], { env });
      assert.equal(again.code, 4, again.stderr);
      assert.match(again.stdout, /no changes/);

      const before = await snapshot(openPath(state));
      const other = writeFile(home, ".ssh/id_rsa.pub", KEYS.rsa.text);
      const refused = await kstate(["create", "cluster", NAME, "--node-size", "m5.large", "--ssh-public-key", other], { env });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /--ssh-public-key: cluster flags\.k8s\.example\.com already has another admin SSH key \(3b:ed:fa:a0:bb:59:d5:66:63:89:98:0d:85:5f:a5:0d\); kops takes only one/);
      const notKey = await kstate(["create", "cluster", NAME, "--node-size", "m5.large", "--ssh-public-key", writeFile(home, ".ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n")], { env });
      assert.equal(notKey.code, 2);
      assert.match(notKey.stderr, /--ssh-public-key \S+\/\.ssh\/id_ed25519: not an OpenSSH public key: it is a private key/);
      const missing = await kstate(["create", "cluster", NAME, "--node-size", "m5.large", "--ssh-public-key", "~/.ssh/nope.pub"], { env });
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--ssh-public-key: cannot read \S+\/\.ssh\/nope\.pub \(ENOENT\)/);
      assert.deepEqual(await snapshot(openPath(state)), before, "refusals write nothing");
    });

    it("kops lists the key kstate wrote, and writes the same file for the same key (real kops, offline)", async function () {
      this.timeout(300_000);
      for (const [type, key] of Object.entries(KEYS)) {
        const dir = tmpDir(`kops-ssh-${type}`);
        const keyFile = writeFile(dir, "id.pub", key.text);
        const ours = path.join(dir, "kstate");
        const r = await kstate(["create", "cluster", NAME, "--cloud", "hetzner", "--zones", "fsn1", "--kubernetes-version", "v1.34.1", "--ssh-public-key", keyFile], { env: { KOPS_STATE_STORE: `file://${ours}` } });
        assert.equal(r.code, 0, r.stderr);
        const listed = await kops(["get", "sshpublickeys", "--name", NAME, "--state", `file://${ours}`], kopsEnv());
        assert.equal(listed.stdout, `ID\n${key.md5}\n`, type);

        // kops writes the key right after the cluster, then fails offline where it would preview
        // the cloud changes; the key file is what is compared.
        const theirs = path.join(dir, "kops");
        const run = await promisify(execFile)(toolPath("kops"), ["create", "cluster", "--name", NAME, "--state", `file://${theirs}`, "--cloud", "hetzner", "--zones", "fsn1",
          "--kubernetes-version", "v1.34.1", "--channel", CHANNEL, "--image", "ubuntu-24.04", "--node-size", "cx22", "--control-plane-size", "cx32", "--ssh-public-key", keyFile],
        { env: kopsEnv({ HCLOUD_TOKEN: "unused-offline" }), timeout: 120_000 }).catch((e: { stderr?: string }) => ({ stderr: e.stderr ?? "" }));
        const folder = (root: string) => path.join(root, NAME, "pki", "ssh", "public", "admin");
        assert.ok(fs.existsSync(folder(theirs)), `kops wrote no key: ${run.stderr.slice(-2000)}`);
        assert.deepEqual(fs.readdirSync(folder(ours)), fs.readdirSync(folder(theirs)), type);
        const [name] = fs.readdirSync(folder(theirs));
        assert.ok(fs.readFileSync(path.join(folder(ours), name!)).equals(fs.readFileSync(path.join(folder(theirs), name!))), `${type}: the same bytes`);
      }
    });
  });
});
