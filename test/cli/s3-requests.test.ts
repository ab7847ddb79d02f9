/**
 * The requests a command sends to an S3 store (MinIO behind the counting proxy): a command that
 * only reads sends only its reads, never asking the bucket for its default encryption (which
 * read-only credentials may not be allowed to ask); a command that writes asks once, beside its
 * first reads.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";
import { CountingProxy, type LoggedRequest } from "../support/counting-proxy";
import { s3Options } from "../support/env";
import { freshStore } from "../support/stores";

const NAME = "requests.k8s.example.com";
const FLAGS = ["--zones", "us-east-1a", "--node-size", "m5.large", "--kubernetes-version", "v1.30.2", "--cloud", "aws"];
const asksEncryption = (r: LoggedRequest) => /[?&]encryption(=|&|$)/.test(r.path);

describe("S3 requests per command", function () {
  this.timeout(120_000);
  let proxy: CountingProxy;
  let env: Record<string, string>;

  before(async function () {
    proxy = await CountingProxy.start(s3Options().endpoint!);
    const store = await freshStore.s3();
    env = { ...store.env, S3_ENDPOINT: proxy.endpoint, KOPS_STATE_STORE: store.url };
    const made = await kstate(["create", "cluster", NAME, ...FLAGS], { env });
    assert.equal(made.code, 0, made.stderr);
  });

  after(() => proxy?.close());

  /**
   * Runs a command; the requests it sent, detached ones included: a detached request starts beside
   * the first read, so it is under way by the time the command ends, and is waited for.
   */
  async function sent(argv: string[]): Promise<LoggedRequest[]> {
    await proxy.idle();
    proxy.take();
    const r = await kstate(argv, { env });
    assert.equal(r.code, 0, r.stderr);
    await proxy.idle();
    return proxy.take();
  }

  const exportTo = () => fs.mkdtempSync(path.join(os.tmpdir(), "kstate-requests-export-"));
  for (const argv of [["get", "cluster", NAME], ["get", "all", NAME, "-o", "yaml"], ["get", "ig", "--name", NAME], ["get", "clusters"], ["export", NAME, "--to", exportTo()]]) {
    it(`${argv.slice(0, 2).join(" ")} sends only reads, and never asks for the bucket's default encryption`, async function () {
      const requests = await sent(argv);
      assert.ok(requests.length > 0);
      assert.deepEqual(requests.filter(asksEncryption).map((r) => r.path), []);
      assert.deepEqual([...new Set(requests.map((r) => r.method))], ["GET"]);
    });
  }

  it("migrate --dry-run sends only reads, to both stores", async function () {
    const to = await freshStore.s3();
    const requests = await sent(["migrate", NAME, "--to", to.url, "--dry-run"]);
    assert.ok(requests.some((r) => r.path.includes(to.url.slice("s3://".length))), "the destination was listed");
    assert.deepEqual(requests.filter(asksEncryption).map((r) => r.path), []);
    assert.deepEqual([...new Set(requests.map((r) => r.method))], ["GET"]);
  });

  it("get cluster is one request", async function () {
    assert.equal((await sent(["get", "cluster", NAME])).length, 1);
  });

  it("a command that writes asks for the default encryption once, beside its first reads", async function () {
    const requests = await sent(["create", "cluster", NAME, "--node-count", "2"]);
    const asked = requests.filter(asksEncryption);
    assert.equal(asked.length, 1, requests.map((r) => `${r.method} ${r.path}`).join("\n"));
    const firstRead = requests.filter((r) => r.method === "GET" && !asksEncryption(r)).sort((a, b) => a.start - b.start)[0]!;
    assert.ok(asked[0]!.start <= firstRead.end, "asked while the first read was under way");
  });
});
