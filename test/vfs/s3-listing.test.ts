// A listing (of names, or of versions) is believed only when the answer is S3's: a 200 with anything
// else (a proxy's or web server's page at a wrong endpoint) fails naming the store, instead of
// passing for an empty one.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { hasVersions, NotFoundError, openPath, type VfsPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { parseListPage, parseVersionsPage } from "../../src/vfs/s3/wire";

const EMPTY = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`;

/** Runs `fn` against a local HTTP server answering with `handler`, and a store `s3://{bucket}` opened at it. */
async function againstServer(handler: http.RequestListener, bucket: string, fn: (root: VfsPath, endpoint: string) => Promise<void>): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fn(openPath(`s3://${bucket}`, { s3: { endpoint, region: "us-east-1", forcePathStyle: true, accessKeyId: "id", secretAccessKey: "secret" }, timeoutMs: 5_000, retry: { attempts: 1 } }), endpoint);
  } finally {
    server.close();
  }
}

describe("S3 listings", function () {
  it("reads an empty ListBucketResult as no names, and refuses answers that are not one", function () {
    assert.deepEqual(parseListPage(EMPTY), { objects: [], prefixes: [], truncated: false, nextToken: undefined });
    for (const [answer, begins] of [
      ["<!DOCTYPE html><html><body>Welcome to nginx!</body></html>", "Welcome to nginx!"],
      ["", "begins empty"],
      ["{\"ok\":true}", "ok"],
      ["<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>", "ListAllMyBucketsResult"],
    ]) {
      assert.throws(() => parseListPage(answer!), (e: Error) => e.message.includes("not S3's") && e.message.includes(begins!), answer);
    }
  });

  it("reads versions and delete markers in the order listed, with their markers, and refuses answers that are not a ListVersionsResult", function () {
    const page = `<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>c/</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>
<NextKeyMarker>c/secrets/a&amp;b</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<Version><Key>c/config</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest><LastModified>2026-11-30T10:00:00.000Z</LastModified><ETag>&quot;e&quot;</ETag><Size>120</Size></Version>
<DeleteMarker><Key>c/secrets/a&amp;b</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest><LastModified>2026-11-30T11:00:00.000Z</LastModified></DeleteMarker>
</ListVersionsResult>`;
    assert.deepEqual(parseVersionsPage(page), {
      versions: [
        { key: "c/config", versionId: "v1", modified: new Date("2026-11-30T10:00:00.000Z"), size: 120, isLatest: true, deleted: false },
        { key: "c/secrets/a&b", versionId: "v2", modified: new Date("2026-11-30T11:00:00.000Z"), size: 0, isLatest: true, deleted: true },
      ],
      truncated: true, nextKeyMarker: "c/secrets/a&b", nextVersionIdMarker: "v2",
    });
    for (const [answer, begins] of [["<html>hi</html>", "hi"], ["", "begins empty"], ["{\"Versions\":[]}", "Versions"], [EMPTY, "ListBucketResult"]]) {
      assert.throws(() => parseVersionsPage(answer!), (e: Error) => e.message.includes("not S3's (no ListVersionsResult") && e.message.includes(begins!), answer);
    }
  });

  it("fails a listing answered 200 with a web page, naming the store, as it does every time", async function () {
    let requests = 0;
    await againstServer((_req, res) => {
      requests++;
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>It works!</body></html>");
    }, "some-bucket/clusters", async (root) => {
      await assert.rejects(root.listFolders(), (e: Error) => /s3:\/\/some-bucket\/clusters/.test(e.message) && /not S3's/.test(e.message) && /It works!/.test(e.message));
      assert.ok(requests >= 1);
      // A file's history, the same: not "it never existed".
      const config = root.join("dev.example.com", "config");
      assert.ok(hasVersions(config));
      await assert.rejects(config.listVersions(), (e: Error) => /s3:\/\/some-bucket\/clusters\/dev\.example\.com\/config/.test(e.message) && /not S3's \(no ListVersionsResult/.test(e.message) && /It works!/.test(e.message));
    });
  });

  it("an error answer that is not S3's (a web server's 404 page, or a bare redirect) is no missing file: reads, listings and the CLI say the endpoint may not be S3", async function () {
    await againstServer((req, res) => {
      // A listing gets a bare redirect (as python's http.server answers for a folder), a read a 404 page.
      if (req.url?.includes("list-type")) {
        res.writeHead(301, { location: "/some-bucket/", "content-length": "0" });
        res.end();
        return;
      }
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<!DOCTYPE HTML><html><body><h1>Error response</h1><p>Error code: 404</p></body></html>");
    }, "some-bucket", async (root, endpoint) => {
      const notS3 = (e: Error) => !NotFoundError.isInstance(e) && /not S3's \(it begins "<!DOCTYPE HTML>/.test(e.message) && /is the endpoint an S3 server\?/.test(e.message);
      await assert.rejects(root.join("dev.example.com", "config").read(), (e: Error) => notS3(e) && /s3:\/\/some-bucket\/dev\.example\.com\/config/.test(e.message));
      await assert.rejects(root.listFolders(), (e: Error) => !NotFoundError.isInstance(e) && /301 NotAnS3Answer: the answer is a bare redirect to "\/some-bucket\/", not S3's: is the endpoint an S3 server\?/.test(e.message));
      const env = { S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "us-east-1" };
      for (const argv of [["encryption", "show"], ["get", "secrets", "--name", "dev.example.com"], ["get", "cluster", "dev.example.com"], ["get", "clusters"]]) {
        const r = await kstate([...argv, "--state", "s3://some-bucket"], { env });
        assert.equal(r.code, 1, `${argv.join(" ")}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /not S3's.*is the endpoint an S3 server\?/, argv.join(" "));
        assert.doesNotMatch(r.stdout + r.stderr, /No client-side encryption policy|not found in s3/, argv.join(" "));
      }
    });
  });
});
