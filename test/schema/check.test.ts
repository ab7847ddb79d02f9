import * as assert from "node:assert/strict";
import { checkDocument, checkPart, closest, kopsSchema } from "../../src/schema/check";

const group = (spec: Record<string, unknown>, name = "nodes") => ({
  apiVersion: "kops.k8s.io/v1alpha2",
  kind: "InstanceGroup",
  metadata: { name, labels: { "kops.k8s.io/cluster": "a.example.com" } },
  spec: { role: "Node", machineType: "m5.large", minSize: 1, maxSize: 1, subnets: ["us-east-1a"], ...spec },
});
const messages = (problems: { path: string; message: string }[]) => problems.map((p) => `${p.path}: ${p.message}`);

describe("kops API schema check", function () {
  it("the schema is kops v1.36.2's and describes the kinds kept in a state store", function () {
    const schema = kopsSchema();
    assert.equal(schema["x-kops-version"], "v1.36.2");
    for (const kind of ["Cluster", "InstanceGroup", "Keyset", "SSHCredential", "Secret"]) assert.ok(schema["x-kinds"][kind], kind);
  });

  it("a valid group has no problems; null is allowed anywhere, as Go's decoding takes it", function () {
    assert.deepEqual(checkDocument("InstanceGroup", group({ rootVolumeSize: 50, image: null })), []);
  });

  it("an unknown field is named, with the field kops knows when one is close", function () {
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ rootVolumeSise: 30 }))), ["spec.rootVolumeSise: unknown field; did you mean rootVolumeSize?"]);
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ MachineType: "m5.large" }))).slice(0, 1), ["spec.MachineType: unknown field; did you mean machineType?"]);
    assert.match(messages(checkDocument("InstanceGroup", group({ zzzzzz: 1 })))[0]!, /^spec\.zzzzzz: unknown field \(kops would drop it/);
  });

  it("types as kops decodes them: integers in their Go range, strings, booleans, lists, maps", function () {
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ rootVolumeSize: "abc" }))), ['spec.rootVolumeSize: expected a whole number (int32), found the string "abc"']);
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ rootVolumeSize: 2 ** 31 }))), ["spec.rootVolumeSize: 2147483648 is out of range for int32 (-2147483648 to 2147483647)"]);
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ rootVolumeSize: 1.5 }))), ["spec.rootVolumeSize: expected a whole number (int32), found the number 1.5"]);
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ machineType: 5 }))), ["spec.machineType: expected a string, found the number 5 (put the value in quotes as you wrote it)"]);
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ subnets: "us-east-1a" }))), ['spec.subnets: expected a list, found the string "us-east-1a"']);
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ nodeLabels: ["a"] }))), ["spec.nodeLabels: expected a map, found a list"]);
    assert.deepEqual(messages(checkDocument("InstanceGroup", group({ nodeLabels: { a: 1 } }))), ["spec.nodeLabels.a: expected a string, found the number 1 (put the value in quotes as you wrote it)"]);
  });

  it("Kubernetes quantities and durations by their own grammars", function () {
    const cluster = (etcd: Record<string, unknown>) => ({ spec: { etcdClusters: [{ name: "main", etcdMembers: [{ name: "a", instanceGroup: "cp" }], ...etcd }] } });
    assert.deepEqual(checkPart("Cluster", [], cluster({ cpuRequest: "200m", memoryRequest: "100Mi" })), []);
    assert.deepEqual(checkPart("Cluster", [], cluster({ cpuRequest: 2 })), []);
    assert.deepEqual(messages(checkPart("Cluster", [], cluster({ memoryRequest: "100MB" }))), ['spec.etcdClusters[name=main].memoryRequest: expected a quantity such as 100Mi, 2 or 500m, found the string "100MB"']);
    assert.deepEqual(checkPart("Cluster", ["spec"], { kubeControllerManager: { horizontalPodAutoscalerSyncPeriod: "1m30s" } }), []);
    assert.deepEqual(messages(checkPart("Cluster", ["spec"], { kubeControllerManager: { horizontalPodAutoscalerSyncPeriod: "90" } })), ['spec.kubeControllerManager.horizontalPodAutoscalerSyncPeriod: expected a duration such as 30s or 1h30m, found the string "90"']);
  });

  it("a part to be merged: types and names checked, required fields not, unknown values skipped", function () {
    assert.deepEqual(checkPart("InstanceGroup", ["spec"], { maxSize: 3 }), []);
    assert.deepEqual(messages(checkPart("InstanceGroup", ["spec"], { maxSize: "three" })), ['spec.maxSize: expected a whole number (int32), found the string "three"']);
    const unknown = "not-known-yet";
    assert.deepEqual(checkPart("InstanceGroup", ["spec"], { maxSize: unknown }, { skip: (v) => v === unknown }), []);
  });

  it("did-you-mean: case slips and a few edits, never a distant name", function () {
    assert.equal(closest("maxpods", ["maxPods", "minPods"]), "maxPods");
    assert.equal(closest("maxPodz", ["maxPods", "podCIDR"]), "maxPods");
    assert.equal(closest("rootVolumeSise", ["rootVolumeSize", "rootVolumeType"]), "rootVolumeSize");
    assert.equal(closest("kubelet", ["image", "role"]), undefined);
  });

  it("what kstate would not write back as given is refused: numbers beyond 2^53, durations beyond Go's, characters Go's YAML refuses", function () {
    const kubelet = (v: Record<string, unknown>) => checkPart("Cluster", ["spec"], { kubelet: v });
    assert.deepEqual(messages(kubelet({ podPidsLimit: 9223372036854775807 })), ["spec.kubelet.podPidsLimit: 9223372036854776000 is beyond what kstate keeps exactly (-9007199254740991 to 9007199254740991)"]);
    assert.deepEqual(checkPart("Cluster", ["spec"], { kubelet: { podPidsLimit: 9223372036854775807 } }, { rewritten: false }), []);
    assert.deepEqual(kubelet({ podPidsLimit: 2 ** 53 - 1 }), []);
    assert.deepEqual(messages(kubelet({ housekeepingInterval: "9999999999h" })), ['spec.kubelet.housekeepingInterval: "9999999999h" is longer than Go\'s longest duration (about 2562047h)']);
    assert.deepEqual(kubelet({ housekeepingInterval: "2562047h" }), []);
    for (const c of ["\u2028", "\u007f", "\ufffe", "\u0085", "\u0001"]) {
      assert.match(messages(checkPart("Cluster", ["spec"], { cloudLabels: { a: `x${c}y` } }))[0] ?? "", /^spec\.cloudLabels\.a: holds a character kops's YAML reader refuses or changes/, JSON.stringify(c));
    }
  });

  it("an empty value in an enum's list shows as \"\"", function () {
    assert.match(messages(checkPart("Cluster", ["spec"], { topology: { dns: { type: "none" } } }))[0]!, /"none" is not one of "", None, Private, Public/);
  });
});
