import * as assert from "node:assert/strict";
import { guessCloud } from "../../src/ops/options";
import { checkStateStore } from "../../src/providers/state-store";
import { configBaseOf } from "../../src/store/layout";
import {
  bucketAdmin, canServerCopy, hasBucketAdmin, hasVersions, openPath, SCHEMES, schemeOfUrl, type Scheme, UnsupportedError, VfsContext,
} from "../../src/vfs";
import { sameStoredBytes } from "../../src/vfs/copy";
import { cacheSlot } from "../../src/vfs/vfs-context";
import { openOptions } from "../support/env";

const urls: Record<Scheme, string> = {
  s3: "s3://facts-bucket/store",
  gs: "gs://facts-bucket/store",
  file: "file:///tmp/kstate-facts/store",
  memfs: "memfs://facts/store",
};

describe("the scheme table", function () {
  for (const scheme of Object.keys(SCHEMES) as Scheme[]) {
    it(`${scheme}://: an opened path has exactly the capabilities the table gives it`, function () {
      const facts = SCHEMES[scheme];
      const path = openPath(urls[scheme], openOptions()).join("c.example.com", "config");
      assert.equal(facts.scheme, scheme);
      assert.equal(schemeOfUrl(path.url), facts);
      assert.equal(hasBucketAdmin(path), facts.bucketAdmin, "bucket admin");
      assert.equal(canServerCopy(path), facts.serverCopy, "server-side copy");
      assert.equal(hasVersions(path), facts.versioning, "versions");
    });
  }

  it("gives kops's default cloud and configBase form per scheme", function () {
    const cases: [string, string | undefined, string][] = [
      ["s3://b/c.example.com", "aws", "s3://b/c.example.com"],
      ["gs://b/c.example.com", "gce", "gs://b/c.example.com"],
      ["file:///srv/state/c.example.com", undefined, "/srv/state/c.example.com"],
      ["memfs://m/c.example.com", undefined, "memfs://m/c.example.com"],
    ];
    for (const [url, cloud, configBase] of cases) {
      assert.equal(guessCloud(url), cloud, url);
      assert.equal(configBaseOf(`${url}/`), configBase, url);
    }
    assert.equal(schemeOfUrl("/plain/path"), undefined);
    assert.equal(schemeOfUrl("azure://x"), undefined);
  });

  it("takes equal S3 multipart ETags as equal bytes, and nothing else without a hash", function () {
    const etag = `"${"a".repeat(32)}-3"`;
    const file = (revision: string) => ({ path: "f", size: 1, revision });
    const s3a = openPath("s3://facts-a/x");
    const s3b = openPath("s3://facts-b/x");
    assert.equal(sameStoredBytes(s3a, file(etag), s3b, file(etag)), true);
    assert.equal(sameStoredBytes(s3a, file(`"${"a".repeat(32)}"`), s3b, file(`"${"a".repeat(32)}"`)), false, "single-part ETags are compared by hash instead");
    assert.equal(sameStoredBytes(openPath("gs://facts-a/x"), file(etag), s3b, file(etag)), false, "another scheme");
    assert.equal(sameStoredBytes(openPath("memfs://facts/x"), file("7"), openPath("memfs://facts2/x"), file("7")), false);
  });

  it("decides what a StateStore may be on each scheme", function () {
    const cases: { url: string; more?: Record<string, unknown>; failures: { property: string; reason: string }[] }[] = [
      {
        url: "memfs://m",
        // Only why: nothing else about such a store is worth saying (it once added a cut-off encryption message).
        failures: [{ property: "url", reason: "memfs:// stores live inside one process; a StateStore needs s3://, gs:// or file://" }],
      },
      { url: "s3://bucket-x/prefix", failures: [{ property: "url", reason: "a StateStore is a whole bucket: use s3://bucket-x (clusters go below it)" }] },
      { url: "file:///srv/state", more: { versioning: true }, failures: [{ property: "versioning", reason: "file:// stores keep no old versions; use s3:// or gs:// for history, or set versioning: false" }] },
      { url: "file:///srv/state", more: { endpoint: "http://127.0.0.1:9000" }, failures: [{ property: "endpoint", reason: "file:// stores have no endpoint" }] },
      { url: "gs://bucket-x", more: { encryption: "AES256" }, failures: [{ property: "encryption", reason: "\"AES256\" is not available on gs://; choose \"google-managed\" or \"cloud-kms\"" }] },
      { url: "", failures: [{ property: "url", reason: "required: s3://bucket, gs://bucket or file:///abs/dir" }] },
    ];
    for (const c of cases) assert.deepEqual(checkStateStore({ url: c.url, ...c.more }).failures, c.failures, c.url);
    const file = checkStateStore({ url: "file:///srv/state" }).inputs!;
    assert.equal(file.versioning, false);
    assert.equal(file.encryption, "none");
    const s3 = checkStateStore({ url: "s3://bucket-x" }).inputs!;
    assert.equal(s3.versioning, true);
    assert.equal(s3.encryption, "AES256");
  });

  it("a store without a bucket says so when asked for its admin", function () {
    assert.throws(() => bucketAdmin(openPath("memfs://facts")), (e: unknown) => UnsupportedError.isInstance(e) && /no bucket to manage/.test(e.message));
  });
});

describe("VfsContext", function () {
  it("keeps one value per slot and key until cleared, apart from other contexts", function () {
    const slot = cacheSlot<{ n: number }>("test values");
    const a = new VfsContext();
    const b = new VfsContext();
    let made = 0;
    const make = () => ({ n: ++made });
    const first = a.memo(slot, "k", make);
    assert.equal(a.memo(slot, "k", make), first);
    assert.notEqual(b.memo(slot, "k", make), first);
    a.clear();
    assert.notEqual(a.memo(slot, "k", make), first);
    assert.equal(made, 3);
  });
});
