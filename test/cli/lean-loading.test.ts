/**
 * What a command loads: writes to an S3 store go over the small signed-request path, so a
 * command that reads and writes a few files never loads the AWS SDK; `--version` loads nothing
 * beyond the CLI's bundle. Each command runs in a fresh node process, which reports the modules
 * it loaded (test/support/loaded-modules.ts). The certificate code (node-forge, a third of the
 * code) and TLS load only for the commands and endpoints that need them.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { freshStore } from "../support/stores";
import { s3Options } from "../support/env";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const BIN = path.join(ROOT, "bin", "kstate.js");
const PRELOAD = path.join(__dirname, "..", "support", "loaded-modules.js");
const SDK = /[\\/]node_modules[\\/]@(aws-sdk|smithy|google-cloud)[\\/]/;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every module file the process loaded. */
  modules: string[];
}

async function kstateProcess(args: string[], env: Record<string, string>): Promise<Ran> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-loaded-"));
  const list = path.join(dir, "modules");
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["-r", PRELOAD, BIN, ...args], {
        env: { PATH: process.env.PATH ?? "", HOME: dir, KSTATE_LOADED_MODULES_OUT: list, ...env }, stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    return { code, stdout, stderr, modules: fs.readFileSync(list, "utf8").split("\n").filter(Boolean) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function sdkModules(ran: Ran): string[] {
  return ran.modules.filter((m) => SDK.test(m));
}

/** The module files a process loaded, Node.js's own left out. */
function files(ran: Ran): string[] {
  return ran.modules.filter((m) => !m.startsWith("node:"));
}

const FORGE = path.join(ROOT, "dist", "node-forge.cjs");

describe("what a command loads", function () {
  this.timeout(120_000);

  it("--version loads the CLI's bundle and nothing else", async function () {
    const ran = await kstateProcess(["--version"], {});
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /^kstate \d/);
    assert.deepEqual(files(ran).filter((m) => m !== PRELOAD).map((m) => path.relative(ROOT, m)).sort(), ["bin/code-cache.js", "bin/kstate.js", "dist/kstate.cjs"]);
  });

  it("keeps the bundle's compiled code on disk: made once, then used as it is; a damaged one is made again; none when turned off", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-code-cache-test-"));
    const off = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-code-cache-off-"));
    try {
      const files = () => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
      const first = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: dir });
      assert.equal(first.code, 0, first.stderr);
      assert.ok(files().length > 0, "the first run left compiled code");
      const disabled = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: "1" });
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.deepEqual(fs.readdirSync(off), [], "nothing kept when turned off");
      if (typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === "function") return; // Node.js keeps its own cache from 22.1
      // Node.js 20: bin/code-cache.js's cache, one file; a run that accepts it leaves it as it is.
      const [cache] = files() as [string];
      assert.equal(files().length, 1);
      const made = fs.readFileSync(cache);
      const second = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: dir });
      assert.equal(second.stdout, first.stdout);
      assert.ok(fs.readFileSync(cache).equals(made), "the second run used the cache and left it as it was");
      fs.writeFileSync(cache, Buffer.from("not V8's code cache"));
      const third = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: dir });
      assert.equal(third.code, 0, third.stderr);
      assert.equal(third.stdout, first.stdout);
      assert.ok(fs.readFileSync(cache).length > 1000, "a damaged cache is refused by V8 and made again");
      // Never followed through a link (another user could point it at /dev/zero), never trusted
      // in a folder others can write, never a hang where the folder cannot be made.
      fs.rmSync(cache);
      fs.symlinkSync("/dev/zero", cache);
      const linked = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: dir });
      assert.equal(linked.stdout, first.stdout);
      assert.ok(fs.lstatSync(cache).isFile(), "the link was not followed: a cache of its own took its place");
      fs.rmSync(cache);
      execFileSync("mkfifo", [cache]);
      const piped = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: dir });
      assert.equal(piped.stdout, first.stdout, "a pipe in the cache's place is not waited on");
      fs.chmodSync(off, 0o777);
      const shared = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: off });
      assert.equal(shared.stdout, first.stdout);
      assert.deepEqual(fs.readdirSync(off), [], "nothing kept in a folder others can write");
      const unmakeable = await kstateProcess(["--version"], { NODE_COMPILE_CACHE: path.join(off, "missing", "deeper") });
      assert.equal(unmakeable.stdout, first.stdout);
      assert.deepEqual(fs.readdirSync(off), [], "no parent folders made");
      // Each command keeps a cache of its own (the code its first run compiled), beside --version's.
      // A command's caches of earlier builds go when it stores its own; other commands' stay.
      fs.writeFileSync(path.join(dir, "kstate.cjs-get-00000000.bin"), "an earlier build's");
      fs.writeFileSync(path.join(dir, "kstate.cjs-edit-00000000.bin"), "another command's");
      const emptyStore = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-code-cache-store-"));
      await kstateProcess(["get", "clusters", "--state", `file://${emptyStore}`], { NODE_COMPILE_CACHE: dir });
      fs.rmSync(emptyStore, { recursive: true, force: true });
      assert.ok(!fs.existsSync(path.join(dir, "kstate.cjs-get-00000000.bin")), "the earlier build's cache of get is gone");
      assert.deepEqual(files().map((f) => path.basename(f).replace(/-[0-9a-f]{8}\.bin$/, "")).sort(), ["kstate.cjs", "kstate.cjs-edit", "kstate.cjs-get"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(off, { recursive: true, force: true });
    }
  });

  it("create, merge and get on an S3 store: written with kops's encryption, conditionally, without loading the SDK", async function () {
    const store = await freshStore.s3({ versioning: true });
    const env = { ...store.env, KOPS_STATE_STORE: store.url };
    const name = "lean.k8s.example.com";
    const created = await kstateProcess(["create", "cluster", name, "--cloud", "aws", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"], env);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(sdkModules(created), [], "create cluster loaded no SDK module");
    const merged = await kstateProcess(["create", "cluster", name, "--node-count", "3"], env);
    assert.equal(merged.code, 0, merged.stderr);
    assert.deepEqual(sdkModules(merged), [], "a merge (reads, then conditional writes) loaded no SDK module");
    const got = await kstateProcess(["get", "cluster", name], env);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, new RegExp(name.replace(/\./g, "\\.")));
    assert.deepEqual(sdkModules(got), [], "get cluster loaded no SDK module");
    assert.ok(!got.modules.includes(FORGE), "get cluster did not load the certificate code");
    // The test server speaks plain HTTP: TLS is not loaded for it.
    assert.deepEqual(got.modules.filter((m) => /^node:(https|tls)$/.test(m)), [], "get cluster over http:// loaded no TLS");
    assert.ok(got.modules.includes("node:http"), "the list names Node.js's own modules");
    // Its one request is signed by src/vfs/s3/sha256.ts, and the bundle loads node:crypto only
    // when a command first uses it (scripts/bundle-cli.js): get cluster never does.
    assert.ok(!got.modules.includes("node:crypto"), "get cluster loaded no node:crypto");
    assert.ok(merged.modules.includes("node:crypto"), "the merge loaded node:crypto (its writes hash their bodies): the list would show it");
    const keyed = await kstateProcess(["create", "keypair", "kubernetes-ca", "--name", name, "--generate", "--primary"], env);
    assert.equal(keyed.code, 0, keyed.stderr);
    assert.ok(keyed.modules.includes(FORGE), "signing a CA loads the certificate code, from the file beside the bundle");

    // What the writes left: kops's encryption rule (AES256: the bucket has no default) and the write id.
    const o = s3Options();
    const client = new S3Client({ endpoint: o.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! } });
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: store.url.slice("s3://".length), Key: `${name}/instancegroup/nodes-us-east-1a` }));
      assert.equal(head.ServerSideEncryption, "AES256");
      assert.ok(head.Metadata?.["kstate-write-id"], "the write id is stored with the object");
    } finally {
      client.destroy();
    }
  });
});
