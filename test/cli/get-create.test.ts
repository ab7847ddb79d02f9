import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseYaml, parseYamlStream } from "../../src/store/yaml";
import { openPath, resetMemoryStore } from "../../src/vfs";
import { kstate } from "../support/cli";
import { uniqueName } from "../support/env";
import { snapshot } from "../support/snapshot";

const NAME = "cli.k8s.example.com";
const FLAGS = ["--zones", "us-east-1a,us-east-1b", "--node-size", "m5.large", "--kubernetes-version", "v1.30.2", "--cloud", "aws"];

const stores: Record<string, () => string> = {
  memfs: () => {
    const n = uniqueName("mem");
    resetMemoryStore(n);
    return `memfs://${n}`;
  },
  "file://": () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-cli-"))}`,
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`kstate create cluster and get (${kind})`, function () {
    it("create writes the cluster as kops does, and get prints it as table, yaml and json", async function () {
      const state = make();
      const created = await kstate(["create", "cluster", NAME, ...FLAGS, "--set", "spec.kubelet.maxPods=110"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /Creating cluster cli\.k8s\.example\.com/);
      assert.match(created.stdout, /instancegroup\/nodes-us-east-1b: create/);

      const list = await kstate(["get", "clusters", "--state", state]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, "NAME\t\t\tCLOUD\tZONES\ncli.k8s.example.com\taws\tus-east-1a,us-east-1b\n", "kops's columns, as kops prints them");

      const yaml = await kstate(["get", "cluster", NAME, "-o", "yaml"], { env: { KSTATE_STATE_STORE: state } });
      const doc = parseYaml(yaml.stdout, "out").toJS() as { spec: { kubelet: { maxPods: number } } };
      assert.equal(doc.spec.kubelet.maxPods, 110);
      const json = JSON.parse((await kstate(["get", "cluster", NAME, "-o", "json", "--state", state])).stdout) as { kind: string };
      assert.equal(json.kind, "Cluster");

      const igs = await kstate(["get", "ig", "--name", NAME, "--state", state]);
      assert.match(igs.stdout, /\nnodes-us-east-1a\t+Node\t+m5\.large\t1\t1\tus-east-1a\n/);
      assert.match(igs.stdout, /\ncontrol-plane-us-east-1a\tControlPlane\t/, "role Master shown as kops shows it");
      const all = parseYamlStream((await kstate(["get", "all", NAME, "-o", "yaml", "--state", state])).stdout, "all").map((d) => (d.toJS() as { kind: string }).kind);
      assert.deepEqual(all, ["Cluster", "InstanceGroup", "InstanceGroup", "InstanceGroup"]);
    });

    it("create on an existing cluster merges only the flags given, keeping hand edits", async function () {
      const state = make();
      await kstate(["create", "cluster", NAME, ...FLAGS], { env: { KOPS_STATE_STORE: state } });
      const config = openPath(state).join(NAME, "config");
      const text = (await config.read()).data.toString();
      await config.write(text.replace("  kubelet:\n", "  kubelet:\n    # tuned by hand\n    maxPods: 200\n"));
      const before = await snapshot(openPath(state));
      const dry = await kstate(["create", "cluster", NAME, "--node-size", "m5.xlarge", "--dry-run"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /Merging into cluster/);
      assert.match(dry.stdout, /instancegroup\/nodes-us-east-1a: ~ spec\.machineType: "m5\.large" -> "m5\.xlarge"/);
      assert.deepEqual(await snapshot(openPath(state)), before, "dry run wrote nothing");
      const real = await kstate(["create", "cluster", NAME, "--node-size", "m5.xlarge"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(real.code, 0, real.stderr);
      assert.match((await config.read()).data.toString(), /# tuned by hand\n {4}maxPods: 200/);
      const ig = parseYaml((await openPath(state).join(NAME, "instancegroup", "nodes-us-east-1b").read()).data.toString(), "ig").toJS() as { spec: { machineType: string } };
      assert.equal(ig.spec.machineType, "m5.xlarge");
    });

    it("create again with zones but without --cloud expands for the stored cluster's cloud (etcd members unchanged)", async function () {
      const state = make();
      assert.equal((await kstate(["create", "cluster", NAME, ...FLAGS], { env: { KOPS_STATE_STORE: state } })).code, 0);
      const before = await snapshot(openPath(state));
      const same = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(same.code, 4, same.stderr);
      assert.match(same.stdout, /no changes/);
      assert.deepEqual(await snapshot(openPath(state)), before, "a memfs or file:// store suggests no cloud; the stored aws is kept, so nothing changes");
      // Two /17s fill kops's default network: kops's allocator has no block for a third zone, and
      // neither has kstate's; the refusal names the option and writes nothing.
      const full = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b,us-east-1c"], { env: { KOPS_STATE_STORE: state } });
      assert.equal(full.code, 1, full.stdout);
      assert.match(full.stderr, /--zones: cannot add us-east-1c: no block of the network CIDR 172\.20\.0\.0\/16 is free/);
      assert.deepEqual(await snapshot(openPath(state)), before);
      // Three zones take three of four /18s: a fourth zone gets the last, as kops would give it.
      const roomy = make();
      assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b,us-east-1c", ...FLAGS.slice(2)], { env: { KOPS_STATE_STORE: roomy } })).code, 0);
      const more = await kstate(["create", "cluster", NAME, "--zones", "us-east-1d"], { env: { KOPS_STATE_STORE: roomy } });
      assert.equal(more.code, 0, more.stderr);
      assert.match(more.stdout, /\+ spec\.subnets\[name=us-east-1d\]\.cidr: "172\.20\.192\.0\/18"/);
      assert.match(more.stdout, /instancegroup\/nodes-us-east-1d: create/);
      const config = parseYaml((await openPath(roomy).join(NAME, "config").read()).data.toString(), "config").toJS() as { spec: { etcdClusters: { etcdMembers: { name: string }[] }[] } };
      assert.deepEqual(config.spec.etcdClusters[0]!.etcdMembers.map((m) => m.name), ["a"], "still the one aws-named member");
    });

    it("get's table reads configs as the YAML parser for edits does: legacy apiVersion, duplicate keys and bad YAML named by file", async function () {
      const state = make();
      const root = openPath(state);
      const config = (name: string, extra = "") => `apiVersion: kops/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${name}\nspec:\n  cloudProvider: gce\n  kubernetesVersion: 1.29.0\n  subnets:\n  - zone: europe-west1-b\n  - zone: europe-west1-c\n  configBase: ${state}/${name}\n${extra}`;
      await root.join("a.example.com", "config").write(config("a.example.com"));
      await root.join("not-a-cluster", "readme").write("a folder without a config is not listed");
      const table = await kstate(["get", "clusters", "--state", state]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^a\.example\.com\tgce\teurope-west1-b,europe-west1-c$/m);
      assert.equal(table.stdout.trim().split("\n").length, 2, "one cluster listed");
      const json = JSON.parse((await kstate(["get", "cluster", "a.example.com", "-o", "json", "--state", state])).stdout) as { apiVersion: string };
      assert.equal(json.apiVersion, "kops.k8s.io/v1alpha2", "the legacy group is read as kops reads it, in both parsers");

      await root.join("b.example.com", "config").write(config("b.example.com", "  kubernetesVersion: 1.30.0\n"));
      const dup = await kstate(["get", "cluster", "b.example.com", "--state", state]);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /b\.example\.com\/config: invalid YAML at line \d+, column \d+: duplicated mapping key/);
      await root.join("b.example.com", "config").write("kind: Cluster\nspec: [unclosed\n");
      const broken = await kstate(["get", "clusters", "--state", state]);
      assert.equal(broken.code, 1);
      assert.match(broken.stderr, /b\.example\.com\/config: invalid YAML at line/);
      await root.join("b.example.com", "config").write("apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\n");
      assert.match((await kstate(["get", "cluster", "b.example.com", "--state", state])).stderr, /b\.example\.com\/config: expected a Cluster document, found kind "InstanceGroup"/);
      // No kind at all, or no mapping: said so, never a stray "undefined".
      for (const [text, found] of [["apiVersion: kops.k8s.io/v1alpha2\nspec: {}\n", "found no kind field"], ["{}\n", "found no kind field"], ["- a\n", "found no mapping"], ["null\n", "found no mapping"]] as const) {
        await root.join("b.example.com", "config").write(text);
        for (const argv of [["get", "cluster", "b.example.com", "-o", "yaml"], ["get", "all", "b.example.com"], ["create", "cluster", "b.example.com", "--node-count", "2"]]) {
          const r = await kstate([...argv, "--state", state]);
          assert.equal(r.code, 1, `${JSON.stringify(text)} ${argv.join(" ")}`);
          assert.ok(r.stderr.includes(`b.example.com/config: expected a Cluster document, ${found}`) && !r.stderr.includes("undefined"), `${JSON.stringify(text)} ${argv.join(" ")}: ${r.stderr}`);
        }
      }
    });

    it("bad input is refused with the field named and nothing written", async function () {
      const state = make();
      const cases: [string[], number, RegExp][] = [
        [["create", "cluster", NAME, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "latest"], 1, /spec\.kubernetesVersion: "latest" is not a Kubernetes version/],
        // kops takes the version from its channel; kstate names the flag that gives it.
        [["create", "cluster", NAME, "--zones", "us-east-1a", "--cloud", "aws"], 1, /config: spec\.kubernetesVersion: required: pass --kubernetes-version, e\.g\. --kubernetes-version v1\.\d+\.\d+ \(kops takes a default from its channel; kstate reads no channel\)/],
        // As kops, the cloud comes from --cloud or the store's scheme (s3://, gs://), never from the zones.
        ...(/^(s3|gs):/.test(state) ? [] : [[["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"], 1, /config: spec\.cloudProvider: required: pass --cloud \(aws, gce, .*\); as kops, the cloud is inferred only from an s3:\/\/ \(aws\) or gs:\/\/ \(gce\) store, not from \S+ nor from the zones/] as [string[], number, RegExp]]),
        // kops's cloud support rules apply on this road too.
        [["create", "cluster", NAME, ...FLAGS, "--api-loadbalancer-type", "internal"], 1, /config: spec\.api\.loadBalancer\.type: Internal LoadBalancers must have at least one subnet of type Private/],
        [["create", "cluster", "Bad_Name", ...FLAGS], 2, /create cluster: "Bad_Name" is not a cluster name/],
        [["create", "cluster", "Dev.Example.com", ...FLAGS], 1, /metadata\.name: "Dev\.Example\.com" is not a valid DNS name/],
        [["get", "cluster", "../elsewhere"], 2, /get cluster: "\.\.\/elsewhere" is not a cluster name/],
        [["create", "cluster", NAME, ...FLAGS, "--control-plane-count", "2"], 2, /--control-plane-count: must be odd/],
        [["create", "cluster", NAME, ...FLAGS, "--set", "kubelet.maxPods=1"], 2, /--set paths start with spec\./],
        [["create", "cluster", NAME, ...FLAGS, "--bogus"], 2, /Unknown option '--bogus'/],
        [["get", "cluster", "missing.example.com"], 1, /not found/],
      ];
      for (const [argv, code, message] of cases) {
        const r = await kstate(argv, { env: { KOPS_STATE_STORE: state } });
        assert.equal(r.code, code, `${argv.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      assert.deepEqual(await openPath(state).listTree(), []);
      const none = await kstate(["get", "clusters"], { env: {} });
      assert.equal(none.code, 2);
      assert.match(none.stderr, /--state URL, or set KSTATE_STATE_STORE or KOPS_STATE_STORE/);
    });
  });
}
