/**
 * The requests a command sends to an S3 store (MinIO behind the counting proxy): a command that
 * only reads sends only its reads, never asking the bucket for its default encryption (which
 * read-only credentials may not be allowed to ask); a command that writes asks once, beside its
 * first reads. A migration from S3 to S3 copies on the server with every file in flight at once:
 * its requests fall in the rounds its plan needs and no more.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { CountingProxy, type LoggedRequest, longestChain } from "../support/counting-proxy";
import { openOptions, s3Options } from "../support/env";
import { freshStore } from "../support/stores";
import { Toxiproxy } from "../support/toxiproxy";

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

  /**
   * Runs `work` with the store far away (50 ms each way: requests issued together are seen to
   * overlap even when a loaded machine takes tens of milliseconds to issue them all; at 20 ms a
   * full test run once saw the last of 41 copies start after the first had ended), through a
   * counting proxy of its own.
   */
  async function far(work: (farEnv: Record<string, string>, proxy: CountingProxy) => Promise<void>): Promise<void> {
    const toxiproxy = await Toxiproxy.start();
    let counting: CountingProxy | undefined;
    try {
      const toxic = await toxiproxy.createProxy("minio", new URL(s3Options().endpoint!).host);
      for (const stream of ["upstream", "downstream"] as const) await toxic.addToxic({ type: "latency", stream, attributes: { latency: 50 } });
      counting = await CountingProxy.start(`http://127.0.0.1:${toxic.port}`);
      await work({ ...env, S3_ENDPOINT: counting.endpoint }, counting);
    } finally {
      await counting?.close();
      await toxiproxy.stop();
    }
  }

  it("migrate from S3 to S3 copies every file at once, on the server: four rounds (the listings and the config, the copies, the config last, the verifying listing)", async function () {
    await far(async (farEnv, proxy) => {
      const from = await freshStore.s3();
      const to = await freshStore.s3();
      const made = await kstate(["create", "cluster", NAME, ...FLAGS], { env: { ...env, KOPS_STATE_STORE: from.url } });
      assert.equal(made.code, 0, made.stderr);
      // More files than a pace starting at 16 copies in one round (written straight to MinIO).
      const base = openPath(`${from.url}/${NAME}`, openOptions());
      await Promise.all(Array.from({ length: 40 }, (_, i) => base.join("addons", `extra-${i}`, "k8s-1.16.yaml").write(`kind: ConfigMap\nmetadata:\n  name: extra-${i}\n`)));
      const files = (await base.listTree()).length;
      const r = await kstate(["migrate", NAME, "--to", to.url, "--yes"], { env: { ...farEnv, KOPS_STATE_STORE: from.url } });
      assert.equal(r.code, 0, r.stderr);
      await proxy.idle();
      const requests = proxy.take();
      const copies = requests.filter((q) => q.method === "PUT" && q.path.includes(`/${NAME}/`) && !q.path.endsWith(`/${NAME}/config`));
      assert.equal(copies.length, files - 1, "every file but the config copied, once");
      assert.equal(longestChain(copies), 1, "the copies all in flight together");
      assert.equal(longestChain(requests), 4, requests.map((q) => `${q.method} ${q.path}`).join("\n"));
    });
  });

  it("a cluster read before on this machine is read in one round: the names of its groups are kept, and read beside the listing, which still decides", async function () {
    await far(async (farEnv, proxy) => {
      const store = await freshStore.s3();
      const made = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a,us-east-1b", ...FLAGS.slice(2)], { env: { ...env, KOPS_STATE_STORE: store.url } });
      assert.equal(made.code, 0, made.stderr);
      const cache = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-requests-cache-"));
      const nearEnv = { ...farEnv, KOPS_STATE_STORE: store.url, KSTATE_CACHE_DIR: cache };
      /** The command's requests, and their longest chain; its output. */
      const run = async (argv: string[], extra: Record<string, string> = {}) => {
        await proxy.idle();
        proxy.take();
        const r = await kstate(argv, { env: { ...nearEnv, ...extra } });
        assert.equal(r.code, 0, r.stderr);
        await proxy.idle();
        const requests = proxy.take();
        return { chain: longestChain(requests), requests, stdout: r.stdout };
      };
      const groupsIn = (yaml: string) => [...yaml.matchAll(/^kind: InstanceGroup\n(?:.*\n)*?  name: (\S+)$/gm)].map((m) => m[1]).sort();
      const merge = (n: number) => run(["create", "cluster", NAME, "--node-count", String(n)]);

      assert.equal((await merge(3)).chain, 3, "first read here: the config and the listing, the groups, the write");
      const kept = JSON.parse(fs.readFileSync(path.join(cache, "instance-groups.json"), "utf8")) as { clusters: Record<string, string[]> };
      assert.deepEqual(kept.clusters[`${store.url}/${NAME} at ${proxy.endpoint}`], ["control-plane-us-east-1a", "nodes-us-east-1a", "nodes-us-east-1b"]);
      assert.equal((await merge(4)).chain, 2, "the groups read beside the listing, then the write");
      assert.equal((await run(["get", "all", NAME, "-o", "yaml"])).chain, 1);
      assert.equal((await merge(5)).chain, 2);
      assert.equal((await run(["create", "cluster", NAME, "--node-count", "6"], { KSTATE_NO_CACHE: "1" })).chain, 3, "KSTATE_NO_CACHE=1: nothing kept is used");

      // A group made elsewhere: listed, so read after the listing, and kept from then on.
      const base = openPath(`${store.url}/${NAME}/instancegroup`, openOptions());
      const nodes = (await base.join("nodes-us-east-1b").read()).data.toString("utf8");
      await base.join("extra").create(nodes.replace(/^  name: nodes-us-east-1b$/m, "  name: extra"));
      const added = await run(["get", "all", NAME, "-o", "yaml"]);
      assert.deepEqual(groupsIn(added.stdout), ["control-plane-us-east-1a", "extra", "nodes-us-east-1a", "nodes-us-east-1b"]);
      assert.equal(added.chain, 2);
      assert.equal((await run(["get", "all", NAME, "-o", "yaml"])).chain, 1);

      // A group deleted elsewhere: its kept name is read and dropped; the listing does not name it.
      await base.join("nodes-us-east-1a").remove();
      const removed = await run(["get", "all", NAME, "-o", "yaml"]);
      assert.deepEqual(groupsIn(removed.stdout), ["control-plane-us-east-1a", "extra", "nodes-us-east-1b"]);
      assert.equal(removed.chain, 1);
      assert.ok(removed.requests.some((r) => r.path.endsWith("/instancegroup/nodes-us-east-1a")), "the stale name was read ahead");
      assert.ok(!(await run(["get", "all", NAME, "-o", "yaml"])).requests.some((r) => r.path.endsWith("/instancegroup/nodes-us-east-1a")), "and is not kept");
    });
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
