import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { InvalidPathError, openPath, PreconditionFailedError } from "../../src/vfs";
import { describeVfsContract } from "./contract";

const tempRoots: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-file-"));
  tempRoots.push(dir);
  return dir;
}
after(function () {
  for (const d of tempRoots) fs.rmSync(d, { recursive: true, force: true });
});

const fileCapabilities = { versions: false, serverSideCopy: false, bucketAdmin: true, storedHashes: false };
describeVfsContract("file://", { makeRoot: async () => openPath(`file://${tempDir()}/store`), capabilities: fileCapabilities });
describeVfsContract("plain path", { makeRoot: async () => openPath(path.relative(process.cwd(), tempDir())), capabilities: fileCapabilities });

describe("file:// specifics", function () {
  it("writes files 0600 in folders 0700 and leaves no temp or lock files", async function () {
    const dir = tempDir();
    const p = openPath(dir).join("c.example.com", "pki", "private", "ca", "keyset.yaml");
    const { revision } = await p.write("secret");
    await p.write("secret 2", { ifRevision: revision });
    const file = path.join(dir, "c.example.com/pki/private/ca/keyset.yaml");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, "c.example.com")).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["keyset.yaml"]);
  });

  it("removes folders left empty by a remove", async function () {
    const dir = tempDir();
    const p = openPath(dir).join("c.example.com", "secrets", "kube");
    await p.write("x");
    await p.remove();
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("does not follow a symlink out of the store", async function () {
    const dir = tempDir();
    const outside = tempDir();
    fs.writeFileSync(path.join(outside, "config"), "outside");
    fs.symlinkSync(outside, path.join(dir, "escape"));
    fs.symlinkSync(path.join(outside, "config"), path.join(dir, "link"));
    const store = openPath(dir);
    await assert.rejects(store.join("escape", "config").read(), (e: unknown) => InvalidPathError.isInstance(e));
    await assert.rejects(store.join("escape", "new").write("x"), (e: unknown) => InvalidPathError.isInstance(e));
    await assert.rejects(store.join("link").read(), (e: unknown) => InvalidPathError.isInstance(e));
    assert.deepEqual(await store.listTree(), []);
    assert.deepEqual(fs.readdirSync(outside), ["config"]);
  });

  it("conditional writes from separate processes: exactly one wins", async function () {
    this.timeout(60_000);
    const dir = tempDir();
    const p = openPath(dir).join("config");
    const { revision } = await p.write("start");
    const script = `
      const { openPath } = require(${JSON.stringify(path.resolve(__dirname, "../../src/vfs"))});
      const p = openPath(${JSON.stringify(dir)}).join("config");
      Promise.allSettled(Array.from({ length: 5 }, (_, i) => p.write(process.argv[1] + "-" + i, { ifRevision: ${JSON.stringify(revision)} })))
        .then((rs) => console.log(JSON.stringify(rs.map((r) => r.status === "fulfilled" ? "ok" : r.reason.code))));
    `;
    const run = promisify(execFile);
    const outs = await Promise.all(["a", "b", "c", "d"].map((tag) => run(process.execPath, ["-e", script, tag])));
    const codes = outs.flatMap((o) => JSON.parse(o.stdout) as string[]);
    assert.equal(codes.filter((c) => c === "ok").length, 1, codes.join(","));
    assert.equal(codes.filter((c) => c === "PreconditionFailed").length, 19, codes.join(","));
    await assert.rejects(p.write("late", { ifRevision: revision }), (e: unknown) => PreconditionFailedError.isInstance(e));
  });
});
