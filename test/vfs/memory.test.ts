import * as assert from "node:assert/strict";
import { openPath, resetMemoryStore, hasVersions, BackendError } from "../../src/vfs";
import { ObjectPath } from "../../src/vfs/object-path";
import { MemoryBackend } from "../../src/vfs/memory/backend";
import type { Condition } from "../../src/vfs/backend";
import { uniqueName } from "../support/env";
import { describeVfsContract } from "./contract";

describeVfsContract("memfs", {
  makeRoot: async () => {
    const name = uniqueName("mem");
    resetMemoryStore(name);
    return openPath(`memfs://${name}/store`);
  },
  capabilities: { versions: true, serverSideCopy: false, bucketAdmin: false, storedHashes: true },
});

describe("memfs", function () {
  it("shares one store between paths of the same name", async function () {
    const name = uniqueName("mem");
    await openPath(`memfs://${name}/a`).write("x");
    assert.equal((await openPath(`memfs://${name}`).join("a").read()).data.toString(), "x");
  });

  it("keeps versions", async function () {
    const p = openPath(`memfs://${uniqueName("mem")}/config`);
    assert.ok(hasVersions(p));
    const a = await p.write("a");
    await p.write("b");
    const versions = await p.listVersions();
    assert.deepEqual(versions.map((v) => v.isLatest), [true, false]);
    assert.equal((await p.readVersion(a.revision)).data.toString(), "a");
  });

  it("lists the versions of every file below a folder, removed files and nothing beside it included", async function () {
    const root = openPath(`memfs://${uniqueName("mem")}`);
    await root.join("c", "a").write("a1");
    await root.join("c", "a").write("a2");
    await root.join("c", "sub", "b").write("b1");
    await root.join("c", "sub", "b").remove();
    await root.join("c-other").write("x");
    const folder = root.join("c");
    assert.ok(hasVersions(folder));
    const versions = await folder.listTreeVersions();
    assert.deepEqual(versions.map((v) => [v.path, v.isLatest, v.deleted, v.size]), [["a", true, false, 2], ["a", false, false, 2], ["sub/b", true, true, 0], ["sub/b", false, false, 2]]);
  });
});

/** A real memory backend behind a link that drops the answer of the first write. */
class LossyBackend extends MemoryBackend {
  drops = 0;
  override async put(key: string, data: Buffer, condition: Condition, writeId?: string) {
    const result = await super.put(key, data, condition, writeId);
    if (this.drops-- > 0) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    return result;
  }
  override isTransient(e: unknown): boolean {
    return (e as { code?: string }).code === "ECONNRESET";
  }
}

describe("retries of conditional writes", function () {
  it("a create whose answer was lost is reported as a success, not AlreadyExists", async function () {
    const backend = new LossyBackend(uniqueName("mem"));
    Object.assign(backend, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    backend.drops = 1;
    const p = new ObjectPath(backend, "config");
    const { revision } = await p.create("mine");
    assert.equal((await p.read()).revision, revision);
  });

  it("a conditional write whose answer was lost is reported as a success", async function () {
    const backend = new LossyBackend(uniqueName("mem"));
    Object.assign(backend, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const p = new ObjectPath(backend, "config");
    const first = await p.write("one");
    backend.drops = 1;
    const second = await p.write("two", { ifRevision: first.revision });
    assert.equal((await p.read()).revision, second.revision);
  });

  it("a real conflict after a retry is still a conflict", async function () {
    const backend = new LossyBackend(uniqueName("mem"));
    Object.assign(backend, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const p = new ObjectPath(backend, "config");
    await p.write("someone else's");
    backend.drops = 0;
    await assert.rejects(p.create("mine"), (e: unknown) => (e as { code?: string }).code === "AlreadyExists");
  });

  it("gives up after the configured attempts with a BackendError naming the URL", async function () {
    const backend = new LossyBackend(uniqueName("mem"));
    Object.assign(backend, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    backend.drops = 10;
    const p = new ObjectPath(backend, "config");
    await assert.rejects(p.write("x"), (e: unknown) => BackendError.isInstance(e) && e.message.includes(p.url) && backend.drops === 7);
  });
});
