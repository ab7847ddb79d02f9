/**
 * Instance groups as kops reads them, with the real kops as the oracle: kops labels each group
 * with the cluster it was read from (it stores groups without the label, and overrides a label
 * naming another cluster), so `get ig|all -o yaml` print that label too, and what they print is
 * what kops prints, byte for byte. A cluster without groups is an error for `get ig`, as for kops.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";
import { runKops } from "../support/kops-create";

const NAME = "labels.k8s.example.com";

describe("instance group labels, read by kstate and kops", function () {
  this.timeout(120_000);
  let dir: string;
  let store: string;
  const kopsEnv = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, KOPS_RUN_TOO_NEW_VERSION: "1" });
  const group = (g: string) => path.join(dir, "store", NAME, "instancegroup", g);

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-labels-"));
    store = `file://${dir}/store`;
    const created = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", store]);
    assert.equal(created.code, 0, created.stderr);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a group stored without the label (as kops stores them), or naming another cluster, prints labelled as kops prints it; the file is not changed", async function () {
    const label = `  labels:\n    kops.k8s.io/cluster: ${NAME}\n`;
    const nodes = fs.readFileSync(group("nodes-us-east-1a"), "utf8");
    assert.ok(nodes.includes(label));
    fs.writeFileSync(group("nodes-us-east-1a"), nodes.replace(label, ""));
    const plane = fs.readFileSync(group("control-plane-us-east-1a"), "utf8");
    fs.writeFileSync(group("control-plane-us-east-1a"), plane.replace(label, "  labels: {kops.k8s.io/cluster: \"elsewhere.example.com\", team: a}\n"));
    const stored = [fs.readFileSync(group("nodes-us-east-1a")), fs.readFileSync(group("control-plane-us-east-1a"))];
    for (const argv of [["get", "ig", "--name", NAME], ["get", "ig", "nodes-us-east-1a", "--name", NAME], ["get", "all", NAME]]) {
      const theirs = await runKops([...argv, "-o", "yaml", "--state", store], kopsEnv());
      assert.equal(theirs.code, 0, theirs.stderr);
      const mine = await kstate([...argv, "-o", "yaml", "--state", store]);
      assert.equal(mine.code, 0, mine.stderr);
      assert.equal(mine.stdout, theirs.stdout, argv.join(" "));
    }
    // -o json: the same values, one object where kops prints one (one group, one named cluster), else a list.
    for (const argv of [["get", "ig", "--name", NAME], ["get", "ig", "nodes-us-east-1a", "--name", NAME], ["get", "all", NAME], ["get", "clusters", NAME], ["get", "clusters"]]) {
      const theirs = await runKops([...argv, "-o", "json", "--state", store], kopsEnv());
      assert.equal(theirs.code, 0, theirs.stderr);
      const mine = await kstate([...argv, "-o", "json", "--state", store]);
      assert.equal(mine.code, 0, mine.stderr);
      assert.deepEqual(JSON.parse(mine.stdout), JSON.parse(theirs.stdout), `${argv.join(" ")} -o json`);
    }
    // One group's JSON goes back through kops replace -f.
    const one = path.join(dir, "one.json");
    fs.writeFileSync(one, (await kstate(["get", "ig", "nodes-us-east-1a", "--name", NAME, "-o", "json", "--state", store])).stdout.replace('"maxSize": 1', '"maxSize": 3'));
    const replaced = await runKops(["replace", "-f", one, "--state", store], kopsEnv());
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(fs.readFileSync(group("nodes-us-east-1a"), "utf8"), /maxSize: 3/);
    fs.writeFileSync(group("nodes-us-east-1a"), stored[0]!);
    const json = JSON.parse((await kstate(["get", "ig", "--name", NAME, "-o", "json", "--state", store])).stdout) as { metadata: { labels: Record<string, string> } }[];
    assert.deepEqual(json.map((g) => g.metadata.labels), [{ "kops.k8s.io/cluster": NAME, team: "a" }, { "kops.k8s.io/cluster": NAME }]);
    assert.deepEqual([fs.readFileSync(group("nodes-us-east-1a")), fs.readFileSync(group("control-plane-us-east-1a"))], stored, "reading changed nothing");
  });

  it("get ig on a cluster without groups fails, as kops's does", async function () {
    fs.rmSync(path.join(dir, "store", NAME, "instancegroup"), { recursive: true });
    for (const output of [[], ["-o", "yaml"]]) {
      const theirs = await runKops(["get", "ig", "--name", NAME, ...output, "--state", store], kopsEnv());
      assert.equal(theirs.code, 1);
      assert.match(theirs.stderr, /no InstanceGroup objects found/);
      const mine = await kstate(["get", "ig", "--name", NAME, ...output, "--state", store]);
      assert.equal(mine.code, 1);
      assert.equal(mine.stdout, "");
      assert.match(mine.stderr, new RegExp(`no InstanceGroup objects found in cluster ${NAME.replace(/\./g, "\\.")}`));
    }
  });
});
