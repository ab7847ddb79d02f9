// StateStoreMigration's `concurrency`: unset, the copy finds its own pace (ops/copy-pace.ts), and
// a change of it alone (including state that recorded the old default, 16) runs nothing again.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applyCluster } from "../../src/ops/cluster";
import { type MigrationInputs, type MigrationOutputs, provider } from "../../src/providers/migration";
import { ClusterStore } from "../../src/store/cluster-store";
import { openPath } from "../../src/vfs";

const CLUSTER = "pace.k8s.example.com";

async function sourceWithCluster(): Promise<string> {
  const url = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pace-src-"))}`;
  await applyCluster(new ClusterStore(openPath(url)), { name: CLUSTER, storeUrl: url, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" } });
  return url;
}

describe("StateStoreMigration concurrency", function () {
  it("unset, stays unset: the copy paces itself, and the outputs record no number", async function () {
    const source = await sourceWithCluster();
    const destination = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pace-dst-"))}`;
    const checked = await provider.check({} as MigrationInputs, { clusterName: CLUSTER, source, destination } as MigrationInputs);
    assert.deepEqual(checked.failures ?? [], []);
    assert.ok(!("concurrency" in checked.inputs!), JSON.stringify(checked.inputs));
    const created = await provider.create(checked.inputs!);
    assert.equal(created.outs!.verified, true);
    assert.ok(!("concurrency" in created.outs!));
    const given = await provider.check({} as MigrationInputs, { clusterName: CLUSTER, source, destination, concurrency: 8 } as MigrationInputs);
    assert.equal(given.inputs!.concurrency, 8);
    // A store that lives inside one process is no place to move a cluster kops reads.
    const inMemory = await provider.check({} as MigrationInputs, { clusterName: CLUSTER, source, destination: "memfs://x" } as MigrationInputs);
    assert.deepEqual(inMemory.failures?.map((f) => f.property), ["destination"]);
    assert.match(inMemory.failures![0]!.reason, /kops cannot reach a memfs:\/\/ store \(memfs:\/\/ stores live inside one process\)/);
  });

  it("a change of concurrency alone, or state holding the old default, is no change", async function () {
    const olds = { clusterName: CLUSTER, source: "memfs://a", destination: "memfs://b", deleteSource: false, concurrency: 16, verified: true } as MigrationOutputs;
    for (const concurrency of [undefined, 4, 64]) {
      const news = { clusterName: CLUSTER, source: "memfs://a", destination: "memfs://b", deleteSource: false, ...(concurrency !== undefined ? { concurrency } : {}) } as MigrationInputs;
      assert.equal((await provider.diff("id", olds, news)).changes, false, `concurrency ${concurrency}`);
    }
    const deleting = { clusterName: CLUSTER, source: "memfs://a", destination: "memfs://b", deleteSource: true } as MigrationInputs;
    assert.equal((await provider.diff("id", olds, deleting)).changes, true, "deleteSource still counts");
  });
});
