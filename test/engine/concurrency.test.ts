/**
 * Eight writers at once on one cluster's config, on MinIO: four `pulumi up`s from separate stacks
 * (ClusterConfig) and four direct read-modify-write loops on the store, each setting its own
 * field. Every change must be there at the end.
 */
import * as assert from "node:assert/strict";
import { applyCluster } from "../../src/ops/cluster";
import { ClusterStore } from "../../src/store/cluster-store";
import { parseYaml, setIn, stringifyYaml } from "../../src/store/yaml";
import { openPath, PreconditionFailedError } from "../../src/vfs";
import { makeS3Bucket, openOptions, uniqueName } from "../support/env";
import { StackProcess } from "../support/stack-process";

const CLUSTER = "busy.k8s.example.com";

describe("concurrent writers on one cluster (MinIO)", function () {
  this.timeout(300_000);

  it("8 writers touching disjoint fields: every change is present at the end", async function () {
    const url = `s3://${await makeS3Bucket()}`;
    const root = openPath(url, openOptions());
    const store = new ClusterStore(root);
    await applyCluster(store, { name: CLUSTER, storeUrl: url, options: { zones: ["us-east-1a"], kubernetesVersion: "v1.30.2", cloud: "aws" } });

    // Each stack in a process of its own, as separate `pulumi up`s are (stack-process.ts).
    const stacks = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const stack = await StackProcess.start("kstate-busy", uniqueName(`w${i}`));
      stack.program = { busy: { store: url, name: CLUSTER, spec: { cloudLabels: { [`stack-${i}`]: `value-${i}` } } } };
      return stack;
    }));
    let directRetries = 0;
    const direct = async (j: number): Promise<void> => {
      const config = root.join(CLUSTER, "config");
      for (;;) {
        const { data, revision } = await config.read();
        const doc = parseYaml(data.toString(), config.url);
        setIn(doc, ["spec", "cloudLabels", `direct-${j}`], `value-${j}`);
        try {
          await config.write(stringifyYaml(doc), { ifRevision: revision });
          return;
        } catch (e) {
          if (!PreconditionFailedError.isInstance(e)) throw e;
          directRetries++;
          await new Promise((r) => setTimeout(r, Math.random() * 50));
        }
      }
    };
    const results = await Promise.allSettled([...stacks.map((s) => s.up()), ...[0, 1, 2, 3].map(direct)]);
    const failures = results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason));
    assert.deepEqual(failures, []);

    const labels = (parseYaml((await root.join(CLUSTER, "config").read()).data.toString(), "config").toJS() as { spec: { cloudLabels: Record<string, string> } }).spec.cloudLabels;
    assert.deepEqual(labels, Object.fromEntries([
      ...[0, 1, 2, 3].map((i) => [`stack-${i}`, `value-${i}`]),
      ...[0, 1, 2, 3].map((j) => [`direct-${j}`, `value-${j}`]),
    ].sort(([a], [b]) => (a! < b! ? -1 : 1))));
    process.stdout.write(`      (direct writers retried ${directRetries} times after losing a race)\n`);
    await Promise.all(stacks.map((s) => s.close()));
  });
});
