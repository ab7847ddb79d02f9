/**
 * `kstate migrate` starts itself again in place with glibc's MALLOC_MMAP_THRESHOLD_ set and a small
 * young generation (bin/kstate.js), so the buffers a long copy streams through go back to the
 * system: on Node.js 22.15 and later the same process (same id) runs with both; older Node.js and
 * other commands run as they are; a variable or a semi-space size the user set is left alone.
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
