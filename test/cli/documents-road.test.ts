/**
 * The whole-document road from the command line, on file:// and on MinIO: what apply -f reads
 * (folder, lone group, single file, stdin, secrets), documents missing from a folder, diff's exit
 * codes, create/delete ig, and edit --set/--unset. Every refusal leaves the store byte-identical.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NotFoundError, type VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { kops } from "../support/kops";
import { storesOf } from "../support/stores";
import { snapshot } from "../support/snapshot";

const NAME = "road.k8s.example.com";

const stores = storesOf("file", "s3");

async function exists(p: VfsPath): Promise<boolean> {
  try {
    await p.stat();
    return true;
  } catch (e) {
    if (NotFoundError.isInstance(e)) return false;
    throw e;
  }
}

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const replaceIn = (file: string, from: string, to: string) => {
  const text = fs.readFileSync(file, "utf8");
  assert.ok(text.includes(from), `${file} holds ${from}`);
  fs.writeFileSync(file, text.replace(from, to));
};

for (const [label, make] of Object.entries(stores)) {
  describe(`the document road from the command line (${label})`, function () {
    this.timeout(180_000);
    let state: string;
    let env: Record<string, string>;
    let extra: Record<string, string>;
    const cluster = () => openWith(state, extra).join(NAME);
    const run = (argv: string[], options: { input?: string } = {}) => kstate(argv, { env, ...options });
    /** Runs a command that must be refused, and checks that the store did not change. */
    const refused = async (argv: string[], code: number, message: RegExp, options: { input?: string } = {}) => {
      const before = await snapshot(cluster());
      const r = await run(argv, options);
      assert.equal(r.code, code, `${argv.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.deepEqual(await snapshot(cluster()), before, `${argv.join(" ")} changed the store`);
      return r;
    };

    beforeEach(async function () {
      const s = await make();
      state = s.url;
      extra = s.env;
      env = { ...extra, KOPS_STATE_STORE: state };
      const created = await run(["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b", "--kubernetes-version", "v1.30.2", "--cloud", "aws"]);
      assert.equal(created.code, 0, created.stderr);
      await cluster().join("secrets", "kube").write('{"Data":"b2xkLXZhbHVl"}');
    });

    it("a group removed from an exported folder (git rm) is reported by diff and apply, kept without --prune, deleted with it", async function () {
      const dir = tmp("kstate-road-dir-");
      assert.equal((await run(["export", NAME, "--to", dir])).code, 0);
      fs.rmSync(path.join(dir, "instancegroup", "nodes-us-east-1b"));
      const diff = await run(["diff", "-f", dir]);
      assert.equal(diff.code, 1, "the folder and the store differ");
      assert.match(diff.stdout, /kept in the store \(--prune deletes them\):\n  instancegroup\/nodes-us-east-1b/);
      const kept = await run(["apply", "-f", dir, "--yes"]);
      assert.equal(kept.code, 4, kept.stderr);
      assert.match(kept.stdout, /instancegroup\/nodes-us-east-1b/);
      assert.ok(await exists(cluster().join("instancegroup", "nodes-us-east-1b")), "kept without --prune");
      const prunePreview = await run(["diff", "-f", dir, "--prune"]);
      assert.equal(prunePreview.code, 1);
      assert.match(prunePreview.stdout, /instancegroup\/nodes-us-east-1b: delete/);
      const pruned = await run(["apply", "-f", dir, "--prune", "--yes"]);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.ok(!(await exists(cluster().join("instancegroup", "nodes-us-east-1b"))));
      assert.ok(await exists(cluster().join("secrets", "kube")), "secrets left out of the export are not pruned");
      assert.equal((await run(["diff", "-f", dir])).code, 0, "folder and store agree");
      if (label === "file://") {
        const groups = await kops(["get", "ig", "--name", NAME, "--state", state]);
        assert.doesNotMatch(groups.stdout, /nodes-us-east-1b/);
        assert.match(groups.stdout, /nodes-us-east-1a/);
      }
    });

    it("secrets in an --include-secrets export apply like any other file, shown by hash only; a bad one is refused", async function () {
      const dir = tmp("kstate-road-secrets-");
      assert.equal((await run(["export", NAME, "--to", dir, "--include-secrets"])).code, 0);
      const secret = path.join(dir, "secrets", "kube");
      fs.writeFileSync(secret, JSON.stringify({ Data: Buffer.from("new-value").toString("base64") }));
      const diff = await run(["diff", "-f", dir]);
      assert.equal(diff.code, 1);
      assert.match(diff.stdout, /secrets\/kube: ~ Data: "\(sha256 [0-9a-f]{16}\)" -> "\(sha256 [0-9a-f]{16}\)"/);
      assert.doesNotMatch(diff.stdout + diff.stderr, /new-value|bmV3LXZhbHVl|old-value/);
      assert.equal((await run(["apply", "-f", dir, "--yes"])).code, 0);
      const stored = await cluster().join("secrets", "kube").read();
      assert.equal(JSON.parse(stored.data.toString()).Data, Buffer.from("new-value").toString("base64"));
      fs.writeFileSync(secret, "not a secret");
      await refused(["apply", "-f", dir, "--yes"], 1, /secrets\/kube: not a kops secret/);
    });

    it("apply -f takes stdin, a single group's file, and a folder holding one group; -f - without --yes is refused", async function () {
      const all = (await run(["get", "all", NAME, "-o", "yaml"])).stdout;
      const changed = all.replace(/(name: nodes-us-east-1a\n(?:.*\n)*?  maxSize: )1/, "$15");
      assert.notEqual(changed, all);
      await refused(["apply", "-f", "-"], 2, /--yes/, { input: changed });
      const piped = await run(["apply", "-f", "-", "--yes"], { input: changed });
      assert.equal(piped.code, 0, piped.stderr);
      assert.match(piped.stdout, /instancegroup\/nodes-us-east-1a: ~ spec\.maxSize: 1 -> 5/);

      const group = (await run(["get", "ig", "nodes-us-east-1b", "--name", NAME, "-o", "yaml"])).stdout;
      const file = path.join(tmp("kstate-road-file-"), "group.yaml");
      fs.writeFileSync(file, group.replace("maxSize: 1", "maxSize: 3"));
      const single = await run(["apply", "-f", file, "--yes"]);
      assert.equal(single.code, 0, single.stderr);
      assert.match(single.stdout, /instancegroup\/nodes-us-east-1b: ~ spec\.maxSize: 1 -> 3/);

      const lone = tmp("kstate-road-lone-");
      fs.mkdirSync(path.join(lone, "instancegroup"));
      fs.writeFileSync(path.join(lone, "instancegroup", "nodes-us-east-1b"), group.replace("maxSize: 1", "maxSize: 4"));
      const folder = await run(["apply", "-f", lone, "--yes"]);
      assert.equal(folder.code, 0, folder.stderr);
      assert.match(folder.stdout, /instancegroup\/nodes-us-east-1b: ~ spec\.maxSize: 3 -> 4/);
      assert.doesNotMatch(folder.stdout, /kept in the store/, "a folder without a config says nothing about the other groups");
      await refused(["apply", "-f", lone, "--yes", "--name", "other.k8s.example.com"], 1, /of cluster "road\.k8s\.example\.com", not "other\.k8s\.example\.com"/);
    });

    if (label === "file://") {
      it("export into the store itself (its root or the cluster's folder) is refused, nothing written", async function () {
        const root = new URL(state).pathname;
        const before = await snapshot(openWith(state, extra));
        for (const to of [root, path.join(root, NAME), path.join(root, "sub", "dir")]) {
          const r = await run(["export", NAME, "--to", to]);
          assert.equal(r.code, 2, `${to}: ${r.stderr}`);
          assert.match(r.stderr, /inside the state store/);
        }
        assert.deepEqual(await snapshot(openWith(state, extra)), before);
        assert.ok(!fs.existsSync(path.join(root, "sub")));
      });
    }

    it("what the first trial found: kops's kube-proxy rule, strict base64, a lone exported file, another store, untouched files, markers, a removed config", async function () {
      await refused(["edit", "cluster", NAME, "--unset", "spec.kubeProxy"], 1, /spec\.kubeProxy\.enabled: When Cilium NodePort is enabled, kubeProxy must be disabled/);

      const dir = tmp("kstate-road-trial-");
      assert.equal((await run(["export", NAME, "--to", dir, "--include-secrets"])).code, 0);
      fs.writeFileSync(path.join(dir, "secrets", "kube"), '{"Data":"not!!base64"}');
      await refused(["apply", "-f", dir, "--yes"], 1, /secrets\/kube: Data is not base64/);
      fs.writeFileSync(path.join(dir, "secrets", "kube"), '{"Data":"b2xkLXZhbHVl"}');

      // A teammate changes one group; we change the other, and apply the one file, then the folder.
      assert.equal((await run(["edit", "ig", "nodes-us-east-1a", "--name", NAME, "--set", "spec.maxSize=8"])).code, 0);
      const theirs = path.join(dir, "instancegroup", "nodes-us-east-1a");
      const ours = path.join(dir, "instancegroup", "nodes-us-east-1b");
      replaceIn(theirs, "  minSize: 1", "  minSize: 1\n  rootVolumeSize: 40");
      await refused(["apply", "-f", theirs, "--yes"], 3, /nodes-us-east-1a changed in the store since this copy was made/);
      replaceIn(theirs, "  minSize: 1\n  rootVolumeSize: 40", "  minSize: 1");
      replaceIn(ours, "maxSize: 1", "maxSize: 2");
      const onlyOurs = await run(["diff", "-f", dir]);
      assert.equal(onlyOurs.code, 1, onlyOurs.stderr);
      assert.deepEqual(onlyOurs.stdout.split("\n").filter((l) => /^  \S+: [~+-] /.test(l)), ["  instancegroup/nodes-us-east-1b: + metadata.generation: 1", "  instancegroup/nodes-us-east-1b: ~ spec.maxSize: 1 -> 2"], "a file left as exported is not part of the plan");
      assert.match(onlyOurs.stdout, /Changed in the store since the export[^\n]*\n  instancegroup\/nodes-us-east-1a\n/, "but the store's newer version of it is reported");
      assert.equal((await run(["apply", "-f", dir, "--yes"])).code, 0);
      assert.match((await cluster().join("instancegroup", "nodes-us-east-1a").read()).data.toString(), /maxSize: 8/, "the teammate's change stays");

      const elsewhere = `file://${tmp("kstate-road-elsewhere-")}`;
      const other = await kstate(["apply", "-f", dir, "--yes", "--state", elsewhere], { env });
      assert.equal(other.code, 1);
      assert.match(other.stderr, /was exported from \S+, not from file:\/\/\S+: apply it there/);
      assert.deepEqual(fs.readdirSync(new URL(elsewhere).pathname), [], "nothing written there");

      replaceIn(ours, "  maxSize: 2\n", "<<<<<<< local\n  maxSize: 3\n=======\n  maxSize: 4\n>>>>>>> store\n");
      await refused(["apply", "-f", dir, "--yes"], 1, /nodes-us-east-1b: line \d+ is a merge conflict marker/);
      replaceIn(ours, "<<<<<<< local\n  maxSize: 3\n=======\n  maxSize: 4\n>>>>>>> store\n", "  maxSize: 2\n");

      fs.rmSync(path.join(dir, "config"));
      const noConfig = await run(["diff", "-f", dir]);
      assert.equal(noConfig.code, 1);
      assert.match(noConfig.stdout, /Not in \S+: config\. The cluster's config is kept/);
    });

    it("what the second trial found: prune spares groups made since the export, a store newer than an untouched file is reported, exact creation times, --unset typos, lone files, secrets' extra keys", async function () {
      const dir = tmp("kstate-road-trial2-");
      assert.equal((await run(["export", NAME, "--to", dir])).code, 0);
      // A teammate adds a group and changes another after the export.
      assert.equal((await run(["create", "ig", "gpu", "--name", NAME, "--subnet", "us-east-1a"])).code, 0);
      assert.equal((await run(["edit", "ig", "nodes-us-east-1b", "--name", NAME, "--set", "spec.maxSize=7"])).code, 0);
      const diff = await run(["diff", "-f", dir, "--prune"]);
      assert.equal(diff.code, 1, "the store differs from the folder");
      assert.doesNotMatch(diff.stdout, /gpu: delete/, "a group made since the export is the store's news, not a removal");
      assert.match(diff.stdout, /\n  instancegroup\/gpu \(made there; not in the folder\)\n/, "and it is reported");
      assert.match(diff.stdout, /Changed in the store since the export, and left as exported in \S+; the store's version stays[^\n]*\n  instancegroup\/nodes-us-east-1b\n/);
      assert.equal((await run(["apply", "-f", dir, "--prune", "--yes"])).code, 4);
      assert.ok(await exists(cluster().join("instancegroup", "gpu")), "not pruned");
      // The folder's version of that one file wins only when named with --force.
      const file = path.join(dir, "instancegroup", "nodes-us-east-1b");
      await refused(["apply", "-f", file, "--yes"], 3, /nodes-us-east-1b changed in the store since this copy was made/);
      const forced = await run(["apply", "-f", file, "--yes", "--force"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /~ spec\.maxSize: 7 -> 1/);

      // A new group from a file keeps the creation time it gives, and the preview shows that one.
      const group = (await run(["get", "ig", "gpu", "--name", NAME, "-o", "yaml"])).stdout.replace(/name: gpu\n/, "name: gpu2\n").replace(/creationTimestamp: .*\n/, 'creationTimestamp: "2001-01-01T00:00:00Z"\n');
      const gpu2 = path.join(tmp("kstate-road-gpu2-"), "gpu2.yaml");
      fs.writeFileSync(gpu2, group.replace("kops.k8s.io/instancegroup: gpu", "kops.k8s.io/instancegroup: gpu2"));
      const made = await run(["apply", "-f", gpu2, "--yes"]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /instancegroup\/gpu2: \+ metadata\.creationTimestamp: "2001-01-01T00:00:00Z"/);
      assert.doesNotMatch(made.stdout, /Not in/, "a lone document says nothing about the other groups");

      await refused(["edit", "ig", "gpu2", "--name", NAME, "--unset", "spec.rootVolumeSise"], 2, /--unset spec\.rootVolumeSise: no such field/);

      const secrets = tmp("kstate-road-secret-extra-");
      assert.equal((await run(["export", NAME, "--to", secrets, "--include-secrets"])).code, 0);
      fs.writeFileSync(path.join(secrets, "secrets", "kube"), '{"Data":"eA==","Extra":1}');
      await refused(["apply", "-f", secrets, "--yes"], 1, /secrets\/kube: "Extra" is not a field of a kops secret/);
    });

    it("a create cluster that changes nothing exits 4 and writes nothing", async function () {
      await refused(["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], 4, /^$/);
    });

    it("diff exits as diff(1): 0 equal, 1 different, 2 on bad input, 3 when the store moved on since the export", async function () {
      const dir = tmp("kstate-road-diff-");
      assert.equal((await run(["export", NAME, "--to", dir])).code, 0);
      assert.equal((await run(["diff", "-f", dir])).code, 0);
      replaceIn(path.join(dir, "config"), "kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.3");
      const different = await run(["diff", "-f", dir]);
      assert.equal(different.code, 1);
      assert.match(different.stdout, /config: ~ spec\.kubernetesVersion: "v1\.30\.2" -> "v1\.30\.3"/);
      replaceIn(path.join(dir, "config"), "kubernetesVersion: v1.30.3", "kubernetesVersion: [v1");
      assert.equal((await run(["diff", "-f", dir])).code, 2);
      assert.equal((await run(["diff", "-f", path.join(dir, "nothing-here")])).code, 2);
      replaceIn(path.join(dir, "config"), "kubernetesVersion: [v1", "kubernetesVersion: v1.30.4");
      assert.equal((await run(["edit", "cluster", NAME, "--set", "spec.kubernetesVersion=v1.30.5"])).code, 0);
      const stale = await run(["diff", "-f", dir]);
      assert.equal(stale.code, 3, stale.stderr);
      assert.match(stale.stderr, /config changed in the store since this copy was made/);
    });

    it("create ig and delete ig: filled in as kops does, refused when it exists or an etcd member runs there, confirmed", async function () {
      const dry = await run(["create", "ig", "extra", "--name", NAME, "--subnet", "us-east-1a", "--max", "3", "--dry-run", "-o", "yaml"]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^apiVersion: kops\.k8s\.io\/v1alpha2\nkind: InstanceGroup\n/);
      assert.match(dry.stdout, /maxSize: 3\n  minSize: 2\n/);
      assert.ok(!(await exists(cluster().join("instancegroup", "extra"))), "a dry run writes nothing");
      const made = await run(["create", "ig", "extra", "--name", NAME, "--role", "node", "--machine-type", "m5.large"]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /instancegroup\/extra: create/);
      const doc = (await cluster().join("instancegroup", "extra").read()).data.toString();
      assert.match(doc, /role: Node/);
      assert.match(doc, /subnets:\n  - us-east-1a\n  - us-east-1b/, "every subnet of the cluster, as kops fills it in");
      assert.match(doc, /kops\.k8s\.io\/cluster: road\.k8s\.example\.com/);
      await refused(["create", "ig", "extra", "--name", NAME], 1, /exists already/);
      await refused(["create", "ig", "cp2", "--name", NAME, "--role", "ControlPlane"], 1, /names its subnets/);
      await refused(["create", "ig", "bad", "--name", NAME, "--subnet", "us-west-2a"], 1, /subnet "us-west-2a" is not one of the cluster's subnets/);
      if (label === "file://") {
        const groups = await kops(["get", "ig", "--name", NAME, "--state", state]);
        assert.match(groups.stdout, /^extra\s+Node\s+m5\.large\s+2\s+2\s+us-east-1a,us-east-1b$/m);
      }
      await refused(["delete", "ig", "extra", "--name", NAME], 2, /--yes/);
      await refused(["delete", "ig", "control-plane-us-east-1a", "--name", NAME, "--yes"], 1, /etcd member a of etcd cluster main runs in this group/);
      const deleted = await run(["delete", "ig", "extra", "--name", NAME, "--yes"]);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /instances keep running/);
      assert.ok(!(await exists(cluster().join("instancegroup", "extra"))));
    });

    it("edit --set and --unset change exactly the named fields without an editor; bad values are refused; nothing to do exits 4", async function () {
      const set = await run(["edit", "cluster", NAME, "--set", "spec.kubelet.maxPods=120"]);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /config: \+ spec\.kubelet\.maxPods: 120/);
      assert.equal((await run(["edit", "cluster", NAME, "--set", "spec.kubelet.maxPods=120"])).code, 4);
      await refused(["edit", "cluster", NAME, "--set", "spec.kubelet.maxPods=abc"], 1, /spec\.kubelet\.maxPods/);
      const unset = await run(["edit", "cluster", "--name", NAME, "--unset", "spec.kubelet.maxPods"]);
      assert.equal(unset.code, 0, unset.stderr);
      assert.match(unset.stdout, /config: - spec\.kubelet\.maxPods: 120/);
      const ig = await run(["edit", "ig", "nodes-us-east-1a", "--name", NAME, "--set", "spec.maxSize=6", "--set", "spec.minSize=2"]);
      assert.equal(ig.code, 0, ig.stderr);
      const doc = (await cluster().join("instancegroup", "nodes-us-east-1a").read()).data.toString();
      assert.match(doc, /maxSize: 6/);
      assert.match(doc, /minSize: 2/);
      assert.match(doc, /generation: 1/, "a spec change counts a generation, from 0 as kops counts");
      await refused(["edit", "ig", "nodes-us-east-1a", "--name", NAME, "--set", "metadata.name=x"], 2, /paths start with spec\./);
    });
  });
}
