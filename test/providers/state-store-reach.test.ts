// A StateStore's preview fails where its up would when the bucket is there but cannot be reached
// as the inputs say (a region it is not in, keys it refuses, an endpoint that does not answer),
// naming the input and what the server said; a bucket that is not there yet is made at up.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { provider, type StateStoreInputs } from "../../src/providers/state-store";
import { makeS3Bucket, s3Options, uniqueName } from "../support/env";
import { type RunningServer, startMinio } from "../support/servers";
import { forSuite } from "../support/suite";

function inputs(bucket: string, extra: Partial<StateStoreInputs> = {}, server?: RunningServer): StateStoreInputs {
  const o = s3Options(server);
  return { url: `s3://${bucket}`, endpoint: o.endpoint!, accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey!, adoptExisting: true, ...extra } as StateStoreInputs;
}

describe("StateStore check: the bucket reachable as given", function () {
  this.timeout(60_000);

  it("passes for a bucket reached as given, and for one not there yet", async function () {
    const bucket = await makeS3Bucket();
    assert.deepEqual((await provider.check({} as StateStoreInputs, inputs(bucket))).failures ?? [], []);
    assert.deepEqual((await provider.check({} as StateStoreInputs, inputs(uniqueName("absent")))).failures ?? [], []);
  });

  describe("on a server in eu-west-1", function () {
    const server = forSuite(async () => {
      const own = await startMinio({ region: "eu-west-1" });
      return { own, close: () => own.stop() };
    });

    it("a region the bucket is not in fails at preview, naming region and the bucket's own", async function () {
      const bucket = await makeS3Bucket({ server: server().own, region: "eu-west-1" });
      const at = (region: string) => inputs(bucket, { region }, server().own);
      assert.deepEqual((await provider.check({} as StateStoreInputs, at("eu-west-1"))).failures ?? [], []);
      const checked = await provider.check({} as StateStoreInputs, at("us-east-1"));
      assert.deepEqual(checked.failures?.map((f) => f.property), ["region"]);
      assert.match(checked.failures![0]!.reason, new RegExp(`s3://${bucket}: the bucket is in eu-west-1, not in the region given; set region "eu-west-1"`));
      // The same change on an existing resource.
      const changed = await provider.check(at("eu-west-1"), at("us-west-2"));
      assert.deepEqual(changed.failures?.map((f) => f.property), ["region"]);
    });
  });

  it("keys the server refuses fail at preview with what it said, never the secret", async function () {
    const bucket = await makeS3Bucket();
    const secret = "not-the-secret-at-all";
    const checked = await provider.check({} as StateStoreInputs, inputs(bucket, { secretAccessKey: secret }));
    assert.deepEqual(checked.failures?.map((f) => f.property), ["url"]);
    assert.match(checked.failures![0]!.reason, /403 SignatureDoesNotMatch/);
    assert.ok(!JSON.stringify(checked.failures).includes(secret));
  });

  it("an endpoint that does not answer fails at preview, naming endpoint", async function () {
    const checked = await provider.check({} as StateStoreInputs, inputs(uniqueName("nowhere"), { endpoint: "http://127.0.0.1:9" }));
    assert.deepEqual(checked.failures?.map((f) => f.property), ["endpoint"]);
    assert.match(checked.failures![0]!.reason, /ECONNREFUSED/);
  });

  it("a file:// store that is a file, or a folder already there without adoptExisting, fails at preview as up would; the file is left as it was", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-reach-"));
    const file = path.join(dir, "afile");
    fs.writeFileSync(file, "x");
    const onFile = await provider.check({} as StateStoreInputs, { url: `file://${file}` } as StateStoreInputs);
    assert.deepEqual(onFile.failures?.map((f) => f.property), ["url"]);
    assert.match(onFile.failures![0]!.reason, /afile is a file, not a folder/);
    assert.equal(fs.readFileSync(file, "utf8"), "x");
    const onFolder = await provider.check({} as StateStoreInputs, { url: `file://${dir}` } as StateStoreInputs);
    assert.deepEqual(onFolder.failures?.map((f) => f.property), ["adoptExisting"]);
    assert.deepEqual((await provider.check({} as StateStoreInputs, { url: `file://${dir}`, adoptExisting: true } as StateStoreInputs)).failures ?? [], []);
    assert.deepEqual((await provider.check({} as StateStoreInputs, { url: `file://${dir}/new` } as StateStoreInputs)).failures ?? [], []);
  });
});
