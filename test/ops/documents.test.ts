/**
 * The whole-document road's write: a plan made stale between planning and writing (while a
 * confirmation waited, say) writes nothing at all, on memfs, file:// and MinIO.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applyCluster } from "../../src/ops/cluster";
import { applyDocuments, planDocuments } from "../../src/ops/documents";
import { ClusterStore } from "../../src/store/cluster-store";
import { parseYaml } from "../../src/store/yaml";
import { ConflictError, openPath, resetMemoryStore } from "../../src/vfs";
import { makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { snapshot } from "../support/snapshot";

const NAME = "stale.k8s.example.com";

const roots: Record<string, () => Promise<string>> = {
  memfs: async () => {
    const n = uniqueName("mem");
    resetMemoryStore(n);
    return `memfs://${n}`;
  },
  "file://": async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-stale-"))}`,
  "s3 (MinIO)": async () => `s3://${await makeS3Bucket()}`,
};

for (const [label, make] of Object.entries(roots)) {
  describe(`a stale document plan (${label})`, function () {
    this.timeout(60_000);

    it("writes nothing when any planned file changed after planning, and names it", async function () {
      const root = openPath(await make(), openOptions());
      const store = new ClusterStore(root);
      await applyCluster(store, { name: NAME, storeUrl: root.url, options: { zones: ["us-east-1a", "us-east-1b"], kubernetesVersion: "v1.30.2", cloud: "aws" } });
      const groups = await store.readInstanceGroups(NAME);
      const edit = (g: string, from: string, to: string) => {
        const d = groups.get(g)!;
        return { file: `instancegroup/${g}`, content: parseYaml(d.text.replace(from, to), d.path.url), basedOn: d.revision };
      };
      const plan = await planDocuments(store, { name: NAME, edits: [edit("nodes-us-east-1a", "maxSize: 1", "maxSize: 3"), edit("nodes-us-east-1b", "maxSize: 1", "maxSize: 4")] });
      assert.equal(plan.changes.length, 2);
      // Another writer changes the second group after the plan was made.
      const theirs = store.instanceGroupPath(NAME, "nodes-us-east-1b");
      await theirs.write((await theirs.read()).data.toString().replace("minSize: 1", "minSize: 0"));
      const before = await snapshot(root);
      await assert.rejects(applyDocuments(store, plan), (e: Error) => ConflictError.isInstance(e) && /changed instancegroup\/nodes-us-east-1b since this change was planned; nothing was written/.test(e.message));
      assert.deepEqual(await snapshot(root), before, "not even the first group was written");
    });
  });
}
