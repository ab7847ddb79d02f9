import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

import { checkInputs } from "../../src/providers/cluster-config";
import { UNKNOWN } from "../../src/providers/serialize";

const run = promisify(execFile);

describe("ClusterConfig check", function () {
  it("a store with no credentials fails check once, on `store`, naming the store and what to set", async function () {
    // A fresh process with an environment that holds no credentials of any kind.
    const provider = path.resolve(__dirname, "..", "..", "src", "providers", "cluster-config");
    const script = `require(${JSON.stringify(provider)}).provider.check({}, { store: "s3://kstate-no-credentials", name: "dev.k8s.example.com", manager: "pulumi:p/s/dev", options: { cloud: "aws", zones: ["us-east-1a"], kubernetesVersion: "v1.30.2" } }).then((r) => console.log(JSON.stringify(r)), (e) => { console.log(JSON.stringify({ thrown: String(e) })); })`;
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-nocreds-"));
    const { stdout } = await run(process.execPath, ["-e", script], {
      env: { PATH: process.env.PATH ?? "/usr/bin", HOME: home, AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: path.join(home, "none"), AWS_SHARED_CREDENTIALS_FILE: path.join(home, "none") },
      timeout: 60_000,
    });
    const result = JSON.parse(stdout.trim().split("\n").pop()!) as { failures?: { property: string; reason: string }[]; thrown?: string };
    assert.equal(result.thrown, undefined, result.thrown);
    assert.equal(result.failures?.length, 1, JSON.stringify(result));
    assert.equal(result.failures![0]!.property, "store");
    assert.match(result.failures![0]!.reason, /cannot read s3:\/\/kstate-no-credentials: no credentials were found for it\. Give accessKeyId and secretAccessKey, or set S3_ACCESS_KEY_ID/);
  });

  it("spec and instanceGroups fields kops would refuse or drop fail check, each naming its property; unknown values wait", function () {
    const failures = checkInputs({
      store: "file:///tmp/x", name: "a.example.com",
      spec: { kubelet: { maxPods: "abc" }, nonexistentField: 1, kubernetesVersion: UNKNOWN },
      instanceGroups: { nodes: { rootVolumeSise: 30, maxSize: UNKNOWN, minSize: 2 } },
    });
    assert.deepEqual(failures.map((f) => f.property), ["spec.kubelet.maxPods", "spec.nonexistentField", "instanceGroups.nodes.rootVolumeSise"]);
    assert.equal(failures[0]!.reason, 'expected a whole number (int32), found the string "abc"');
    assert.match(failures[1]!.reason, /^unknown field \(kops would drop it: it knows \w+, /);
    assert.equal(failures[2]!.reason, "unknown field; did you mean rootVolumeSize?");
  });
});
