/**
 * State written before the provider kept in state became providerSource's few hundred bytes, and
 * before `check` and `diff` stopped planning when nothing moved: its serialized provider still runs
 * refresh and destroy, and its outputs (with a `secretHashKey` always made) still decide diff,
 * drift and update. Driven as Pulumi's dynamic provider host drives it: check and diff through
 * the program's provider, read and delete through the one in the old outputs.
 */
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { ClusterConfigInputs, ClusterConfigOutputs } from "../../src/providers/cluster-config";
import { providerSource } from "../../src/providers/serialize";

type Provider = Required<pulumi.dynamic.ResourceProvider<ClusterConfigInputs, ClusterConfigOutputs>>;

const PROVIDERS = path.resolve(__dirname, "..", "..", "src", "providers");
const CLUSTER = "upgrade.k8s.example.com";

/** A provider as the host loads it from state: the module's `handler()`, resolving from the program's folder. */
function loadProvider(source: string): Provider {
  const Module = require("node:module") as { new (id: string): { paths: string[]; _compile(code: string, file: string): void; exports: { handler(): Provider } }; _nodeModulePaths(dir: string): string[] };
  const m = new Module("");
  m.paths = Module._nodeModulePaths(process.cwd());
  m._compile(source, "");
  return m.exports.handler();
}

describe("ClusterConfig state written before the compact provider", function () {
  this.timeout(60_000);
  const old = loadProvider(fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "state", "closure-provider", "provider.js"), "utf8").replaceAll("__PROVIDERS__", PROVIDERS));
  const current = loadProvider(providerSource("clusterConfig", PROVIDERS));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-upgrade-"));
  const news: ClusterConfigInputs = {
    store: `file://${dir}`, name: CLUSTER, manager: "pulumi:kstate-upgrade/dev/dev",
    options: { cloud: "aws", zones: ["us-east-1a", "us-east-1b"], nodeSize: "t3.large", kubernetesVersion: "v1.30.2" },
    spec: { kubelet: { maxPods: 110 } },
  };
  const configFile = path.join(dir, CLUSTER, "config");
  let id: string;
  let oldInputs: ClusterConfigInputs;
  let oldOutputs: ClusterConfigOutputs;

  before(async function () {
    // What an up of the previous release left: checked inputs (which then held the owned values
    // too), and outputs with a secret-hash key even without secrets.
    const checked = await current.check({} as ClusterConfigInputs, news);
    assert.equal(checked.failures, undefined);
    const created = await current.create(checked.inputs!);
    id = created.id;
    oldInputs = { ...checked.inputs!, ownedValues: (created.outs as ClusterConfigOutputs).ownedValues };
    oldOutputs = { ...(created.outs as ClusterConfigOutputs), secretHashKey: randomBytes(32).toString("hex") };
  });

  it("an unchanged program against the old state: no change; the owned values are kept once, in the outputs", async function () {
    const checked = await current.check(oldInputs, news);
    assert.equal(checked.inputs?.ownedValues, undefined);
    const diff = await current.diff(id, oldOutputs, checked.inputs!);
    assert.equal(diff.changes, false);
  });

  it("refresh through the old provider shows a hand edit of an owned field; up restores it", async function () {
    fs.writeFileSync(configFile, fs.readFileSync(configFile, "utf8").replace("kubernetesVersion: v1.30.2", "kubernetesVersion: v1.29.0"));
    const refreshed = await old.read(id, oldOutputs);
    const props = refreshed.props as ClusterConfigOutputs;
    assert.equal(props.ownedValues["config: spec.kubernetesVersion"], "v1.29.0");
    assert.equal(props.secretHashKey, oldOutputs.secretHashKey, "the old key is kept");
    assert.deepEqual(props.revisions, oldOutputs.revisions, "the revisions of the last write are kept while an owned field differs");
    const checked = await current.check(oldInputs, news);
    assert.equal((await current.diff(id, props, checked.inputs!)).changes, true, "the edit is drift to undo");
    const updated = await current.update(id, props, checked.inputs!);
    assert.match(fs.readFileSync(configFile, "utf8"), /kubernetesVersion: v1\.30\.2/);
    assert.equal((await current.diff(id, updated.outs!, (await current.check(checked.inputs!, news)).inputs!)).changes, false);
    oldOutputs = updated.outs!;
  });

  it("a hand edit without a refresh is found by diff too, from the documents' revisions", async function () {
    fs.writeFileSync(configFile, fs.readFileSync(configFile, "utf8").replace("kubernetesVersion: v1.30.2", "kubernetesVersion: v1.29.0"));
    const checked = await current.check(oldInputs, news);
    assert.equal((await current.diff(id, oldOutputs, checked.inputs!)).changes, true);
    oldOutputs = (await current.update(id, oldOutputs, checked.inputs!)).outs!;
  });

  it("destroy through the old provider removes what the resource wrote", async function () {
    await old.delete(id, oldOutputs);
    assert.equal(fs.existsSync(configFile), false);
  });
});
