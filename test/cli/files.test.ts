import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diffDocuments } from "../../src/ops/cluster";
import { openPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { kops } from "../support/kops";
import { byFile } from "../support/documents";
import { snapshot } from "../support/snapshot";

const NAME = "git.k8s.example.com";

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}


describe("kstate export, diff and apply", function () {
  this.timeout(120_000);

  it("round trip: export, change one field in the folder, apply --yes; get all and the real kops get all show exactly that change", async function () {
    const state = `file://${tmp("kstate-git-store-")}`;
    const env = { KOPS_STATE_STORE: state };
    assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--node-size", "m5.large", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
    await openPath(state).join(NAME, "secrets", "kube").write('{"Data":"c2VjcmV0"}');
    const before = byFile((await kstate(["get", "all", NAME, "-o", "yaml"], { env })).stdout);

    const dir = tmp("kstate-git-dir-");
    const exported = await kstate(["export", NAME, "--to", dir], { env });
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /1 secret file\(s\) left out/);
    assert.deepEqual(fs.readdirSync(dir).sort(), [".kstate", ".kstate-export.json", "config", "instancegroup"]);

    const file = path.join(dir, "instancegroup", "nodes-us-east-1a");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 1", "maxSize: 4"));
    const diff = await kstate(["diff", "-f", dir], { env });
    assert.match(diff.stdout, /instancegroup\/nodes-us-east-1a: ~ spec\.maxSize: 1 -> 4/);
    const storeBefore = await snapshot(openPath(state));
    assert.equal((await kstate(["apply", "-f", dir], { env })).code, 2, "no terminal, no --yes: refused");
    assert.deepEqual(await snapshot(openPath(state)), storeBefore, "nothing written");
    const applied = await kstate(["apply", "-f", dir, "--yes"], { env });
    assert.equal(applied.code, 0, applied.stderr);

    const after = byFile((await kstate(["get", "all", NAME, "-o", "yaml"], { env })).stdout);
    assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort());
    for (const f of Object.keys(before)) {
      const changes = diffDocuments(before[f], after[f]);
      assert.deepEqual(changes, f === "instancegroup/nodes-us-east-1a" ? [{ path: "metadata.generation", after: 1 }, { path: "spec.maxSize", before: 1, after: 4 }] : [], f);
    }
    const fromKops = byFile((await kops(["get", "all", NAME, "--state", state, "-o", "yaml"])).stdout);
    for (const f of Object.keys(after)) assert.deepEqual(fromKops[f], after[f], `kops agrees on ${f}`);
  });

  it("apply of an exported folder does not undo a change made in the store since the export (exit 3, nothing written); --force overwrites; the record moves on after an apply", async function () {
    const state = `file://${tmp("kstate-git-store-")}`;
    const env = { KOPS_STATE_STORE: state };
    assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--node-size", "m5.large", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
    const dir = tmp("kstate-git-dir-");
    assert.equal((await kstate(["export", NAME, "--to", dir], { env })).code, 0);
    const file = path.join(dir, "instancegroup", "nodes-us-east-1a");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 1", "maxSize: 4"));

    // Someone else changes the same document in the store meanwhile.
    const stored = openPath(state).join(NAME, "instancegroup", "nodes-us-east-1a");
    await stored.write((await stored.read()).data.toString().replace("machineType: m5.large", "machineType: m5.2xlarge"));
    const storeBefore = await snapshot(openPath(state));
    const refused = await kstate(["apply", "-f", dir, "--yes"], { env });
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /nothing was written:\n +file:\/\/\S+\/git\.k8s\.example\.com\/instancegroup\/nodes-us-east-1a changed in the store since this copy was made/);
    assert.deepEqual(await snapshot(openPath(state)), storeBefore, "the other writer's change stays");

    // Put back as exported, the group is no change of the folder's: only the config, which the
    // store left alone, is applied, and the other writer's change to the group stays.
    const config = path.join(dir, "config");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 4", "maxSize: 1"));
    fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace("kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.3"));
    const own = await kstate(["apply", "-f", dir, "--yes"], { env });
    assert.equal(own.code, 0, own.stderr);
    assert.doesNotMatch(own.stdout, /nodes-us-east-1a: /, "a file left as exported is not in the plan");
    assert.match(own.stdout, /Changed in the store since the export[^\n]*\n  instancegroup\/nodes-us-east-1a\n/);
    assert.match((await stored.read()).data.toString(), /machineType: m5\.2xlarge/, "the other writer's change survived");
    fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace("kubernetesVersion: v1.30.3", "kubernetesVersion: v1.30.4"));
    assert.equal((await kstate(["apply", "-f", dir, "--yes"], { env })).code, 0, "a second apply from the same folder: its record moved on");

    // Changing the group now, over the store's newer version, is a conflict until the folder pulls it.
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("  role: Node\n", "  role: Node\n  rootVolumeSize: 30\n"));
    assert.equal((await kstate(["apply", "-f", dir, "--yes"], { env })).code, 3);
    assert.equal((await kstate(["pull", NAME, dir], { env })).code, 0, "pull brings the other writer's machine type in");
    assert.match(fs.readFileSync(file, "utf8"), /machineType: m5\.2xlarge[\s\S]*rootVolumeSize: 30/);
    assert.equal((await kstate(["apply", "-f", dir, "--yes"], { env })).code, 0);
    assert.match((await stored.read()).data.toString(), /machineType: m5\.2xlarge[\s\S]*rootVolumeSize: 30/);

    // The store already holds what the folder says, under a revision the record does not know (an
    // apply whose answer was lost): the folder's own change finds nothing to write, and its record
    // catches up, so the next change applies.
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 1", "maxSize: 5"));
    await stored.write(fs.readFileSync(file));
    assert.equal((await kstate(["apply", "-f", dir, "--yes"], { env })).code, 4, "nothing to write");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 5", "maxSize: 6"));
    assert.equal((await kstate(["apply", "-f", dir, "--yes"], { env })).code, 0, "the record caught up: no conflict");
    assert.match((await stored.read()).data.toString(), /maxSize: 6/);

    await stored.write((await stored.read()).data.toString().replace("machineType: m5.2xlarge", "machineType: m5.4xlarge"));
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 6", "maxSize: 2"));
    assert.equal((await kstate(["apply", "-f", dir, "--yes"], { env })).code, 3);
    assert.equal((await kstate(["apply", "-f", dir, "--yes", "--force"], { env })).code, 0, "--force overwrites");
    assert.match((await stored.read()).data.toString(), /machineType: m5\.2xlarge\n[\s\S]*maxSize: 2/);
  });

  it("apply refuses an invalid folder, naming the file and field, and writes nothing", async function () {
    const state = `file://${tmp("kstate-git-store-")}`;
    const env = { KOPS_STATE_STORE: state };
    await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env });
    const dir = tmp("kstate-git-dir-");
    await kstate(["export", NAME, "--to", dir], { env });
    const file = path.join(dir, "instancegroup", "nodes-us-east-1a");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("maxSize: 1", "maxSize: -3"));
    const before = await snapshot(openPath(state));
    const r = await kstate(["apply", "-f", dir, "--yes"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /instancegroup\/nodes-us-east-1a: spec\.maxSize: must be a whole number, 0 or more/);
    assert.deepEqual(await snapshot(openPath(state)), before);
  });
});
