/**
 * Stored bytes that are not plain UTF-8 text, read by kstate and by the real kops side by side
 * (kops is the oracle): a byte-order mark is read past, so `get cluster -o yaml` prints what kops
 * prints; a byte that is not UTF-8 is refused by both, kstate naming the file and the line, and
 * neither command writes anything.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";
import { runKops } from "../support/kops-create";

const NAME = "bytes.k8s.example.com";

describe("stored documents that are not plain UTF-8, read by kstate and kops", function () {
  this.timeout(120_000);
  let dir: string;
  let store: string;
  let config: string;
  const kopsEnv = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, KOPS_RUN_TOO_NEW_VERSION: "1" });

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bytes-"));
    store = `file://${dir}/store`;
    const created = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", store]);
    assert.equal(created.code, 0, created.stderr);
    config = path.join(dir, "store", NAME, "config");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a byte-order mark: both read past it, and kstate prints what kops prints", async function () {
    fs.writeFileSync(config, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fs.readFileSync(config)]));
    const theirs = await runKops(["get", "cluster", NAME, "-o", "yaml", "--state", store], kopsEnv());
    assert.equal(theirs.code, 0, theirs.stderr);
    const mine = await kstate(["get", "cluster", NAME, "-o", "yaml", "--state", store]);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(mine.stdout, theirs.stdout);
    assert.ok(!mine.stdout.startsWith("\ufeff"));
    // Two marks: kops refuses the file, and so does kstate.
    fs.writeFileSync(config, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fs.readFileSync(config)]));
    assert.notEqual((await runKops(["get", "cluster", NAME, "-o", "yaml", "--state", store], kopsEnv())).code, 0);
    const twice = await kstate(["get", "cluster", NAME, "-o", "yaml", "--state", store]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /config: begins with two byte-order marks; kops refuses this file too/);
  });

  it("a Latin-1 byte: both refuse the file; kstate names it and the line, and nothing is written", async function () {
    const lines = fs.readFileSync(config, "utf8").split("\n");
    const at = lines.findIndex((l) => l.includes("kubernetesVersion:"));
    lines.splice(at + 1, 0, "  # caf\u0000 comment");
    const bytes = Buffer.from(lines.join("\n"), "utf8");
    bytes[bytes.indexOf(0)] = 0xe9; // é in Latin-1
    fs.writeFileSync(config, bytes);
    const theirs = await runKops(["get", "cluster", NAME, "-o", "yaml", "--state", store], kopsEnv());
    assert.notEqual(theirs.code, 0, "kops refuses it");
    assert.match(theirs.stderr, /UTF-8/);
    for (const argv of [["get", "cluster", NAME, "-o", "yaml"], ["get", "clusters"], ["create", "cluster", NAME, "--node-count", "3"], ["migrate", NAME, "--to", `file://${dir}/elsewhere`, "--yes"]]) {
      const r = await kstate([...argv, "--state", store]);
      assert.equal(r.code, 1, `${argv.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.includes(`${NAME}/config: not UTF-8 text (line ${at + 2}); kops documents are UTF-8, and kops refuses this file too`), `${argv.join(" ")}: ${r.stderr}`);
    }
    assert.deepEqual(fs.readFileSync(config), bytes, "nothing written");
    assert.ok(!fs.existsSync(path.join(dir, "elsewhere", NAME)), "nothing copied");
  });
});
