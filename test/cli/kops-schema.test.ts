/**
 * Every write path checks documents against kops's API schema (generated from kops's Go types):
 * a value kops cannot decode, a field kops would drop, or an instance group whose name is not its
 * file's is refused, naming the file and field, and the store stays byte-identical.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";
import { openWith, versionedStores } from "../support/cli-stores";
import { snapshot } from "../support/snapshot";

const NAME = "schema.k8s.example.com";
const EDITOR = `${process.execPath} ${path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "editor.js")}`;
const CREATE = ["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b", "--kubernetes-version", "v1.30.2", "--cloud", "aws"];

const stores: Record<string, () => Promise<{ url: string; env: Record<string, string> }>> = {
  "file://": async () => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-schema-"))}`, env: {} }),
  "s3 (MinIO)": versionedStores["s3 (MinIO, versioned)"]!,
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`documents kops would refuse or misread are refused on ${kind}`, function () {
    this.timeout(60_000);
    let url: string;
    let extra: Record<string, string>;
    let dir: string;
    let env: Record<string, string>;
    const withSteps = (steps: unknown[]) => ({ ...env, EDIT_STEPS: JSON.stringify(steps) });
    /** Runs `fn`, which must be refused, and shows the store did not change. */
    const unchanged = async (fn: () => Promise<void>) => {
      const root = openWith(url, extra);
      const before = await snapshot(root);
      await fn();
      assert.deepEqual(await snapshot(root), before, "the store is byte-identical");
    };

    /** The cluster exported to a folder, with `from` replaced by `to` in its group nodes-us-east-1a. */
    const exportedWith = async (from: string, to: string) => {
      const folder = path.join(dir, "export");
      assert.equal((await kstate(["export", NAME, "--to", folder], { env })).code, 0);
      const file = path.join(folder, "instancegroup", "nodes-us-east-1a");
      const text = fs.readFileSync(file, "utf8");
      assert.ok(text.includes(from), `${from} in ${file}`);
      fs.writeFileSync(file, text.replace(from, to));
      return folder;
    };

    beforeEach(async function () {
      ({ url, env: extra } = await make());
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-schema-cli-"));
      env = { ...extra, KOPS_STATE_STORE: url, KSTATE_EDITOR: EDITOR, EDIT_COUNTER: path.join(dir, "counter"), EDIT_SEEN: path.join(dir, "seen") };
      const created = await kstate(CREATE, { env });
      assert.equal(created.code, 0, created.stderr);
    });

    it("create cluster --set: a value of the wrong type and a field kops does not know", async function () {
      await unchanged(async () => {
        const typed = await kstate([...CREATE, "--set", "spec.kubelet.maxPods=abc"], { env });
        assert.equal(typed.code, 1, typed.stderr);
        assert.match(typed.stderr, /config: spec\.kubelet\.maxPods: expected a whole number \(int32\), found the string "abc"/);
        const unknown = await kstate([...CREATE, "--set", "spec.nonexistentField=1"], { env });
        assert.equal(unknown.code, 1, unknown.stderr);
        assert.match(unknown.stderr, /config: spec\.nonexistentField: unknown field/);
        const range = await kstate([...CREATE, "--set", "spec.kubelet.maxPods=3000000000"], { env });
        assert.equal(range.code, 1, range.stderr);
        assert.match(range.stderr, /spec\.kubelet\.maxPods: 3000000000 is out of range for int32/);
      });
      const fine = await kstate([...CREATE, "--set", "spec.kubelet.maxPods=120"], { env });
      assert.equal(fine.code, 0, fine.stderr);
    });

    it("edit cluster with a misspelt field is refused with the name kops knows, and nothing is saved", async function () {
      await unchanged(async () => {
        const r = await kstate(["edit", "cluster", NAME], {
          env: withSteps([{ replace: ["    anonymousAuth: false\n", "    anonymousAuth: false\n    maxPodz: 10\n"] }, {}]),
        });
        assert.equal(r.code, 1, r.stderr);
        const seen = fs.readFileSync(env.EDIT_SEEN!, "utf8").split("--- invocation 2\n")[1]!;
        assert.match(seen, /# {3}config: spec\.kubelet\.maxPodz: unknown field; did you mean maxPods\?/);
      });
    });

    it("apply -f with a misspelt field in an instance group is refused naming the file and field", async function () {
      const folder = await exportedWith("  role: Node\n", "  role: Node\n  rootVolumeSise: 30\n");
      await unchanged(async () => {
        const r = await kstate(["apply", "-f", folder, "--yes"], { env });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /instancegroup\/nodes-us-east-1a: spec\.rootVolumeSise: unknown field; did you mean rootVolumeSize\?/);
      });
    });

    it("edit ig that renames the group, or names it after another one, is refused: the file name is the group's name", async function () {
      await unchanged(async () => {
        for (const to of ["workers", "nodes-us-east-1b"]) {
          fs.rmSync(env.EDIT_COUNTER!, { force: true });
          const r = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], {
            env: withSteps([{ replace: ["name: nodes-us-east-1a", `name: ${to}`] }, {}]),
          });
          assert.equal(r.code, 1, r.stderr);
          const seen = fs.readFileSync(env.EDIT_SEEN!, "utf8").split("--- invocation 2\n").at(-1)!;
          assert.match(seen, new RegExp(`instancegroup/nodes-us-east-1a: metadata\\.name: "${to}" is not the group's name "nodes-us-east-1a" \\(its file's\\); kops finds a group by its file, so the two must match`));
          if (to === "nodes-us-east-1b") assert.match(seen, /a group named "nodes-us-east-1b" exists already/);
          else assert.match(seen, /To rename a group, write it under the new name/);
        }
      });
      const listed = await kstate(["get", "ig", "--name", NAME], { env });
      assert.equal(listed.stdout.match(/nodes-us-east-1b/g)?.length, 1, listed.stdout);
    });

    it("apply -f of a folder whose group file holds another name is refused", async function () {
      const folder = await exportedWith("name: nodes-us-east-1a", "name: renamed");
      await unchanged(async () => {
        const r = await kstate(["apply", "-f", folder, "--yes"], { env });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /instancegroup\/nodes-us-east-1a: metadata\.name: "renamed" is not the group's name "nodes-us-east-1a"/);
      });
    });

    it("apply -f of a stream holding two documents for one group is refused before anything is written", async function () {
      const all = await kstate(["get", "all", NAME, "-o", "yaml"], { env });
      assert.equal(all.code, 0, all.stderr);
      const docs = all.stdout.split(/^---\n/m);
      const group = docs.find((d) => /name: nodes-us-east-1a\n/.test(d))!;
      const file = path.join(dir, "stream.yaml");
      fs.writeFileSync(file, [...docs, group.replace("maxSize: 1", "maxSize: 7")].join("---\n"));
      await unchanged(async () => {
        const r = await kstate(["apply", "-f", file, "--yes"], { env });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /instancegroup\/nodes-us-east-1a: metadata.name: given twice: a file holds one document/);
      });
    });

    it("edit cluster that renames the cluster is refused: kops finds a cluster by its folder", async function () {
      await unchanged(async () => {
        const r = await kstate(["edit", "cluster", NAME], { env: withSteps([{ replace: [`name: ${NAME}`, "name: other.k8s.example.com"] }, {}]) });
        assert.equal(r.code, 1, r.stderr);
        const seen = fs.readFileSync(env.EDIT_SEEN!, "utf8").split("--- invocation 2\n")[1]!;
        assert.match(seen, /config: metadata\.name: "other\.k8s\.example\.com" is not the cluster's name "schema\.k8s\.example\.com"/);
      });
    });

    it("a group that names another cluster in its kops.k8s.io/cluster label, or none, is refused as kops refuses it", async function () {
      for (const [from, to, problem] of [
        [`kops.k8s.io/cluster: ${NAME}`, "kops.k8s.io/cluster: other.k8s.example.com", /metadata\.labels\["kops\.k8s\.io\/cluster"\]: "other\.k8s\.example\.com" is not this cluster/],
        [`kops.k8s.io/cluster: ${NAME}`, "kops.k8s.io/not-cluster: x", /metadata\.labels\["kops\.k8s\.io\/cluster"\]: required: the cluster's name/],
      ] as const) {
        fs.rmSync(env.EDIT_COUNTER!, { force: true });
        await unchanged(async () => {
          const r = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], { env: withSteps([{ replace: [from, to] }, {}]) });
          assert.equal(r.code, 1, r.stderr);
          assert.match(fs.readFileSync(env.EDIT_SEEN!, "utf8").split("--- invocation 2\n").at(-1)!, problem);
        });
      }
    });

    it("a string Go's YAML would read as a number is written quoted, so kops reads the string", async function () {
      const r = await kstate([...CREATE, "--set", 'spec.cloudLabels.team="0o10"'], { env });
      assert.equal(r.code, 0, r.stderr);
      const text = (await openWith(url, extra).join(NAME, "config").read()).data.toString();
      assert.match(text, /team: "0o10"/);
    });
  });
}
