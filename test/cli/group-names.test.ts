/**
 * The group names kept on this machine (src/cli/group-names.ts): where they are kept, what is
 * kept, and that a file that is missing, damaged or not the CLI's own reads as no names.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheFolder, groupNamesOnDisk } from "../../src/cli/group-names";

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "kstate-group-names-"));

describe("group names kept on this machine", function () {
  it("are kept in KSTATE_CACHE_DIR, else $XDG_CACHE_HOME/kstate, else ~/.cache/kstate; KSTATE_NO_CACHE=1 or no home keeps none", function () {
    assert.equal(cacheFolder({ KSTATE_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }), "/c");
    assert.equal(cacheFolder({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "/x/kstate");
    assert.equal(cacheFolder({ XDG_CACHE_HOME: "relative", HOME: "/h" }), "/h/.cache/kstate", "a relative XDG_CACHE_HOME is ignored, as the XDG spec says");
    assert.equal(cacheFolder({ HOME: "/h" }), "/h/.cache/kstate");
    assert.equal(cacheFolder({}), undefined);
    assert.equal(cacheFolder({ KSTATE_NO_CACHE: "1", KSTATE_CACHE_DIR: "/c" }), undefined);
    assert.equal(groupNamesOnDisk({ KSTATE_NO_CACHE: "1", HOME: "/h" }), undefined);
  });

  it("keep a bucket's cluster's names across commands, in a file only the user can read; a local folder's are not kept", function () {
    const dir = path.join(tempDir(), "made-here");
    const env = { KSTATE_CACHE_DIR: dir };
    groupNamesOnDisk(env)!.set("s3://b/c.example.com", ["control-plane-a", "nodes-a"]);
    groupNamesOnDisk(env)!.set("file:///tmp/store/c.example.com", ["nodes-a"]);
    groupNamesOnDisk(env)!.set("gs://g/d.example.com", ["nodes"]);
    const later = groupNamesOnDisk(env)!;
    assert.deepEqual(later.get("s3://b/c.example.com"), ["control-plane-a", "nodes-a"]);
    assert.deepEqual(later.get("gs://g/d.example.com"), ["nodes"]);
    assert.equal(later.get("file:///tmp/store/c.example.com"), undefined);
    assert.equal(fs.statSync(path.join(dir, "instance-groups.json")).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    // A cluster with no groups left is forgotten.
    later.set("s3://b/c.example.com", []);
    assert.equal(groupNamesOnDisk(env)!.get("s3://b/c.example.com"), undefined);
  });

  it("keep up to 100 clusters, pushing out the one kept longest", function () {
    const env = { KSTATE_CACHE_DIR: tempDir() };
    for (let i = 0; i < 105; i++) groupNamesOnDisk(env)!.set(`s3://b/c${i}.example.com`, ["nodes"]);
    const names = groupNamesOnDisk(env)!;
    assert.equal(names.get("s3://b/c4.example.com"), undefined);
    assert.deepEqual(names.get("s3://b/c5.example.com"), ["nodes"]);
    assert.deepEqual(names.get("s3://b/c104.example.com"), ["nodes"]);
    const kept = JSON.parse(fs.readFileSync(path.join(env.KSTATE_CACHE_DIR, "instance-groups.json"), "utf8")) as { clusters: object };
    assert.equal(Object.keys(kept.clusters).length, 100);
  });

  it("read a damaged file, or names that are no single path segment, as none, and write over it", function () {
    const dir = tempDir();
    const file = path.join(dir, "instance-groups.json");
    const env = { KSTATE_CACHE_DIR: dir };
    for (const text of ["{not json", "[]", '{"clusters":[]}', '{"clusters":{"s3://b/c":"nodes"}}', '{"clusters":{"s3://b/c":["../../config"]}}', '{"clusters":{"s3://b/c":["a/b"]}}', '{"clusters":{"s3://b/c":[""]}}']) {
      fs.writeFileSync(file, text);
      assert.equal(groupNamesOnDisk(env)!.get("s3://b/c"), undefined, text);
    }
    groupNamesOnDisk(env)!.set("s3://b/c", ["nodes"]);
    assert.deepEqual(groupNamesOnDisk(env)!.get("s3://b/c"), ["nodes"]);
  });

  it("that cannot be written cost nothing but the next read's round", function () {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "not-a-folder"), "");
    const env = { KSTATE_CACHE_DIR: path.join(dir, "not-a-folder") };
    assert.doesNotThrow(() => groupNamesOnDisk(env)!.set("s3://b/c", ["nodes"]));
    assert.equal(groupNamesOnDisk(env)!.get("s3://b/c"), undefined);
    assert.deepEqual(fs.readdirSync(dir), ["not-a-folder"], "no temporary file left");
  });

  it("keep a bucket's names by its server too: the same bucket name on another S3_ENDPOINT or STORAGE_EMULATOR_HOST is another bucket", function () {
    const dir = tempDir();
    const one = { KSTATE_CACHE_DIR: dir, S3_ENDPOINT: "http://127.0.0.1:9000" };
    const two = { KSTATE_CACHE_DIR: dir, S3_ENDPOINT: "http://127.0.0.1:9100" };
    groupNamesOnDisk(one)!.set("s3://b/c", ["a"]);
    groupNamesOnDisk(two)!.set("s3://b/c", ["b"]);
    groupNamesOnDisk({ KSTATE_CACHE_DIR: dir })!.set("s3://b/c", ["aws"]);
    groupNamesOnDisk({ KSTATE_CACHE_DIR: dir, STORAGE_EMULATOR_HOST: "http://127.0.0.1:4443" })!.set("gs://b/c", ["g"]);
    assert.deepEqual(groupNamesOnDisk(one)!.get("s3://b/c"), ["a"]);
    assert.deepEqual(groupNamesOnDisk(two)!.get("s3://b/c"), ["b"]);
    assert.deepEqual(groupNamesOnDisk({ KSTATE_CACHE_DIR: dir })!.get("s3://b/c"), ["aws"]);
    assert.equal(groupNamesOnDisk({ KSTATE_CACHE_DIR: dir })!.get("gs://b/c"), undefined);
    assert.deepEqual(groupNamesOnDisk({ KSTATE_CACHE_DIR: dir, STORAGE_EMULATOR_HOST: "http://127.0.0.1:4443" })!.get("gs://b/c"), ["g"]);
  });

  it("read a device, a pipe or a link in the file's place as no names, without waiting or reading it, and write a file of their own in its place", function () {
    const dir = tempDir();
    const file = path.join(dir, "instance-groups.json");
    const env = { KSTATE_CACHE_DIR: dir };
    const places: [string, () => void][] = [
      ["a link to /dev/zero", () => fs.symlinkSync("/dev/zero", file)],
      ["a link to a good file", () => {
        fs.writeFileSync(path.join(dir, "elsewhere.json"), '{"clusters":{"s3://b/c":["nodes"]}}');
        fs.symlinkSync(path.join(dir, "elsewhere.json"), file);
      }],
      ["a pipe", () => execFileSync("mkfifo", [file])],
    ];
    for (const [what, make] of places) {
      fs.rmSync(file, { force: true });
      make();
      assert.equal(groupNamesOnDisk(env)!.get("s3://b/c"), undefined, what);
      groupNamesOnDisk(env)!.set("s3://b/c", ["written"]);
      assert.ok(fs.lstatSync(file).isFile(), `${what}: a file of names took its place`);
      assert.deepEqual(groupNamesOnDisk(env)!.get("s3://b/c"), ["written"]);
    }
  });
});
