import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { BackendError, hasVersions, openPath, resolveStoreSettings } from "../../src/vfs";
import { startFakeGcs } from "../support/servers";
import { gcsOptions, makeGcsBucket, openOptions, uniqueName } from "../support/env";
import { type Capabilities, describeVfsContract } from "./contract";

const GCS_CAN: Capabilities = { versions: true, serverSideCopy: false, bucketAdmin: true, storedHashes: true };

describe("gs:// on fake-gcs-server", function () {
  let bucket: string;
  before(async function () {
    bucket = await makeGcsBucket({ versioning: true });
  });

  describeVfsContract("gcs (fake-gcs-server)", { makeRoot: async () => openPath(`gs://${bucket}/${uniqueName("t")}`, openOptions()), capabilities: GCS_CAN });

  it("passes a customer-managed key (kmsKeyName) with every upload, simple and resumable", async function () {
    // fake-gcs-server accepts kmsKeyName but keeps no record of it, so the requests are seen on
    // their way: a loopback proxy in front of the server notes each request line.
    const target = new URL(gcsOptions().endpoint!);
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      upstream.on("error", (e) => res.destroy(e));
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const key = "projects/kstate-test/locations/global/keyRings/state/cryptoKeys/store";
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const root = openPath(`gs://${bucket}/${uniqueName("cmek")}`, { ...openOptions(), gcs: { ...gcsOptions(), endpoint, kmsKeyName: key } });
      await root.join("config").write("small, one request");
      await root.join("big").writeStream(Readable.from([Buffer.alloc(12 << 20, 7)]));
      const uploads = seen.filter((l) => l.startsWith("POST /upload/"));
      assert.equal(uploads.filter((l) => l.includes("uploadType=multipart")).length, 1, seen.join("\n"));
      assert.equal(uploads.filter((l) => l.includes("uploadType=resumable")).length, 1, seen.join("\n"));
      for (const l of uploads) assert.ok(new URL(l.split(" ")[1]!, endpoint).searchParams.get("kmsKeyName") === key, `${l} names the key`);
      assert.equal((await root.join("config").read()).data.toString(), "small, one request");
    } finally {
      proxy.close();
    }
  });

  for (const form of ["", "/storage/v1"]) {
    it(`takes STORAGE_EMULATOR_HOST${form ? ` with ${form}` : ""} from the environment it is handed when no endpoint is given`, async function () {
      const settings = resolveStoreSettings({ gcs: { projectId: "kstate-test" } }, { STORAGE_EMULATOR_HOST: `${gcsOptions().endpoint}${form}` });
      const p = openPath(`gs://${bucket}/env${form.replace(/\//g, "-")}/config`, settings);
      await p.write("via env");
      assert.equal((await p.read()).data.toString(), "via env");
      assert.deepEqual((await openPath(`gs://${bucket}/env${form.replace(/\//g, "-")}`, settings).list()).map((f) => f.path), ["config"]);
    });
  }

  it("lists and reads old generations of a file", async function () {
    const p = openPath(`gs://${bucket}/${uniqueName("v")}/config`, openOptions());
    assert.ok(hasVersions(p));
    const one = await p.write("one");
    const two = await p.write("two");
    const versions = await p.listVersions();
    assert.deepEqual(versions.map((v) => v.versionId), [two.revision, one.revision]);
    assert.equal((await p.readVersion(one.revision)).data.toString(), "one");
  });

  it("lists the generations of every file below a folder, each with the time it stopped being current", async function () {
    const folder = openPath(`gs://${bucket}/${uniqueName("tree")}`, openOptions());
    const a1 = await folder.join("a").write("a1");
    const a2 = await folder.join("a").write("a2");
    const b1 = await folder.join("sub", "b").write("b1");
    await folder.join("sub", "b").remove();
    await openPath(`${folder.url}-beside`, openOptions()).write("x");
    assert.ok(hasVersions(folder));
    const versions = await folder.listTreeVersions();
    assert.deepEqual(versions.map((v) => [v.path, v.versionId, v.isLatest, v.deleted, v.until !== undefined]), [
      ["a", a2.revision, true, false, false], ["a", a1.revision, false, false, true], ["sub/b", b1.revision, false, false, true],
    ]);
    const b = versions.at(-1)!;
    assert.ok(b.until!.getTime() >= b.modified.getTime(), "removed after it was written");
  });
});

describe("gs:// when the server goes away", function () {
  it("a stopped or silent server gives a BackendError naming the URL within the timeout", async function () {
    this.timeout(60_000);
    const own = await startFakeGcs();
    try {
      const timeoutMs = 1500;
      const options = { gcs: gcsOptions(own), timeoutMs, retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 } };
      const { Storage } = await import("@google-cloud/storage");
      const bucket = uniqueName();
      await new Storage({ apiEndpoint: own.endpoint, projectId: "kstate-test" }).createBucket(bucket);
      const p = openPath(`gs://${bucket}/frozen/config`, options);
      await p.write("before");
      await own.freeze();
      let started = Date.now();
      await assert.rejects(p.read(), (e: unknown) => BackendError.isInstance(e) && e.message.includes(p.url));
      assert.ok(Date.now() - started < 4 * timeoutMs, `silent server: took ${Date.now() - started} ms`);
      await own.kill();
      started = Date.now();
      await assert.rejects(p.write("after"), (e: unknown) => BackendError.isInstance(e) && e.message.includes(p.url));
      assert.ok(Date.now() - started < 4 * timeoutMs, `stopped server: took ${Date.now() - started} ms`);
    } finally {
      await own.stop();
    }
  });
});
