/**
 * `kstate … | head -1`: the reader goes away before kstate has said everything. The command still
 * runs to its end (so whether the store is written does not depend on timing), says nothing more,
 * and exits with its own code, without a stack trace. An output that fails otherwise (`> log` on a
 * full disk, here /dev/full) also lets the command run to its end, then fails it, saying why.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "kstate.js");

/** Runs bin/kstate.js with its stdout a pipe whose reading end is closed at once. */
function runWithClosedStdout(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** Runs bin/kstate.js with its stdout (and `stderrFull`: its stderr too) on /dev/full, where every write fails with ENOSPC. */
function runOnFullDisk(args: string[], env: Record<string, string>, stderrFull = false): Promise<{ code: number | null; stderr: string }> {
  const full = fs.openSync("/dev/full", "w");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", full, stderrFull ? full : "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  }).finally(() => fs.closeSync(full)) as Promise<{ code: number | null; stderr: string }>;
}

describe("a closed stdout is harmless", function () {
  this.timeout(60_000);
  let root: string;
  let env: Record<string, string>;
  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-closed-"));
    env = { HOME: root, KOPS_STATE_STORE: `file://${root}/store` };
  });
  afterEach(function () {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("create cluster | head -1: the cluster is written, exit 0, no stack trace", async function () {
    const name = "piped.k8s.example.com";
    const r = await runWithClosedStdout(["create", "cluster", name, "--cloud", "aws", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"], env);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.ok(fs.existsSync(path.join(root, "store", name, "config")), "the config was written");
    assert.ok(fs.existsSync(path.join(root, "store", name, "instancegroup", "nodes-us-east-1a")), "the node group was written");
  });

  it("a command that fails says so on stderr and keeps its exit code", async function () {
    const r = await runWithClosedStdout(["get", "cluster", "absent.k8s.example.com"], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kstate get: .*absent\.k8s\.example\.com/);
    assert.doesNotMatch(r.stderr, /EPIPE|at .*\.js:\d+/);
  });

  it("get clusters -o yaml with more output than a pipe holds", async function () {
    for (let i = 0; i < 3; i++) {
      const c = await runWithClosedStdout(["create", "cluster", `c${i}.k8s.example.com`, "--cloud", "aws", "--zones", "us-east-1a,us-east-1b,us-east-1c", "--kubernetes-version", "v1.30.2"], env);
      assert.equal(c.code, 0, c.stderr);
    }
    const r = await runWithClosedStdout(["get", "clusters", "-o", "yaml"], env);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
  });

  it("create cluster > /dev/full: every document is written, then exit 1 saying the output failed, without a stack trace", async function () {
    const name = "full.k8s.example.com";
    const r = await runOnFullDisk(["create", "cluster", name, "--cloud", "aws", "--zones", "us-east-1a,us-east-1b", "--kubernetes-version", "v1.30.2"], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "kstate create: could not write the output: ENOSPC: no space left on device, write\n");
    assert.deepEqual(fs.readdirSync(path.join(root, "store", name)).sort(), ["config", "instancegroup"]);
    assert.deepEqual(fs.readdirSync(path.join(root, "store", name, "instancegroup")).sort(), ["control-plane-us-east-1a", "nodes-us-east-1a", "nodes-us-east-1b"]);
  });

  it("get and --version > /dev/full exit 1 saying so; with stderr full too, still exit 1", async function () {
    const made = await runWithClosedStdout(["create", "cluster", "got.k8s.example.com", "--cloud", "aws", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"], env);
    assert.equal(made.code, 0, made.stderr);
    for (const args of [["get", "cluster", "got.k8s.example.com"], ["get", "all", "got.k8s.example.com", "-o", "json"], ["--version"]]) {
      const r = await runOnFullDisk(args, env);
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(r.stderr, `kstate ${args[0]}: could not write the output: ENOSPC: no space left on device, write\n`);
      assert.equal((await runOnFullDisk(args, env, true)).code, 1);
    }
    const failed = await runOnFullDisk(["get", "cluster", "absent.k8s.example.com"], env, true);
    assert.equal(failed.code, 1, "a command that fails keeps its own code");
  });

  it("diff > /dev/full exits 2, as diff(1) does on trouble (1 says the folder differs)", async function () {
    const name = "diffed.k8s.example.com";
    const made = await runWithClosedStdout(["create", "cluster", name, "--cloud", "aws", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"], env);
    assert.equal(made.code, 0, made.stderr);
    const folder = path.join(root, "exported");
    const exported = await runWithClosedStdout(["export", name, "--to", folder], env);
    assert.equal(exported.code, 0, exported.stderr);
    const same = await runOnFullDisk(["diff", "-f", folder], env);
    assert.equal(same.code, 2, same.stderr);
    assert.match(same.stderr, /^kstate diff: could not write the output: ENOSPC/);
    fs.appendFileSync(path.join(folder, "config"), "# changed here\n");
    assert.equal((await runOnFullDisk(["diff", "-f", folder], env)).code, 2);
  });
});
