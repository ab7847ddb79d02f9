import * as assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clearFailedUpdate, readFailedUpdate, recordFailedUpdate } from "../../src/ops/failed-update";
import { applySync, nestedStores, planSync, rewriteConfigBase, sourceKeptBecause, syncCluster, updatedAgainst } from "../../src/ops/migrate";
import { parseYaml } from "../../src/store/yaml";
import { NotFoundError, openPath, RefusedError, resetMemoryStore, ValidationError, type VfsPath } from "../../src/vfs";
import { ForwardingPath } from "../../src/vfs/forwarding-path";
import type { ListTreeOptions } from "../../src/vfs/path";
import { makeGcsBucket, makeS3Bucket, openOptions, uniqueName } from "../support/env";

const CLUSTER = "move.k8s.example.com";
const CONFIG = `apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata:
  name: ${CLUSTER}
spec:
  # where the cluster's state lives
  configBase: SOURCE
  kubernetesVersion: v1.30.2
`;

/** A kops-like cluster folder: colons in names, deep trees, a file larger than one upload part. */
async function populate(folder: VfsPath): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    "instancegroup/nodes-us-east-1a": Buffer.from("kind: InstanceGroup\n"),
    "secrets/system:dns": Buffer.from('{"Data":"c2VjcmV0"}'),
    "secrets/system:controller_manager": Buffer.from('{"Data":"b3RoZXI="}'),
    "pki/private/kubernetes-ca/keyset.yaml": randomBytes(2000),
    "pki/ssh/public/admin/0123456789abcdef": Buffer.from("ssh-ed25519 AAAA admin\n"),
    "backups/etcd/main/control/etcd-cluster-spec": Buffer.from('{"memberCount":1}'),
    "backups/etcd/main/2026-11-20T00:00:00Z-000001/etcd.backup.gz": randomBytes(9 * 1024 * 1024),
    "kops-version.txt": Buffer.from("1.36.2"),
  };
  await folder.join("config").write(CONFIG.replace("SOURCE", folder.url));
  for (const [p, data] of Object.entries(files)) await folder.join(p).write(data);
  return files;
}

/** A real path that counts the reads and listings made through it, by kind and file. */
class CountingPath extends ForwardingPath {
  constructor(inner: VfsPath, private readonly root: string, readonly counts: Map<string, number>) {
    super(inner);
  }

  private count(kind: string): void {
    const key = `${kind} ${this.url.slice(this.root.length) || "/"}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  join(...names: string[]): VfsPath {
    return new CountingPath(this.inner.join(...names), this.root, this.counts);
  }

  override read() {
    this.count("read");
    return super.read();
  }

  override readStream() {
    this.count("read");
    return super.readStream();
  }

  override stat() {
    this.count("stat");
    return super.stat();
  }

  override listTree(options?: ListTreeOptions) {
    this.count("listTree");
    return super.listTree(options);
  }
}

function counted(path: VfsPath): CountingPath {
  return new CountingPath(path, path.url, new Map());
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

const ends: Record<string, () => Promise<string>> = {
  memfs: async () => {
    const n = uniqueName("mem");
    resetMemoryStore(n);
    return `memfs://${n}`;
  },
  file: async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-sync-"))}`,
  s3: async () => `s3://${await makeS3Bucket()}`,
  gs: async () => `gs://${await makeGcsBucket()}`,
};

const pairs: [string, string][] = [["memfs", "file"], ["file", "s3"], ["s3", "s3"], ["s3", "gs"], ["gs", "file"], ["file", "memfs"]];

describe("syncCluster moves a cluster between stores", function () {
  this.timeout(120_000);
  for (const [from, to] of pairs) {
    it(`${from} -> ${to}: every file byte for byte, config pointed at the destination, a second run copies nothing`, async function () {
      const source = openPath(await ends[from]!(), openOptions()).join(CLUSTER);
      const destination = openPath(await ends[to]!(), openOptions()).join(CLUSTER);
      const files = await populate(source);
      const result = await syncCluster(source, destination, { concurrency: 8 });
      assert.equal(result.verified, true);
      assert.equal(result.filesCopied, Object.keys(files).length + 1);
      if (from === "s3" && to === "s3") assert.equal(result.serverSideCopies, Object.keys(files).length, "same endpoint: the server copies");
      for (const [p, data] of Object.entries(files)) assert.equal(sha((await destination.join(p).read()).data), sha(data), p);
      const config = (await destination.join("config").read()).data.toString();
      assert.match(config, /# where the cluster's state lives\n {2}configBase: /);
      assert.equal((parseYaml(config, "c").toJS() as { spec: { configBase: string } }).spec.configBase, destination.url.replace(/^file:\/\//, ""));
      assert.equal(config.replace(/configBase: .*/, ""), CONFIG.replace(/configBase: .*/, ""), "nothing else in config changed");
      const again = await syncCluster(source, destination);
      assert.equal(again.filesCopied, 0);
      assert.equal(again.filesAlreadyThere, Object.keys(files).length + 1);
      assert.equal(again.manifestHash, result.manifestHash);
      assert.equal((await source.join("config").read()).data.toString(), CONFIG.replace("SOURCE", source.url), "the source is untouched");
    });
  }

  for (const to of ["memfs", "s3", "file"]) {
    it(`${to}: a config that appears at the destination after the plan (another cluster of the name) is kept, and the run stops with a conflict`, async function () {
      const source = openPath(await ends.memfs!()).join(CLUSTER);
      const destination = openPath(await ends[to]!(), openOptions()).join(CLUSTER);
      await populate(source);
      const plan = await planSync(source, destination);
      await destination.join("config").write("kind: Cluster # another cluster's\n");
      await assert.rejects(applySync(plan), (e: Error) => e.name === "ConflictError" && /a config appeared at the destination while the files were copied/.test(e.message));
      assert.equal((await destination.join("config").read()).data.toString(), "kind: Cluster # another cluster's\n");
    });
  }

  it("never deletes extra files at the destination, and reports them", async function () {
    const source = openPath(await ends.memfs!()).join(CLUSTER);
    const destination = openPath(await ends.memfs!()).join(CLUSTER);
    await populate(source);
    await destination.join("notes.txt").write("someone else's");
    const result = await syncCluster(source, destination);
    assert.deepEqual(result.extraAtDestination, ["notes.txt"]);
    assert.equal((await destination.join("notes.txt").read()).data.toString(), "someone else's");
  });

  it("with deleteSource, empties the source only after verifying and an update against the destination", async function () {
    const source = openPath(await ends.file!()).join(CLUSTER);
    const destination = openPath(await ends.memfs!()).join(CLUSTER);
    await populate(source);
    await assert.rejects(syncCluster(source, destination, { deleteSource: true }), (e: unknown) => RefusedError.isInstance(e));
    assert.equal((await source.listTree()).length, 9, "kept until kops has updated the cluster against the destination");
    // As `kops update cluster --yes` against the destination would.
    await destination.join("cluster-completed.spec").write(CONFIG.replace("SOURCE", destination.url));
    assert.equal(await updatedAgainst(destination), destination.url);
    const result = await syncCluster(source, destination, { deleteSource: true });
    assert.equal(result.sourceDeleted, true);
    assert.deepEqual(await source.listTree(), []);
    assert.equal((await destination.listTree()).length, 10);
  });

  it("with deleteSource, keeps the source while the destination records a failed update of the cluster, even with its completed spec; a record naming another store, or another cluster's, does not count", async function () {
    const sourceRoot = openPath(await ends.file!());
    const destinationRoot = openPath(await ends.memfs!());
    const source = sourceRoot.join(CLUSTER);
    const destination = destinationRoot.join(CLUSTER);
    await populate(source);
    await destination.join("cluster-completed.spec").write(CONFIG.replace("SOURCE", destination.url));
    const failure = { failedAt: "2026-11-30T10:00:00.000Z", kopsVersion: "1.36.2", outcome: "exit 1" };
    await recordFailedUpdate(destinationRoot, CLUSTER, failure);
    await recordFailedUpdate(destinationRoot, "other.k8s.example.com", failure);
    const options = () => ({ deleteSource: true, destinationFailedUpdate: readFailedUpdate(destinationRoot, CLUSTER) });
    const dry = await syncCluster(source, destination, { ...options(), dryRun: true });
    assert.equal(dry.destinationUpdated, true, "the completed spec names the destination");
    assert.match(sourceKeptBecause(dry)!.reason, /^the last update against the new store failed, so nodes may still boot from the old store \(kops 1\.36\.2, at 2026-11-30T10:00:00\.000Z, recorded in memfs:\/\/\S+\/\.kstate\/failed-updates\/move\.k8s\.example\.com\.json\): exit 1$/);
    // Only kstate's update clears the record: kops alone must be followed by removing it.
    assert.match(sourceKeptBecause(dry)!.run, /^kstate update cluster move\.k8s\.example\.com --yes --state memfs:\/\/\S+$/);
    assert.match(sourceKeptBecause(dry)!.orRun, /^kops update cluster move\.k8s\.example\.com --yes --state memfs:\/\/\S+$/);
    assert.match(sourceKeptBecause(dry)!.orThen!, /^remove memfs:\/\/\S+\/\.kstate\/failed-updates\/move\.k8s\.example\.com\.json$/);
    await assert.rejects(syncCluster(source, destination, options()), (e: unknown) => RefusedError.isInstance(e) && /the last update against the new store failed/.test(e.message));
    assert.equal((await source.listTree()).length, 9, "the source is kept");
    // Not asked to delete: the record is not even read.
    let awaited = false;
    const watched: PromiseLike<undefined> = { then: (done) => { awaited = true; return Promise.resolve(undefined).then(done); } };
    assert.equal((await syncCluster(source, destination, { dryRun: true, destinationFailedUpdate: watched })).failedUpdate, undefined);
    assert.equal(awaited, false);

    // A record of the same name written against another store (a whole store copied by other tools) is not this one's.
    await destinationRoot.join(".kstate", "failed-updates", `${CLUSTER}.json`).write(JSON.stringify({ ...failure, configBase: `s3://elsewhere/${CLUSTER}` }));
    assert.equal(await readFailedUpdate(destinationRoot, CLUSTER), undefined);
    // One that is no record counts as a failure: the source stays.
    await destinationRoot.join(".kstate", "failed-updates", `${CLUSTER}.json`).write("{not json");
    assert.match((await readFailedUpdate(destinationRoot, CLUSTER))!.outcome, /is not a record kstate wrote/);
    // An update that succeeds clears it, and the source goes.
    await clearFailedUpdate(destinationRoot, CLUSTER);
    await clearFailedUpdate(destinationRoot, CLUSTER);
    const result = await syncCluster(source, destination, options());
    assert.equal(result.sourceDeleted, true);
    assert.ok(await readFailedUpdate(destinationRoot, "other.k8s.example.com"), "another cluster's record stays");
  });

  it("rewrites configBase in place, in the style it was written: plain stays plain where it can, quotes stay quotes, the comment and its spacing stay", function () {
    const config = (line: string) => `apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\nspec:\n  ${line}\n  kubernetesVersion: v1.30.2\n`;
    const cases: [string, string, string][] = [
      ["configBase: s3://old/x   # where it lives", "/tmp/new/x", "configBase: /tmp/new/x   # where it lives"],
      ["configBase: s3://old/x", "gs://new/x", "configBase: gs://new/x"],
      ["configBase: s3://old/x  # plain, but the new value cannot be", "/tmp/a b#c/x", 'configBase: "/tmp/a b#c/x"  # plain, but the new value cannot be'],
      ['configBase: "s3://old/x"  # quoted', "gs://new/x", 'configBase: "gs://new/x"  # quoted'],
      ["configBase: 's3://old/x'", "/tmp/it's/x", "configBase: '/tmp/it''s/x'"],
      // A block scalar ends with its line break, which the next line keeps.
      ["configBase: >-\n    s3://old/x", "/tmp/new/x", 'configBase: "/tmp/new/x"'],
      ["configBase: |\n    s3://old/x\n", "gs://new/x", 'configBase: "gs://new/x"\n'],
    ];
    for (const [line, to, want] of cases) {
      const text = rewriteConfigBase(config(line), "config", to);
      assert.equal(text, config(want), line);
      assert.equal((parseYaml(text, "config").toJS() as { spec: { configBase: string } }).spec.configBase, to);
    }
  });

  it("a dry run writes nothing and says what would move", async function () {
    const source = openPath(await ends.memfs!()).join(CLUSTER);
    const destination = openPath(await ends.memfs!()).join(CLUSTER);
    await populate(source);
    const result = await syncCluster(source, destination, { dryRun: true });
    assert.equal(result.filesCopied, 9);
    assert.ok(result.bytesCopied > 9 * 1024 * 1024);
    assert.deepEqual(await destination.listTree(), []);
  });

  it("refuses a destination inside the source's cluster folder, or a source inside the destination's, before anything is copied or deleted", async function () {
    const store = await ends.file!();
    const source = openPath(store).join(CLUSTER);
    await populate(source);
    const before = (await source.listTree()).map((f) => f.path).sort();
    for (const [from, to] of [[source, source.join(CLUSTER)], [source.join(CLUSTER), source]] as const) {
      for (const options of [{}, { deleteSource: true }, { dryRun: true }]) {
        await assert.rejects(syncCluster(from, to, options), (e: unknown) => ValidationError.isInstance(e) && /lies inside the (source|destination)'s cluster folder .*Nothing was copied/.test((e as Error).message));
      }
    }
    assert.deepEqual((await source.listTree()).map((f) => f.path).sort(), before, "nothing copied, nothing deleted");
    assert.equal(nestedStores("s3://a/x/c", "s3://a/x-other/c"), undefined, "a folder whose name only starts alike is not inside");
    assert.equal(nestedStores("s3://a/c", "gs://a/c/c"), undefined, "another scheme is another store");
  });

  it("a source without a cluster is NotFound", async function () {
    await assert.rejects(syncCluster(openPath(await ends.memfs!()).join(CLUSTER), openPath(await ends.memfs!()).join(CLUSTER)), (e: unknown) => NotFoundError.isInstance(e));
  });

  it("reads once: the plan's listings and config are what the copy uses; each source file is read once, by its copy", async function () {
    const source = counted(openPath(await ends.memfs!()).join(CLUSTER));
    const destination = counted(openPath(await ends.memfs!()).join(CLUSTER));
    const files = await populate(source);
    source.counts.clear();
    const plan = await planSync(source, destination);
    assert.deepEqual(Object.fromEntries(source.counts), { "listTree /": 1, "read /config": 1 });
    assert.deepEqual(Object.fromEntries(destination.counts), { "listTree /": 1, "read /cluster-completed.spec": 1 }, "the completed spec beside the listing");
    assert.equal(plan.result.filesCopied, Object.keys(files).length + 1);
    source.counts.clear();
    destination.counts.clear();
    const result = await applySync(plan);
    assert.equal(result.verified, true);
    assert.equal(result.filesCopied, Object.keys(files).length + 1);
    assert.deepEqual(Object.fromEntries(source.counts), Object.fromEntries(Object.keys(files).map((p) => [`read /${p}`, 1])), "no listing, no config read: only each file's copy");
    assert.deepEqual(Object.fromEntries(destination.counts), { "listTree /": 1 }, "one listing, to verify");
  });

  it("applies the plan it was given: a file added to the source after the plan is not copied", async function () {
    const source = openPath(await ends.memfs!()).join(CLUSTER);
    const destination = openPath(await ends.memfs!()).join(CLUSTER);
    const files = await populate(source);
    const plan = await planSync(source, destination);
    await source.join("late.txt").write("after the plan");
    const result = await applySync(plan);
    assert.equal(result.filesCopied, Object.keys(files).length + 1);
    await assert.rejects(destination.join("late.txt").read(), (e: unknown) => NotFoundError.isInstance(e));
  });

  it("reports progress up to every file and byte", async function () {
    const source = openPath(await ends.memfs!()).join(CLUSTER);
    await populate(source);
    const seen: number[] = [];
    let last = { filesDone: 0, filesTotal: -1, bytesDone: 0, bytesTotal: -1 };
    await syncCluster(source, openPath(await ends.memfs!()).join(CLUSTER), { onProgress: (p) => { if (p.phase === "copying") { seen.push(p.filesDone); last = p; } } });
    assert.equal(last.filesDone, last.filesTotal);
    assert.equal(last.bytesDone, last.bytesTotal);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
  });
});
