import * as assert from "node:assert/strict";
import * as path from "node:path";
import { InvalidPathError, openPath, parseUrl } from "../../src/vfs";

describe("URL parsing", function () {
  const good: [string, { scheme: string; location: string; key: string }][] = [
    ["s3://acme-kops-state", { scheme: "s3", location: "acme-kops-state", key: "" }],
    ["s3://acme-kops-state/", { scheme: "s3", location: "acme-kops-state", key: "" }],
    ["s3://acme-kops-state/prefix/dev.k8s.acme.com", { scheme: "s3", location: "acme-kops-state", key: "prefix/dev.k8s.acme.com" }],
    ["gs://acme_state/x", { scheme: "gs", location: "acme_state", key: "x" }],
    ["memfs://tests/a", { scheme: "memfs", location: "tests", key: "a" }],
    ["file:///var/lib/kstate", { scheme: "file", location: "/var/lib/kstate", key: "" }],
    ["/var/lib/kstate/", { scheme: "file", location: "/var/lib/kstate", key: "" }],
    ["relative/dir", { scheme: "file", location: path.resolve("relative/dir"), key: "" }],
    ["../up/dir", { scheme: "file", location: path.resolve("../up/dir"), key: "" }],
  ];
  for (const [input, expected] of good) {
    it(`parses ${input}`, function () {
      assert.deepEqual(parseUrl(input), expected);
    });
  }

  const bad: [string, RegExp][] = [
    ["", /empty path/],
    ["s3://", /no bucket name/],
    ["s3:///key", /no bucket name/],
    ["s3://bucket/../x", /`\.\.` segments/],
    ["s3://bucket/a/./b", /`\.` segments/],
    ["s3://bucket//x", /empty path segment/],
    ["s3://Bucket", /bucket name "Bucket" is not valid/],
    ["s3://ab", /not valid/],
    ["s3://192.168.1.1", /IP addresses/],
    ["gs://Bad_Bucket", /bucket name "Bad_Bucket" is not valid/],
    ["gs://-bucket", /not valid/],
    ["ftp://x", /unknown scheme "ftp"/],
    ["http://example.com/x", /unknown scheme "http"/],
    ["s3://bucket/x\u0000y", /NUL bytes/],
    ["/tmp/a\u0000b", /NUL bytes/],
    ["file://relative", /absolute path/],
    ["file:///tmp/../etc", /`\.\.` segments/],
    ["state/../../etc", /`\.\.` segments/],
    ["memfs://", /store name/],
    ["s3://bucket/a\nb", /control characters/],
    [`s3://bucket/${"k".repeat(1100)}`, /longer than 1024 bytes/],
    ["c:relative", /unknown URL form/],
    ["/", /filesystem root is not a store folder/],
    ["//", /filesystem root is not a store folder/],
    ["file:///", /filesystem root is not a store folder/],
    ["file:////", /filesystem root is not a store folder/],
  ];
  for (const [input, message] of bad) {
    it(`refuses ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, function () {
      assert.throws(() => openPath(input), (e: unknown) => {
        assert.ok(InvalidPathError.isInstance(e), `expected InvalidPathError, got ${String(e)}`);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  it("refuses a non-URL endpoint before any I/O", function () {
    assert.throws(() => openPath("s3://bucket", { s3: { endpoint: "not a url" } }), (e: unknown) => InvalidPathError.isInstance(e));
  });
});
