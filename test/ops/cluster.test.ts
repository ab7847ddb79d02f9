import * as assert from "node:assert/strict";
import { applyCluster, planCluster } from "../../src/ops/cluster";
import { ClusterStore } from "../../src/store/cluster-store";
import { parseYaml, setIn, stringifyYaml } from "../../src/store/yaml";
import { ConflictError, openPath, resetMemoryStore, ValidationError, type VfsPath, type WriteOptions } from "../../src/vfs";
import { uniqueName } from "../support/env";
import { requestsOf } from "../support/request-rounds";

const NAME = "race.k8s.example.com";
const OPTIONS = { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" };

/** A real memfs store whose config, on its next write, is first changed by "someone else". */
function storeWithIntruder(name: string, intrude: (doc: ReturnType<typeof parseYaml>) => void): { store: ClusterStore; root: VfsPath; armed: { on: boolean } } {
  const root = openPath(`memfs://${name}`);
  const armed = { on: false };
  const wrap = (p: VfsPath): VfsPath => new Proxy(p, {
    get(target, prop, receiver) {
      if (prop === "join") return (...names: string[]) => wrap(target.join(...names));
      if (prop === "write" && target.base === "config") {
        return async (data: Buffer | string, options?: WriteOptions) => {
          if (armed.on) {
            armed.on = false;
            const current = await target.read();
            const doc = parseYaml(current.data.toString(), target.url);
            intrude(doc);
            await target.write(stringifyYaml(doc), { ifRevision: current.revision });
          }
          return target.write(data, options);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { store: new ClusterStore(wrap(root)), root, armed };
}

describe("applying cluster changes when another writer gets in between", function () {
  const manager = "pulumi:test/race/dev";
  let name: string;
  beforeEach(async function () {
    name = uniqueName("race");
    resetMemoryStore(name);
    const store = new ClusterStore(openPath(`memfs://${name}`));
    await applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec: { kubelet: { maxPods: 100 } } });
  });

  it("a change to a field the program does not own is kept, and the program's change is applied on top", async function () {
    const { store, root, armed } = storeWithIntruder(name, (doc) => setIn(doc, ["spec", "kubelet", "cpuCFSQuota"], false));
    armed.on = true;
    const result = await applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec: { kubelet: { maxPods: 120 } } });
    assert.equal(result.attempts, 2);
    const spec = (parseYaml((await root.join(NAME, "config").read()).data.toString(), "c").toJS() as { spec: { kubelet: Record<string, unknown> } }).spec;
    assert.deepEqual(spec.kubelet, { anonymousAuth: false, cpuCFSQuota: false, maxPods: 120 });
  });

  it("a change to a field the program owns is a ConflictError, and the other writer's value stays", async function () {
    const { store, root, armed } = storeWithIntruder(name, (doc) => setIn(doc, ["spec", "kubelet", "maxPods"], 250));
    armed.on = true;
    await assert.rejects(
      applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec: { kubelet: { maxPods: 120 } } }),
      (e: unknown) => ConflictError.isInstance(e) && /config: spec\.kubelet\.maxPods/.test(e.message) && /onConflict: "overwrite"/.test(e.message),
    );
    const spec = (parseYaml((await root.join(NAME, "config").read()).data.toString(), "c").toJS() as { spec: { kubelet: Record<string, unknown> } }).spec;
    assert.equal(spec.kubelet.maxPods, 250);
  });

  it("with onConflict: overwrite the program's value wins", async function () {
    const { store, root, armed } = storeWithIntruder(name, (doc) => setIn(doc, ["spec", "kubelet", "maxPods"], 250));
    armed.on = true;
    await applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec: { kubelet: { maxPods: 120 } } }, { onConflict: "overwrite" });
    const spec = (parseYaml((await root.join(NAME, "config").read()).data.toString(), "c").toJS() as { spec: { kubelet: Record<string, unknown> } }).spec;
    assert.equal(spec.kubelet.maxPods, 120);
  });

  it("a plan made beforehand is written as it is, reading nothing again", async function () {
    const store = new ClusterStore(openPath(`memfs://${name}`));
    const req = { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec: { kubelet: { maxPods: 120 } } };
    const plan = await planCluster(store, req);
    let result: Awaited<ReturnType<typeof applyCluster>> | undefined;
    const log = await requestsOf(name, async () => {
      result = await applyCluster(store, req, { plan });
    });
    assert.equal(result!.attempts, 1);
    assert.equal(result!.plan, plan);
    assert.deepEqual(log.map((r) => `${r.op} ${r.key}`), [`put ${NAME}/config`]);
  });

  it("a plan made beforehand that another writer overtook is made again on what they wrote", async function () {
    const { store, root, armed } = storeWithIntruder(name, (doc) => setIn(doc, ["spec", "kubelet", "cpuCFSQuota"], false));
    const req = { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec: { kubelet: { maxPods: 120 } } };
    const plan = await planCluster(store, req);
    armed.on = true;
    const result = await applyCluster(store, req, { plan });
    assert.equal(result.attempts, 2);
    const spec = (parseYaml((await root.join(NAME, "config").read()).data.toString(), "c").toJS() as { spec: { kubelet: Record<string, unknown> } }).spec;
    assert.deepEqual(spec.kubelet, { anonymousAuth: false, cpuCFSQuota: false, maxPods: 120 });
  });

  it("an invalid result is a ValidationError naming the field, and nothing is written", async function () {
    const root = openPath(`memfs://${name}`);
    const before = (await root.join(NAME, "config").read()).revision;
    await assert.rejects(
      applyCluster(new ClusterStore(root), { name: NAME, storeUrl: `memfs://${name}`, manager, options: { ...OPTIONS, kubernetesVersion: "1.30.x" } }),
      (e: unknown) => ValidationError.isInstance(e) && /config: spec\.kubernetesVersion: "1\.30\.x" is not a Kubernetes version/.test(e.message) && /nothing was written/.test(e.message),
    );
    assert.equal((await root.join(NAME, "config").read()).revision, before);
  });
});

describe("a ClusterConfig's secrets where the cluster keeps them", function () {
  const manager = "pulumi:test/secrets/dev";
  const secrets = (desired: Record<string, string>, previous?: string[]) => ({ desired, ...(previous ? { previous } : {}) });
  /** Every file of the store and its bytes. */
  const files = async (root: VfsPath): Promise<Map<string, string>> =>
    new Map(await Promise.all((await root.listTree()).map(async (f) => [f.path, (await root.join(...f.path.split("/")).read()).data.toString("base64")] as const)));

  for (const [label, spec] of [
    ["spec.secretStore names another place", { secretStore: "s3://elsewhere/c/secrets" }],
    ["spec.configBase is in another store", { configBase: "s3://elsewhere/c" }],
  ] as const) {
    it(`a secret is refused, naming the file and where kops reads it, when ${label}; the store is left byte for byte`, async function () {
      const name = uniqueName("elsewhere");
      resetMemoryStore(name);
      const root = openPath(`memfs://${name}`);
      const store = new ClusterStore(root);
      await applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec, secrets: secrets({ kept: "one" }) }).then(
        () => assert.fail("the first write, which sets the place, is refused too"),
        (e: unknown) => assert.ok(ValidationError.isInstance(e) && /secrets\/kept: cluster race\.k8s\.example\.com keeps its secrets in s3:\/\/elsewhere.*; kops reads its secrets from there/.test(e.message), String(e)),
      );
      assert.deepEqual(await files(root), new Map());
      await applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec });
      const before = await files(root);
      await assert.rejects(applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec, secrets: secrets({ token: "t" }) }), /secrets\/token: cluster race\.k8s\.example\.com keeps its secrets in s3:\/\/elsewhere/);
      assert.deepEqual(await files(root), before);
    });
  }

  it("a plan made on a stand-in (the bucket not made yet) keeps the secrets and the SSH key where the request's store will: no refusal", async function () {
    const name = uniqueName("standin");
    resetMemoryStore(name);
    const store = new ClusterStore(openPath(`memfs://${name}`));
    const ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@example";
    const plan = await planCluster(store, { name: NAME, storeUrl: "s3://not-made-yet", manager, options: OPTIONS, secrets: secrets({ "system:dns": "v" }), keys: { sshPublicKey: ssh } });
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.secrets.map((c) => `${c.action} ${c.name}`), ["create system:dns"]);
    const elsewhere = await planCluster(store, { name: NAME, storeUrl: "s3://not-made-yet", manager, options: OPTIONS, spec: { secretStore: "s3://other/secrets" }, secrets: secrets({ "system:dns": "v" }) });
    assert.match(elsewhere.problems.map((p) => `${p.file}: ${p.message}`).join("\n"), /secrets\/system:dns: cluster race\.k8s\.example\.com keeps its secrets in s3:\/\/other\/secrets, not in s3:\/\/not-made-yet/);
  });

  it("removing a secret kept here stays allowed after the cluster moves its secrets (nothing is written for kops to miss)", async function () {
    const name = uniqueName("elsewhere");
    resetMemoryStore(name);
    const root = openPath(`memfs://${name}`);
    const store = new ClusterStore(root);
    await applyCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, secrets: secrets({ old: "v" }) });
    const plan = await planCluster(store, { name: NAME, storeUrl: `memfs://${name}`, manager, options: OPTIONS, spec: { secretStore: "s3://elsewhere/c/secrets" }, secrets: secrets({}, ["old"]) });
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.secrets.map((c) => `${c.action} ${c.name}`), ["delete old"]);
  });
});
