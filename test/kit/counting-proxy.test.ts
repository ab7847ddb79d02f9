// The latency benchmark's counting proxy (test/support/counting-proxy.ts): what passes through it
// arrives unchanged, every request is logged once, and the longest sequential chain is read off
// start and end times as its definition says.
import * as assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { CountingProxy, longestChain } from "../support/counting-proxy";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodySha: string;
}

function send(url: string, method: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, "content-length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("counting proxy", function () {
  let upstream: http.Server;
  let proxy: CountingProxy;
  const seen: Seen[] = [];
  const answer = randomBytes(300_000);
  // Requests to /together/* are answered only once three of them have arrived: they overlap for sure.
  let waiting: (() => void)[] = [];

  before(async function () {
    upstream = http.createServer((req, res) => {
      const hash = createHash("sha256");
      req.on("data", (c: Buffer) => hash.update(c));
      req.on("end", () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, bodySha: hash.digest("hex") });
        if (req.url!.startsWith("/together/")) {
          waiting.push(() => res.end("t"));
          if (waiting.length === 3) {
            for (const release of waiting) release();
            waiting = [];
          }
        } else if (req.url === "/missing") res.writeHead(404, { "x-amz-request-id": "r1" }).end("<Error/>");
        else res.writeHead(200, { "content-type": "application/octet-stream", etag: '"e1"' }).end(req.method === "HEAD" ? undefined : answer);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    proxy = await CountingProxy.start(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  });

  after(async function () {
    await proxy?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  it("passes requests and answers through unchanged, and logs each one with its status", async function () {
    proxy.take();
    seen.length = 0;
    const body = randomBytes(200_000);
    // node:http, not fetch: fetch sets the Host header itself.
    const put = await send(`${proxy.endpoint}/bucket/a%20b/c?x-id=PutObject`, "PUT", body,
      { host: "signed.example:9000", authorization: "AWS4-HMAC-SHA256 Credential=k", "x-amz-meta-k": "v" });
    assert.equal(put.status, 200);
    assert.equal(put.headers.etag, '"e1"');
    assert.ok(put.body.equals(answer), "the answer's bytes arrive unchanged");
    const missing = await fetch(`${proxy.endpoint}/missing`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "<Error/>");
    assert.equal(missing.headers.get("x-amz-request-id"), "r1");
    const head = await fetch(`${proxy.endpoint}/bucket/k`, { method: "HEAD" });
    assert.equal(head.status, 200);

    assert.deepEqual(seen.map((s) => [s.method, s.url]), [["PUT", "/bucket/a%20b/c?x-id=PutObject"], ["GET", "/missing"], ["HEAD", "/bucket/k"]]);
    const s = seen[0]!;
    assert.equal(s.bodySha, createHash("sha256").update(body).digest("hex"), "the request's bytes arrive unchanged");
    assert.equal(s.headers.host, "signed.example:9000", "the Host header a signature covers is kept");
    assert.equal(s.headers.authorization, "AWS4-HMAC-SHA256 Credential=k");
    assert.equal(s.headers["x-amz-meta-k"], "v");

    const log = proxy.take();
    assert.deepEqual(log.map((r) => [r.method, r.path, r.status]), [["PUT", "/bucket/a%20b/c?x-id=PutObject", 200], ["GET", "/missing", 404], ["HEAD", "/bucket/k", 200]]);
    for (const r of log) assert.ok(r.end >= r.start, `${r.method} ${r.path} ends after it starts`);
    assert.deepEqual(proxy.take(), [], "take clears the log");
  });

  it("logs requests made at once as overlapping, and one after another as a chain", async function () {
    proxy.take();
    await Promise.all([1, 2, 3].map((i) => fetch(`${proxy.endpoint}/together/${i}`).then((r) => r.arrayBuffer())));
    await (await fetch(`${proxy.endpoint}/after`)).arrayBuffer();
    const log = proxy.take();
    assert.equal(log.length, 4);
    assert.equal(longestChain(log), 2);
  });

  it("a request the upstream cannot answer is logged with status 0 and answered 502", async function () {
    const dead = await CountingProxy.start("http://127.0.0.1:1");
    try {
      const res = await fetch(`${dead.endpoint}/x`);
      assert.equal(res.status, 502);
      assert.match(await res.text(), /counting proxy: http:\/\/127\.0\.0\.1:1/);
      assert.deepEqual(dead.take().map((r) => [r.path, r.status]), [["/x", 0]]);
    } finally {
      await dead.close();
    }
  });
});

describe("longestChain", function () {
  const cases: { name: string; intervals: [number, number][]; chain: number }[] = [
    { name: "no requests", intervals: [], chain: 0 },
    { name: "one request", intervals: [[0, 5]], chain: 1 },
    { name: "three at once", intervals: [[0, 5], [1, 6], [2, 7]], chain: 1 },
    { name: "three one after another", intervals: [[0, 5], [5, 9], [10, 12]], chain: 3 },
    { name: "config, then a listing, then three groups at once", intervals: [[0, 4], [5, 8], [9, 12], [9, 13], [10, 12]], chain: 3 },
    { name: "a long request beside a chain of short ones", intervals: [[0, 100], [1, 2], [3, 4], [5, 6], [7, 8]], chain: 4 },
    { name: "the chain may skip a request that overlaps two others", intervals: [[0, 10], [5, 15], [11, 20], [21, 30]], chain: 3 },
    { name: "given out of order", intervals: [[21, 30], [11, 20], [0, 10], [5, 15]], chain: 3 },
    { name: "one starting before another ends does not follow it", intervals: [[0, 10], [9, 20]], chain: 1 },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.chain}`, function () {
      assert.equal(longestChain(c.intervals.map(([start, end]) => ({ start, end }))), c.chain);
    });
  }
});
