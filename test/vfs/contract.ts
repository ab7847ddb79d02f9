/**
 * The VFS contract, run unchanged against every backend. `makeRoot` returns a fresh, empty
 * folder for each test. Each backend declares what it can do beyond the common contract
 * (`Capabilities`, every one stated): a declared capability gets its tests, and an undeclared
 * one a test that it is absent, so a wrong declaration fails either way.
 */
import * as assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  AlreadyExistsError, bucketAdmin, copyFile, hasVersions, InvalidPathError, NotFoundError, PreconditionFailedError, UnsupportedError, type VfsPath,
} from "../../src/vfs";

const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");

async function settle<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : [])),
  };
}

/** A stream of `total` pseudo-random bytes in chunks of `chunk`, and the MD5 it will have. */
function generated(total: number, chunk = 1024 * 1024): { stream: Readable; md5: () => string } {
  const hash = createHash("md5");
  let sent = 0;
  const stream = Readable.from((function* () {
    const block = randomBytes(chunk);
    while (sent < total) {
      const n = Math.min(chunk, total - sent);
      const piece = block.subarray(0, n);
      block[0] = (block[0]! + 1) & 0xff; // vary the blocks
      hash.update(piece);
      sent += n;
      yield Buffer.from(piece);
    }
  })());
  return { stream, md5: () => hash.digest("hex") };
}

async function md5OfStream(stream: Readable): Promise<{ md5: string; size: number }> {
  const hash = createHash("md5");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: hash.digest("hex"), size };
}

/** What a backend can do beyond the common contract; each one is declared, true or false. */
export interface Capabilities {
  /** Old revisions stay readable after an overwrite (`hasVersions`, `listVersions`, `readVersion`). */
  versions: boolean;
  /** `copyFile` within the store is done by the server, the bytes never passing through kstate. */
  serverSideCopy: boolean;
  /** `bucketAdmin` manages the bucket (or folder) the store is in. */
  bucketAdmin: boolean;
  /** Listings carry each file's MD5 (kept by the server) without being asked to compute it. */
  storedHashes: boolean;
}

export interface ContractDriver {
  /** A fresh, empty folder. */
  makeRoot(): Promise<VfsPath>;
  capabilities: Capabilities;
}

export function describeVfsContract(name: string, driver: ContractDriver): void {
  const { makeRoot, capabilities } = driver;
  describe(`VFS contract: ${name}`, function () {
    let root: VfsPath;
    beforeEach(async function () {
      root = await makeRoot();
    });

    describeCapabilities(() => root, capabilities);

    describe("read", function () {
      it("returns NotFoundError naming the URL for a missing file", async function () {
        const p = root.join("missing", "config");
        await assert.rejects(p.read(), (e: unknown) => {
          assert.ok(NotFoundError.isInstance(e), `expected NotFoundError, got ${String(e)}`);
          assert.equal(e.code, "NotFound");
          assert.ok(e.message.includes(p.url), `message ${e.message} should name ${p.url}`);
          return true;
        });
        await assert.rejects(p.stat(), (e: unknown) => NotFoundError.isInstance(e));
        await assert.rejects(p.readStream(), (e: unknown) => NotFoundError.isInstance(e));
      });

      it("returns the bytes written and the revision the write reported", async function () {
        const p = root.join("cluster.example.com", "config");
        const data = Buffer.from("apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\n");
        const { revision } = await p.write(data);
        const got = await p.read();
        assert.deepEqual(got.data, data);
        assert.equal(got.revision, revision);
        const st = await p.stat();
        assert.equal(st.size, data.length);
        assert.equal(st.revision, revision);
        assert.equal(st.path, "config");
      });

      it("keeps empty and binary files byte for byte", async function () {
        const empty = root.join("empty");
        await empty.write(Buffer.alloc(0));
        assert.equal((await empty.read()).data.length, 0);
        const binary = randomBytes(64 * 1024);
        binary[0] = 0;
        const p = root.join("binary");
        await p.write(binary);
        assert.ok((await p.read()).data.equals(binary));
      });
    });

    describe("write", function () {
      it("overwrites and gives a new revision", async function () {
        const p = root.join("a");
        const first = await p.write("one");
        const second = await p.write("two");
        assert.notEqual(first.revision, second.revision);
        assert.equal((await p.read()).data.toString(), "two");
      });

      it("with ifRevision writes only over that revision", async function () {
        const p = root.join("a");
        const first = await p.write("one");
        const second = await p.write("two", { ifRevision: first.revision });
        await assert.rejects(p.write("three", { ifRevision: first.revision }), (e: unknown) => {
          assert.ok(PreconditionFailedError.isInstance(e), `expected PreconditionFailedError, got ${String(e)}`);
          assert.ok(e.message.includes(p.url));
          return true;
        });
        assert.equal((await p.read()).data.toString(), "two");
        assert.equal((await p.read()).revision, second.revision);
      });

      it("with ifRevision fails on a missing file", async function () {
        const p = root.join("a");
        const { revision } = await p.write("one");
        await p.remove();
        await assert.rejects(p.write("two", { ifRevision: revision }), (e: unknown) => PreconditionFailedError.isInstance(e));
        await assert.rejects(p.read(), (e: unknown) => NotFoundError.isInstance(e));
      });

      it("of 20 concurrent writes from one revision, exactly one succeeds", async function () {
        const p = root.join("race", "config");
        const { revision } = await p.write("start");
        const { ok, errors } = await settle(Array.from({ length: 20 }, (_, i) => p.write(`writer ${i}`, { ifRevision: revision })));
        assert.equal(ok.length, 1, `successes: ${ok.length}; errors: ${errors.map(String).join("; ")}`);
        assert.equal(errors.length, 19);
        for (const e of errors) assert.ok(PreconditionFailedError.isInstance(e), `unexpected error: ${String(e)}`);
        const final = await p.read();
        assert.equal(final.revision, ok[0]!.revision);
        assert.match(final.data.toString(), /^writer \d+$/);
      });
    });

    describe("create", function () {
      it("writes a new file and refuses an existing one", async function () {
        const p = root.join("instancegroup", "nodes-us-east-1a");
        await p.create("first");
        await assert.rejects(p.create("second"), (e: unknown) => {
          assert.ok(AlreadyExistsError.isInstance(e), `expected AlreadyExistsError, got ${String(e)}`);
          assert.ok(e.message.includes(p.url));
          return true;
        });
        assert.equal((await p.read()).data.toString(), "first");
      });

      it("of 20 concurrent creates, exactly one succeeds", async function () {
        const p = root.join("race", "create");
        const { ok, errors } = await settle(Array.from({ length: 20 }, (_, i) => p.create(`creator ${i}`)));
        assert.equal(ok.length, 1, `successes: ${ok.length}; errors: ${errors.map(String).join("; ")}`);
        assert.equal(errors.length, 19);
        for (const e of errors) assert.ok(AlreadyExistsError.isInstance(e), `unexpected error: ${String(e)}`);
        assert.equal((await p.read()).revision, ok[0]!.revision);
      });
    });

    describe("remove", function () {
      it("of a missing file succeeds", async function () {
        await root.join("never", "there").remove();
      });

      it("removes a file", async function () {
        const p = root.join("dir", "file");
        await p.write("x");
        await p.remove();
        await assert.rejects(p.read(), (e: unknown) => NotFoundError.isInstance(e));
        assert.deepEqual(await root.listTree(), []);
      });

      it("with ifRevision removes only that revision", async function () {
        const p = root.join("file");
        const first = await p.write("one");
        const second = await p.write("two");
        await assert.rejects(p.remove({ ifRevision: first.revision }), (e: unknown) => PreconditionFailedError.isInstance(e));
        assert.equal((await p.read()).data.toString(), "two");
        await p.remove({ ifRevision: second.revision });
        await assert.rejects(p.read(), (e: unknown) => NotFoundError.isInstance(e));
      });
    });

    describe("list", function () {
      it("of a missing folder is empty", async function () {
        const missing = root.join("no-such-cluster.example.com");
        assert.deepEqual(await missing.list(), []);
        assert.deepEqual(await missing.listTree(), []);
        assert.deepEqual(await missing.listFolders(), []);
      });

      it("lists direct children, folders and the whole tree with sizes", async function () {
        const files: Record<string, string> = {
          "config": "cluster",
          "instancegroup/nodes-us-east-1a": "ig1",
          "instancegroup/control-plane-us-east-1a": "ig22",
          "secrets/system:dns": '{"Data":"c2VjcmV0"}',
          "pki/private/kubernetes-ca/keyset.yaml": "keyset",
          "backups/etcd/main/control/etcd-cluster-spec": "{}",
        };
        const cluster = root.join("dev.k8s.example.com");
        for (const [rel, content] of Object.entries(files)) await cluster.join(rel).write(content);
        await root.join("other.example.com", "config").write("other");

        const direct = await cluster.list();
        assert.deepEqual(direct.map((f) => [f.path, f.size]), [["config", 7]]);
        assert.deepEqual((await cluster.listFolders()).sort(), ["backups", "instancegroup", "pki", "secrets"]);
        assert.deepEqual((await root.listFolders()).sort(), ["dev.k8s.example.com", "other.example.com"]);

        const tree = await cluster.listTree();
        assert.deepEqual(tree.map((f) => f.path).sort(), Object.keys(files).sort());
        for (const f of tree) assert.equal(f.size, Buffer.byteLength(files[f.path]!), f.path);

        const igs = await cluster.join("instancegroup").list();
        assert.deepEqual(igs.map((f) => f.path).sort(), ["control-plane-us-east-1a", "nodes-us-east-1a"]);
      });

      it("gives MD5 hashes that match the content when asked", async function () {
        const data = randomBytes(3000);
        await root.join("x", "y").write(data);
        const [info] = await root.listTree({ hashes: true });
        assert.ok(info, "one file listed");
        assert.equal(info.hash, md5(data));
      });

      it("keeps names with colons and deep paths intact", async function () {
        const names = ["secrets/system:controller_manager", "pki/ssh/public/admin/0123abcd", "addons/coredns.addons.k8s.io/k8s-1.12.yaml"];
        for (const n of names) await root.join(n).write(n);
        for (const n of names) assert.equal((await root.join(n).read()).data.toString(), n);
        assert.deepEqual((await root.listTree()).map((f) => f.path).sort(), [...names].sort());
      });
    });

    describe("paths", function () {
      it("join, base and toString", function () {
        const p = root.join("c.example.com", "instancegroup/nodes");
        assert.equal(p.base, "nodes");
        assert.equal(p.toString(), `${root.url}/c.example.com/instancegroup/nodes`);
        assert.equal(p.url, p.toString());
      });

      for (const bad of ["..", ".", "", "a//b", "a/../b", "x\u0000y", "/abs", "trailing/"]) {
        it(`join refuses ${JSON.stringify(bad)}`, function () {
          assert.throws(() => root.join(bad), (e: unknown) => InvalidPathError.isInstance(e));
        });
      }
    });

    describe("streams", function () {
      it("writes and reads a 20 MiB stream without changing a byte", async function () {
        this.timeout(120_000);
        const p = root.join("backups", "big.bin");
        const source = generated(20 * 1024 * 1024, 256 * 1024 + 7);
        const { revision } = await p.writeStream(source.stream);
        const expected = source.md5();
        const read = await p.readStream();
        assert.equal(read.revision, revision);
        assert.equal(read.size, 20 * 1024 * 1024);
        const got = await md5OfStream(read.stream);
        assert.equal(got.size, 20 * 1024 * 1024);
        assert.equal(got.md5, expected);
      });

      it("honours createOnly and ifRevision on small and large streams", async function () {
        this.timeout(120_000);
        for (const size of [10, 12 * 1024 * 1024]) {
          const p = root.join(`s-${size}`);
          const { revision } = await p.writeStream(generated(size).stream, { createOnly: true });
          await assert.rejects(p.writeStream(generated(size).stream, { createOnly: true }), (e: unknown) => AlreadyExistsError.isInstance(e));
          const next = await p.writeStream(generated(size).stream, { ifRevision: revision });
          await assert.rejects(p.writeStream(generated(size).stream, { ifRevision: revision }), (e: unknown) => PreconditionFailedError.isInstance(e));
          assert.equal((await p.stat()).revision, next.revision);
        }
      });
    });
  });
}

function describeCapabilities(getRoot: () => VfsPath, can: Capabilities): void {
  describe(`capabilities: ${Object.entries(can).map(([k, v]) => `${v ? "" : "no "}${k}`).join(", ")}`, function () {
    it(can.versions ? "keeps old versions, readable after an overwrite" : "has no versions", async function () {
      const p = getRoot().join("versioned", "config");
      await p.write("first");
      await p.write("second");
      if (!can.versions) {
        assert.equal(hasVersions(p), false, "declares no versions, but the path offers them");
        return;
      }
      assert.ok(hasVersions(p), "declares versions, but the path offers none");
      const versions = await p.listVersions();
      assert.deepEqual(versions.map((v) => v.isLatest), [true, false]);
      assert.equal((await p.readVersion(versions[1]!.versionId)).data.toString(), "first");
      assert.equal((await p.readVersion(versions[0]!.versionId)).data.toString(), "second");
    });

    it(can.serverSideCopy ? "copies within the store on the server" : "copies within the store through kstate", async function () {
      const data = randomBytes(5000);
      const source = getRoot().join("copy", "from");
      await source.write(data);
      const copied = await copyFile(source, getRoot().join("copy", "to"));
      assert.equal(copied.serverSide, can.serverSideCopy);
      assert.deepEqual((await getRoot().join("copy", "to").read()).data, data);
    });

    it(can.bucketAdmin ? "has a bucket admin for its bucket" : "has no bucket admin", async function () {
      const root = getRoot();
      await root.join("admin", "config").write("x");
      if (!can.bucketAdmin) {
        assert.throws(() => bucketAdmin(root), (e: unknown) => UnsupportedError.isInstance(e) && e.message.includes(root.url));
        return;
      }
      const admin = bucketAdmin(root);
      assert.ok(root.url.startsWith(admin.url), `${admin.url} holds ${root.url}`);
      assert.equal((await admin.settings()).exists, true);
    });

    it(can.storedHashes ? "lists each file's MD5 unasked" : "lists MD5s only when asked", async function () {
      const data = randomBytes(3000);
      await getRoot().join("hashed").write(data);
      const [plain] = await getRoot().listTree();
      assert.equal(plain?.hash, can.storedHashes ? md5(data) : undefined);
      const [asked] = await getRoot().listTree({ hashes: true });
      assert.equal(asked?.hash, md5(data));
    });
  });
}
