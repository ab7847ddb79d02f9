/**
 * What Pulumi stores as each resource's provider must stay tiny: a few hundred bytes that require
 * the installed package, never an SDK client or a copy of kstate's modules, and that still load
 * the provider when the program's folder has no kstate package but the compiled files remain.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ProviderName, providerSource } from "../../src/providers/serialize";

const BUILT = path.resolve(__dirname, "..", "..", "src", "providers");
const NAMES: ProviderName[] = ["stateStore", "clusterConfig", "migration"];
const MAX_BYTES = 512;

/** The source run as Pulumi's dynamic provider host runs it: a module compiled from a string, resolving from the working folder. */
function load(source: string, cwd: string): unknown {
  const Module = require("node:module") as { new (id: string): { paths: string[]; _compile(code: string, file: string): void; exports: { handler(): unknown } }; _nodeModulePaths(dir: string): string[] };
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    const m = new Module("");
    m.paths = Module._nodeModulePaths(cwd);
    m._compile(source, "");
    return m.exports.handler();
  } finally {
    process.chdir(previous);
  }
}

describe("the provider kept in state", function () {
  for (const name of NAMES) {
    it(`${name}: under ${MAX_BYTES} bytes, naming the installed package's providers entry and no SDK`, function () {
      const source = providerSource(name, BUILT);
      assert.ok(Buffer.byteLength(source) < MAX_BYTES, `${name}: ${Buffer.byteLength(source)} bytes:\n${source}`);
      assert.match(source, /require\("kstate\/providers"\)/);
      for (const marker of ["S3Client", "client-s3", "google-cloud", "smithy"]) assert.ok(!source.includes(marker), marker);
    });

    it(`${name}: loads the compiled provider when the program's folder has no kstate package`, function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-serialize-"));
      const provider = load(providerSource(name, BUILT), dir) as Record<string, unknown>;
      assert.equal(provider, (require(BUILT) as Record<string, unknown>)[name]);
      for (const m of ["check", "diff", "create", "read", "update", "delete"]) assert.equal(typeof provider[m], "function", m);
    });
  }

  it("without the package or the compiled files, says which version to install, from where", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-serialize-"));
    const version = (require("../../../package.json") as { version: string }).version;
    assert.throws(() => load(providerSource("clusterConfig", path.join(dir, "gone")), dir), (e: unknown) => {
      const message = String((e as Error).message);
      return message.includes(`npm install kstate@${version}`) && message.includes(fs.realpathSync(dir));
    });
  });
});
