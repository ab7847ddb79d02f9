import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";

const NAME = "edit.k8s.example.com";
const EDITOR = `${process.execPath} ${path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "editor.js")}`;

describe("kstate edit with a scripted editor", function () {
  let dir: string;
  let env: Record<string, string>;
  let igFile: string;
  let configFile: string;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-edit-test-"));
    const state = `file://${dir}/store`;
    env = { KOPS_STATE_STORE: state, KSTATE_EDITOR: EDITOR, EDIT_COUNTER: path.join(dir, "counter"), EDIT_SEEN: path.join(dir, "seen") };
    assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
    igFile = path.join(dir, "store", NAME, "instancegroup", "nodes-us-east-1a");
    configFile = path.join(dir, "store", NAME, "config");
    fs.writeFileSync(igFile, fs.readFileSync(igFile, "utf8").replace("  maxSize: 1\n", "  # sized for the batch jobs\n  maxSize: 1\n"));
  });

  const withSteps = (steps: unknown[]) => ({ ...env, EDIT_STEPS: JSON.stringify(steps) });

  it("a normal edit is saved, comments and key order kept, generation bumped", async function () {
    const r = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], { env: withSteps([{ replace: ["maxSize: 1", "maxSize: 3"] }]) });
    assert.equal(r.code, 0, r.stderr);
    const text = fs.readFileSync(igFile, "utf8");
    assert.match(text, /# sized for the batch jobs\n {2}maxSize: 3\n {2}minSize: 1/);
    assert.match(text, /generation: 1/);
    assert.match(fs.readFileSync(env.EDIT_SEEN!, "utf8"), /# Please edit the object below/);
  });

  it("an unchanged file cancels the edit", async function () {
    const before = fs.readFileSync(configFile, "utf8");
    const r = await kstate(["edit", "cluster", NAME], { env: withSteps([{}]) });
    assert.equal(r.code, 4, "nothing to do");
    assert.equal(r.stdout, "Edit cancelled: no changes made.\n", "as kops says it");
    assert.equal(fs.readFileSync(configFile, "utf8"), before);
  });

  it("a file saved empty (nothing, blank lines, comments only) cancels the edit, as kops's does, and keeps no copy", async function () {
    const before = { config: fs.readFileSync(configFile, "utf8"), ig: fs.readFileSync(igFile, "utf8") };
    for (const [i, write] of ["", "\n  \n", "# only a comment\n\n  # and another\n"].entries()) {
      const argv = i === 1 ? ["edit", "ig", "--name", NAME, "nodes-us-east-1a"] : ["edit", "cluster", NAME];
      fs.writeFileSync(env.EDIT_COUNTER!, "0");
      const r = await kstate(argv, { env: withSteps([{ write }]) });
      assert.equal(r.code, 4, `${JSON.stringify(write)}: ${r.stderr}`);
      assert.equal(r.stdout, "Edit cancelled: saved file was empty.\n");
      assert.doesNotMatch(r.stderr, /kept|error/);
    }
    assert.deepEqual({ config: fs.readFileSync(configFile, "utf8"), ig: fs.readFileSync(igFile, "utf8") }, before);
  });

  it("an editor that saves with a byte-order mark saves the document, not the instruction header; one that saves bytes that are not UTF-8 writes nothing and keeps them", async function () {
    const bom = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], { env: withSteps([{ replace: ["maxSize: 1", "maxSize: 4"], bom: true }]) });
    assert.equal(bom.code, 0, bom.stderr);
    const text = fs.readFileSync(igFile, "utf8");
    assert.ok(text.startsWith("apiVersion: kops.k8s.io/v1alpha2\n"), text.slice(0, 200));
    assert.match(text, /maxSize: 4/);
    const before = fs.readFileSync(configFile);
    fs.writeFileSync(env.EDIT_COUNTER!, "0");
    const latin1 = await kstate(["edit", "cluster", NAME], { env: withSteps([{ replace: ["kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.2 # caf\u00e9"], latin1: true }]) });
    assert.equal(latin1.code, 1);
    assert.match(latin1.stderr, /\.yaml: not UTF-8 text \(line \d+\)/);
    const kept = /stored to (\S+)/.exec(latin1.stderr)?.[1];
    assert.ok(kept && fs.readFileSync(kept).includes(Buffer.from([0xe9])), latin1.stderr);
    assert.deepEqual(fs.readFileSync(configFile), before);
  });

  it("a cluster that cannot be read once the editor closes (its config damaged meanwhile) stops the edit and keeps the user's text", async function () {
    const before = fs.readFileSync(igFile, "utf8");
    const r = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], { env: withSteps([{ replace: ["maxSize: 1", "maxSize: 5"], alsoWrite: [configFile, "kind: Cluster", "kind: Clustr"] }]) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /config: expected a Cluster document, found kind "Clustr"/);
    const kept = /stored to (\S+)/.exec(r.stderr)?.[1];
    assert.ok(kept && /maxSize: 5/.test(fs.readFileSync(kept, "utf8")), r.stderr);
    assert.equal(fs.readFileSync(igFile, "utf8"), before);
  });

  it("a YAML error keeps the user's text in a file it names, and writes nothing", async function () {
    const before = fs.readFileSync(configFile, "utf8");
    const r = await kstate(["edit", "cluster", NAME], { env: withSteps([{ write: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec: [unclosed\n" }]) });
    assert.equal(r.code, 1);
    const kept = /stored to (\S+)/.exec(r.stderr)?.[1];
    assert.ok(kept, r.stderr);
    assert.match(fs.readFileSync(kept, "utf8"), /spec: \[unclosed/);
    assert.equal(fs.readFileSync(configFile, "utf8"), before);
  });

  it("a validation error reopens the editor with the problems on top, then saves the fixed text", async function () {
    const r = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], {
      env: withSteps([{ replace: ["maxSize: 1", "maxSize: -1"] }, { replace: ["maxSize: -1", "maxSize: 2"] }]),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^  instancegroup\/nodes-us-east-1a: ~ spec\.maxSize: 1 -> 2\n(.*\n)?Saved /m, "the saved change, field by field");
    const seen = fs.readFileSync(env.EDIT_SEEN!, "utf8").split("--- invocation 2\n")[1]!;
    assert.match(seen, /# validation failed:\n# {3}instancegroup\/nodes-us-east-1a: spec\.maxSize: must be a whole number, 0 or more \(got -1\)/);
    assert.match(fs.readFileSync(igFile, "utf8"), /maxSize: 2/);
    assert.doesNotMatch(fs.readFileSync(igFile, "utf8"), /validation failed/);
  });

  it("a typo already stored (kubelet.maxpods, which kops drops) blocks no later change: edit, create cluster, edit ig; a new one is refused", async function () {
    fs.writeFileSync(configFile, fs.readFileSync(configFile, "utf8").replace("  kubelet:\n    anonymousAuth: false\n", "  kubelet:\n    anonymousAuth: false\n    maxpods: 5\n"));
    fs.writeFileSync(igFile, fs.readFileSync(igFile, "utf8").replace("  maxSize: 1\n", "  maxSize: 1\n  rootVolumeSise: 50\n"));
    // One editor script for the three edits below (it counts its invocations).
    const steps = withSteps([{ replace: ["kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.3"] }, { replace: ["maxSize: 2", "maxSize: 4"] }, { replace: ["maxpods: 5", "maxpods: 6"] }, {}]);
    const edited = await kstate(["edit", "cluster", NAME], { env: steps });
    assert.equal(edited.code, 0, edited.stderr);
    const merged = await kstate(["create", "cluster", NAME, "--kubernetes-version", "v1.30.4", "--node-count", "2"], { env });
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(fs.readFileSync(configFile, "utf8"), /maxpods: 5\n[\s\S]*kubernetesVersion: v1\.30\.4/);
    const group = await kstate(["edit", "ig", "--name", NAME, "nodes-us-east-1a"], { env: steps });
    assert.equal(group.code, 0, group.stderr);
    assert.match(fs.readFileSync(igFile, "utf8"), /maxSize: 4\n {2}rootVolumeSise: 50/);
    // A typo added now is refused, with kops's name for the field.
    const added = await kstate(["create", "cluster", NAME, "--set", "spec.kubelet.maxPodz=10"], { env });
    assert.equal(added.code, 1, added.stderr);
    assert.match(added.stderr, /config: spec\.kubelet\.maxPodz: unknown field/);
    const typed = await kstate(["edit", "cluster", NAME], { env: steps });
    assert.equal(typed.code, 1);
    assert.match(fs.readFileSync(env.EDIT_SEEN!, "utf8"), /# {3}config: spec\.kubelet\.maxpods: unknown field/);
  });

  it("a concurrent write between open and save is reported, and the other writer's change stays", async function () {
    const r = await kstate(["edit", "cluster", NAME], {
      env: withSteps([{ replace: ["kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.9"], alsoWrite: [configFile, "channel: stable", "channel: alpha"] }]),
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /changed by someone else while you edited it; nothing was overwritten/);
    const text = fs.readFileSync(configFile, "utf8");
    assert.match(text, /channel: alpha/);
    assert.match(text, /kubernetesVersion: v1\.30\.2/);
  });
});
