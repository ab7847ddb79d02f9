import * as assert from "node:assert/strict";
import { applyOverlay, flatten } from "../../src/ops/merge";
import { formatPath, parsePath } from "../../src/store/field-path";
import { parseYaml, stringifyYaml } from "../../src/store/yaml";

const BASE = `apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata:
  name: dev.k8s.example.com
spec:
  kubelet:
    anonymousAuth: false
  # chosen by the platform team
  kubernetesVersion: v1.30.2
  sshAccess:
  - 10.0.0.0/8
  subnets:
  - cidr: 172.20.0.0/18
    name: us-east-1a
    type: Public
    zone: us-east-1a
`;

interface Case {
  name: string;
  overlay: Record<string, unknown>;
  previouslyOwned?: string[];
  heldByOthers?: string[];
  expect: (doc: Record<string, any>, text: string) => void;
  owned?: string[];
}

const cases: Case[] = [
  {
    name: "sets a field and owns it, keeping the comment and the other fields",
    overlay: { spec: { kubernetesVersion: "v1.31.0" } },
    owned: ["spec.kubernetesVersion"],
    expect: (d, text) => {
      assert.equal(d.spec.kubernetesVersion, "v1.31.0");
      assert.match(text, /# chosen by the platform team\n {2}kubernetesVersion: v1.31.0/);
      assert.equal(d.spec.kubelet.anonymousAuth, false);
    },
  },
  {
    name: "removes a field the program set last time and no longer sets, and the map it leaves empty",
    overlay: {},
    previouslyOwned: ["spec.kubelet.anonymousAuth"],
    expect: (d) => assert.equal(d.spec.kubelet, undefined),
  },
  {
    name: "leaves fields it never owned",
    overlay: {},
    previouslyOwned: [],
    expect: (d) => assert.equal(d.spec.kubelet.anonymousAuth, false),
  },
  {
    name: "merges lists of named objects by name",
    overlay: { spec: { subnets: [{ name: "us-east-1a", type: "Private" }, { name: "us-east-1b", zone: "us-east-1b", type: "Public" }] } },
    owned: ["spec.subnets[name=us-east-1a]", "spec.subnets[name=us-east-1a].type", "spec.subnets[name=us-east-1b]", "spec.subnets[name=us-east-1b].type", "spec.subnets[name=us-east-1b].zone"],
    expect: (d) => {
      assert.deepEqual(d.spec.subnets[0], { cidr: "172.20.0.0/18", name: "us-east-1a", type: "Private", zone: "us-east-1a" });
      assert.deepEqual(d.spec.subnets[1], { name: "us-east-1b", type: "Public", zone: "us-east-1b" });
    },
  },
  {
    name: "removes a named item it created once it no longer sets it",
    overlay: {},
    previouslyOwned: ["spec.subnets[name=us-east-1b]", "spec.subnets[name=us-east-1b].zone"],
    expect: (d) => assert.equal(d.spec.subnets.length, 1),
  },
  {
    name: "removes a named item it owned whole, with the values kops filled in for it",
    overlay: {},
    previouslyOwned: ["spec.subnets[name=us-east-1a]", "spec.subnets[name=us-east-1a].type"],
    expect: (d) => assert.equal(d.spec.subnets, undefined),
  },
  {
    name: "keeps a named item another owner holds something in, without the fields it owned",
    overlay: {},
    previouslyOwned: ["spec.subnets[name=us-east-1a]", "spec.subnets[name=us-east-1a].type"],
    heldByOthers: ["spec.subnets[name=us-east-1a].zone"],
    expect: (d) => assert.deepEqual(d.spec.subnets[0], { cidr: "172.20.0.0/18", name: "us-east-1a", zone: "us-east-1a" }),
  },
  {
    name: "replaces other lists whole",
    overlay: { spec: { sshAccess: ["192.168.0.0/16", "10.1.0.0/16"] } },
    expect: (d) => assert.deepEqual(d.spec.sshAccess, ["192.168.0.0/16", "10.1.0.0/16"]),
  },
  {
    name: "deletes a field set to null",
    overlay: { spec: { kubelet: { anonymousAuth: null } } },
    owned: [],
    expect: (d) => assert.equal(d.spec.kubelet?.anonymousAuth, undefined),
  },
  {
    name: "an empty map ensures the field is there without wiping what is inside",
    overlay: { spec: { kubelet: {} } },
    owned: ["spec.kubelet"],
    expect: (d) => assert.equal(d.spec.kubelet.anonymousAuth, false),
  },
  {
    name: "adds new keys in sorted place in a sorted map",
    overlay: { spec: { kubeProxy: { enabled: false } } },
    // Byte order, as kops writes it: kubeProxy sorts before kubelet.
    expect: (_d, text) => assert.match(text, /spec:\n {2}kubeProxy:\n {4}enabled: false\n {2}kubelet:\n/),
  },
];

describe("merge: the program owns the fields it sets", function () {
  for (const c of cases) {
    it(c.name, function () {
      const doc = parseYaml(BASE, "config");
      const result = applyOverlay(doc, c.overlay, c.previouslyOwned ?? [], new Set(c.heldByOthers ?? []));
      const text = stringifyYaml(doc);
      c.expect(doc.toJS() as Record<string, any>, text);
      if (c.owned) assert.deepEqual(result.owned, [...c.owned].sort());
    });
  }

  it("changes nothing, byte for byte, when the overlay matches what is stored", function () {
    const doc = parseYaml(BASE, "config");
    applyOverlay(doc, { spec: { kubernetesVersion: "v1.30.2", subnets: [{ name: "us-east-1a", type: "Public" }] } }, ["spec.kubernetesVersion"]);
    assert.equal(stringifyYaml(doc), BASE);
  });

  it("field paths round-trip through their text form", function () {
    for (const p of ["spec.kubernetesVersion", "spec.subnets[name=us-east-1a].zone", 'metadata.labels["kops.k8s.io/cluster"]', "spec.etcdClusters[name=main].etcdMembers[name=a].instanceGroup"]) {
      assert.equal(formatPath(parsePath(p)), p);
    }
    assert.deepEqual(flatten({ a: { b: [1, 2] } }).map((x) => formatPath(x.path)), ["a.b"]);
  });
});
