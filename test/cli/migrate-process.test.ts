/**
 * `kstate migrate` starts itself again in place with glibc's MALLOC_MMAP_THRESHOLD_ set and a small
 * young generation (bin/kstate.js), so the buffers a long copy streams through go back to the
 * system: on Node.js 22.15 and later the same process (same id) runs with both; older Node.js and
 * other commands run as they are; a variable or a semi-space size the user set is left alone. When
 * a store is not s3:// (the files' bytes pass through the process) V8 also sizes its heap for
 * memory.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toolPath } from "../support/servers";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "kstate.js");

/** Runs `node bin/kstate.js ...args` with a preload recording, at exit, the pid and the variable. */
async function seen(node: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ spawnedPid: number; pid: number; threshold: string | null; execArgv: string[]; code: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-migrate-process-"));
  const preload = path.join(dir, "record.js");
  const out = path.join(dir, "seen.json");
  fs.writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify({ pid: process.pid, threshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null, execArgv: process.execArgv })));\n`);
  try {
    const child = spawn(node, ["--require", preload, BIN, ...args], { env, stdio: "ignore" });
    const code = await new Promise<number>((resolve, reject) => child.on("error", reject).on("exit", (c) => resolve(c ?? -1)));
    return { spawnedPid: child.pid!, code, ...(JSON.parse(fs.readFileSync(out, "utf8")) as { pid: number; threshold: string | null; execArgv: string[] }) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("kstate migrate's process", function () {
  this.timeout(60_000);

  it("on Node.js 24 migrate runs in the same process with MALLOC_MMAP_THRESHOLD_=65536", async function () {
    const r = await seen(toolPath("node24"), ["migrate", "--help"]);
    assert.equal(r.code, 0);
    assert.equal(r.pid, r.spawnedPid, "started again in place, not as a child");
    assert.equal(r.threshold, "65536");
    assert.ok(r.execArgv.includes("--max-semi-space-size=4"), `a small young generation: ${r.execArgv.join(" ")}`);
    assert.ok(r.execArgv.includes("--require"), "the node options it was started with are kept");
    const own = await seen(toolPath("node24"), ["migrate", "--help"], { ...process.env, NODE_OPTIONS: "--max-semi-space-size=16" });
    assert.ok(!own.execArgv.includes("--max-semi-space-size=4"), "a size the user gave wins");
  });

  it("sizes the heap for memory when a store is not s3:// (the bytes pass through the process), not for S3 to S3", async function () {
    const flags = async (args: string[], env: NodeJS.ProcessEnv = process.env) => {
      const r = await seen(toolPath("node24"), ["migrate", "--help", ...args], env);
      assert.equal(r.code, 0);
      return r.execArgv.includes("--optimize-for-size");
    };
    assert.equal(await flags(["--from", "s3://a", "--to", "gs://b"]), true, "S3 to GCS");
    assert.equal(await flags(["--from=gs://a", "--to=s3://b"]), true, "GCS to S3, flags with =");
    assert.equal(await flags(["--to", "file:///tmp/b"], { ...process.env, KSTATE_STATE_STORE: "s3://a" }), true, "S3 (from the environment) to a folder");
    assert.equal(await flags(["--state", "s3://a", "--to", "s3://b"]), false, "S3 to S3 copies on the server");
    assert.equal(await flags(["--to", "s3://b"], { ...process.env, KSTATE_STATE_STORE: "s3://a" }), false, "S3 (from the environment) to S3");
  });

  it("other commands, a variable already set, and Node.js without process.execve run as they are", async function () {
    const other = await seen(toolPath("node24"), ["get", "--help"]);
    assert.equal(other.threshold, null);
    const set = await seen(toolPath("node24"), ["migrate", "--help"], { ...process.env, MALLOC_MMAP_THRESHOLD_: "131072" });
    assert.equal(set.threshold, "131072");
    if (typeof (process as { execve?: unknown }).execve !== "function") {
      const old = await seen(process.execPath, ["migrate", "--help"]);
      assert.equal(old.code, 0);
      assert.equal(old.threshold, null);
    }
  });
});
