/**
 * `kstate … | head -1`: the reader goes away before kstate has said everything. The command still
 * runs to its end (so whether the store is written does not depend on timing), says nothing more,
 * and exits with its own code, without a stack trace.
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
});
