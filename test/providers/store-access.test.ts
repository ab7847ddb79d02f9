// How a resource is told to reach its store: the checks every resource and getKubeconfig share,
// and a migration into a bucket the same program creates (not there in a preview).
import * as assert from "node:assert/strict";
import { provider as migration } from "../../src/providers/migration";
import { accessProblems } from "../../src/providers/store-access";
import { getKubeconfig } from "../../src/resources/kubeconfig";
import { SCHEMES, ValidationError } from "../../src/vfs";
import { s3Options, uniqueName } from "../support/env";
import { freshStore } from "../support/stores";

const reasons = (a: Record<string, unknown>, scheme: keyof typeof SCHEMES) => accessProblems(a, SCHEMES[scheme]).map((f) => `${f.property}: ${f.reason}`);

describe("store access inputs", function () {
  it("are refused where the store cannot use them, each once, naming the input and never its value", function () {
    const cases: [Record<string, unknown>, keyof typeof SCHEMES, RegExp][] = [
      [{ accessKeyId: "AKIA-KEY-ONE", secretAccessKey: "the-secret-1" }, "file", /^accessKeyId: only s3:\/\/ stores take static keys; file:\/\/ stores take no credentials$/],
      [{ secretAccessKey: "the-secret-2" }, "gs", /^secretAccessKey: only s3:\/\/ stores take static keys; gs:\/\/ stores use their cloud's own credentials$/],
      [{ sessionToken: "the-token-3" }, "gs", /^sessionToken: only s3:\/\/ stores take static keys/],
      [{ secretAccessKey: "the-secret-4" }, "s3", /^accessKeyId: give accessKeyId and secretAccessKey together$/],
      [{ endpoint: "http://user:pw-in-url@127.0.0.1:9000" }, "s3", /^endpoint: must not hold credentials/],
      [{ endpoint: "http://127.0.0.1:9000" }, "file", /^endpoint: file:\/\/ stores have no endpoint$/],
      [{ project: "p" }, "s3", /^project: only gs:\/\/ stores have a project$/],
    ];
    for (const [inputs, scheme, want] of cases) {
      const got = reasons(inputs, scheme);
      assert.equal(got.length, 1, `${JSON.stringify(inputs)} on ${scheme}: ${JSON.stringify(got)}`);
      assert.match(got[0]!, want);
      for (const v of Object.values(inputs)) if (String(v).includes("secret") || String(v).includes("pw-in-url")) assert.ok(!got[0]!.includes(String(v)), got[0]);
    }
    assert.deepEqual(reasons({ endpoint: "http://127.0.0.1:9000", region: "us-east-1", accessKeyId: "a", secretAccessKey: "b", sessionToken: "c" }, "s3"), []);
  });

  it("getKubeconfig checks them as the resources do, before reading anything", async function () {
    for (const args of [{ project: "p" }, { accessKeyId: "AKIA-ONLY" }, { region: "not a region" }]) {
      await assert.rejects(getKubeconfig({ store: "s3://kstate-no-such-bucket", name: "dev.example.com", ...args }), (e: unknown) => {
        assert.ok(ValidationError.isInstance(e), String(e));
        assert.match((e as Error).message, /^getKubeconfig: (project|accessKeyId|secretAccessKey|region): /);
        return true;
      });
    }
  });

  it("a migration into a bucket that does not exist yet previews as copying everything at up, not as a failure", async function () {
    const source = await freshStore.s3();
    const name = "dev.example.com";
    const o = s3Options();
    const settings = { endpoint: o.endpoint, region: "us-east-1", accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey };
    const { openPath } = await import("../../src/vfs");
    await openPath(source.url, { s3: o }).join(name, "config").write(`apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${name}\nspec:\n  configBase: ${source.url}/${name}\n`);
    const missing = `s3://${uniqueName("not-yet")}`;
    const checked = await migration.check({} as never, { clusterName: name, source: source.url, destination: missing, sourceSettings: settings, destinationSettings: settings });
    assert.deepEqual(checked.failures ?? [], []);
    assert.match(checked.inputs!.plan![0]!, new RegExp(`^${missing}: the bucket does not exist yet .*every file of ${source.url}/${name} is copied at up$`));
  });
});
