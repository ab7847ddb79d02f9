// A listing is believed only when the answer is S3's: a 200 with anything else (a proxy's or web
// server's page at a wrong endpoint) fails naming the store, instead of passing for an empty one.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { openPath } from "../../src/vfs";
import { parseListPage } from "../../src/vfs/s3/wire";

const EMPTY = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`;

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

  it("fails a listing answered 200 with a web page, naming the store, as it does every time", async function () {
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>It works!</body></html>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const root = openPath("s3://some-bucket/clusters", { s3: { endpoint, region: "us-east-1", forcePathStyle: true, accessKeyId: "id", secretAccessKey: "secret" }, timeoutMs: 5_000, retry: { attempts: 1 } });
      await assert.rejects(root.listFolders(), (e: Error) => /s3:\/\/some-bucket\/clusters/.test(e.message) && /not S3's/.test(e.message) && /It works!/.test(e.message));
      assert.ok(requests >= 1);
    } finally {
      server.close();
    }
  });
});
