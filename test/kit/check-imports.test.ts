// scripts/check-imports.mjs, which npm test runs: src/ as it is passes, and a copy of src/ with a
// planted circle, an upward arrow and a sideways one fails, naming each.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..", "..");
const SCRIPT = path.join(REPO, "scripts", "check-imports.mjs");

function check(src: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, src], { encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("the import graph check", function () {
  it("passes src/ as it is", function () {
    const r = check(path.join(REPO, "src"));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /no circles, no arrow from a lower layer to a higher one/);
  });

  it("fails a circle, an arrow from a lower layer up, and one between the CLI and the providers", function () {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-imports-"));
    try {
      fs.cpSync(path.join(REPO, "src"), copy, { recursive: true });
      const plant = (file: string, line: string) => fs.appendFileSync(path.join(copy, file), `\n${line}\n`);
      plant("vfs/retry.ts", 'import "./url";');
      plant("vfs/url.ts", 'import "./retry";');
      plant("store/layout.ts", 'import type { ClusterPlan } from "../ops/cluster";');
      plant("cli/io.ts", 'import "../providers/serialize";');
      const r = check(copy);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /circle.*vfs\/(retry|url)\.ts.*vfs\/(url|retry)\.ts/);
      assert.match(r.out, /store\/layout\.ts \(store\) -> ops\/cluster\.ts \(ops\)/);
      assert.match(r.out, /cli\/io\.ts \(cli\) -> providers\/serialize\.ts \(providers\)/);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
