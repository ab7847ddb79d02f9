/**
 * kops's subnet CIDR allocator, as invariants over seeded random clusters: every CIDR given lies
 * inside the network, none overlaps another (of any type), a subnet that had a CIDR keeps it,
 * and a refusal happens only when kops's 1/2/4/8 blocks run out. Fixed cases pin kops's own
 * answers (from `kops create cluster --dry-run -o yaml`).
 */
import * as assert from "node:assert/strict";
import { assignSubnetCidrs, type SubnetSlot } from "../../src/ops/subnet-cidrs";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split("/");
  const n = ip!.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  return [n, n + 2 ** (32 - Number(bits)) - 1];
}

describe("subnet CIDRs as kops assigns them", function () {
  it("kops's answers: two public zones, three zones, private with utility subnets", function () {
    const two = assignSubnetCidrs("172.20.0.0/16", [{ name: "a", type: "Public", zone: "a" }, { name: "b", type: "Public", zone: "b" }]);
    assert.deepEqual("cidrs" in two && Object.fromEntries(two.cidrs), { a: "172.20.0.0/17", b: "172.20.128.0/17" });
    const priv = assignSubnetCidrs("172.20.0.0/16", [
      { name: "us-east-1a", type: "Private", zone: "us-east-1a" }, { name: "us-east-1b", type: "Private", zone: "us-east-1b" },
      { name: "utility-us-east-1a", type: "Utility", zone: "us-east-1a" }, { name: "utility-us-east-1b", type: "Utility", zone: "us-east-1b" },
    ]);
    assert.deepEqual("cidrs" in priv && Object.fromEntries(priv.cidrs), {
      "us-east-1a": "172.20.64.0/18", "us-east-1b": "172.20.128.0/18", "utility-us-east-1a": "172.20.0.0/21", "utility-us-east-1b": "172.20.8.0/21",
    });
    const full = assignSubnetCidrs("172.20.0.0/16", [{ name: "a", type: "Public", zone: "a", cidr: "172.20.0.0/17" }, { name: "b", type: "Public", zone: "b", cidr: "172.20.128.0/17" }, { name: "c", type: "Public", zone: "c" }]);
    assert.match("error" in full ? full.error : "", /no block of the network CIDR 172\.20\.0\.0\/16 is free/);
  });

  it("500 seeded random clusters: inside the network, no overlaps, existing CIDRs kept", function () {
    const seed = 20261129;
    const next = rng(seed);
    let assigned = 0;
    let refused = 0;
    for (let round = 0; round < 500; round++) {
      const zones = 1 + Math.floor(next() * 7);
      const priv = next() < 0.5;
      const subnets: SubnetSlot[] = [];
      for (let z = 0; z < zones; z++) {
        subnets.push({ name: `z${z}`, type: priv ? "Private" : "Public", zone: `z${z}` });
        if (priv) subnets.push({ name: `utility-z${z}`, type: "Utility", zone: `z${z}` });
      }
      // Some already have CIDRs: the ones kops gave a smaller cluster of the same zones.
      const keep = Math.floor(next() * zones);
      const first = assignSubnetCidrs("10.0.0.0/16", subnets.filter((s) => Number(s.zone!.slice(1)) < keep));
      const given = "cidrs" in first ? first.cidrs : new Map<string, string>();
      const input = subnets.map((s) => (given.has(s.name) ? { ...s, cidr: given.get(s.name)! } : s));
      const r = assignSubnetCidrs("10.0.0.0/16", input);
      if ("error" in r) {
        refused++;
        continue;
      }
      assigned++;
      const [lo, hi] = range("10.0.0.0/16");
      const ranges = input.map((s) => ({ name: s.name, r: range(r.cidrs.get(s.name)!) }));
      for (const x of ranges) assert.ok(x.r[0] >= lo && x.r[1] <= hi, `seed ${seed} round ${round}: ${x.name} outside the network`);
      for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
          const [a, b] = [ranges[i]!, ranges[j]!];
          assert.ok(a.r[1] < b.r[0] || b.r[1] < a.r[0], `seed ${seed} round ${round}: ${a.name} overlaps ${b.name}`);
        }
      }
      for (const s of input) if (s.cidr) assert.equal(r.cidrs.get(s.name), s.cidr, "a CIDR that was there stays");
    }
    assert.ok(assigned > 100 && refused > 0, `both outcomes seen (${assigned} assigned, ${refused} refused)`);
  });
});
