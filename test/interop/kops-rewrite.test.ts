/**
 * A cluster a Pulumi program owns, rewritten by the real kops without a change (`kops replace -f`
 * of what `kops get -o yaml` printed): kops writes the documents in its own spelling (the
 * managedFields key `.` plain, where YAML 1.1 readers take it for a number), and kstate reads them
 * as the same documents. The program's next plan has nothing to do, and its ownership is as it was.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applyCluster, describeChanges, planCluster } from "../../src/ops/cluster";
import { ClusterStore } from "../../src/store/cluster-store";
import { readOwners } from "../../src/store/managed-fields";
import { openPath } from "../../src/vfs";
import { kops, kopsEnv, startEc2Catalogue } from "../support/kops";

const NAME = "rewrite.k8s.example.com";
const MANAGER = "pulumi:proj/dev/cluster";
const REQUEST = { name: NAME, manager: MANAGER, options: { cloud: "aws", zones: ["us-east-1a"], kubernetesVersion: "v1.30.2" }, spec: { kubelet: { maxPods: 110 } } };

describe("documents kops rewrote without a change, read by a program that owns them", function () {
  this.timeout(180_000);
  let dir: string;
  let catalogue: { endpoint: string; close(): Promise<void> };

  before(async function () {
    catalogue = await startEc2Catalogue();
  });
  after(async function () {
    await catalogue?.close();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-rewrite-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("kops replace -f of the config and a group as kops printed them: no change planned, the same owners, and `.` read as kops wrote it", async function () {
    const url = `file://${dir}/store`;
    const store = new ClusterStore(openPath(url));
    await applyCluster(store, { ...REQUEST, storeUrl: url });
    const owners = async () => {
      const read = await store.readCluster(NAME);
      return { config: readOwners(read.config!.doc), groups: [...read.groups].map(([g, d]) => [g, readOwners(d.doc)]) };
    };
    const before = await owners();
    const env = kopsEnv({ AWS_ENDPOINT_URL_EC2: catalogue.endpoint, AWS_ACCESS_KEY_ID: "offline", AWS_SECRET_ACCESS_KEY: "offline", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" });
    for (const what of [["cluster", NAME], ["ig", "nodes-us-east-1a", "--name", NAME]]) {
      const printed = await kops(["get", ...what, "--state", url, "-o", "yaml"], env);
      const file = path.join(dir, `${what[0]}.yaml`);
      fs.writeFileSync(file, printed.stdout);
      await kops(["replace", "-f", file, "--state", url], env);
    }
    const config = fs.readFileSync(path.join(dir, "store", NAME, "config"), "utf8");
    assert.match(config, /^ +\.: \{\}$/m, "kops writes the key . plain");

    assert.deepEqual(await owners(), before);
    const plan = await planCluster(store, { ...REQUEST, storeUrl: url });
    assert.deepEqual(describeChanges(plan), []);
    assert.deepEqual(plan.problems, []);
  });
});
