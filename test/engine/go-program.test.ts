/**
 * kstate from a Go program: examples/go, built against a Go SDK that tools/sdkgen writes from the
 * schema the provider plugin serves (as `pulumi package add` would), run inline through Go's
 * Automation API with the real Pulumi CLI and the plugin. It writes the same files as the
 * TypeScript example with the same settings, the real kops reads them, a second preview has
 * nothing to do, and destroy takes what it made.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { uniqueName } from "../support/env";
import { kops, kopsEnv } from "../support/kops";
import { engineEnv, inlineStack, newStateDir } from "../support/pulumi";
import { toolPath } from "../support/servers";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..", "..");
const CLUSTER = "dev.k8s.example.com";

/** Every file under `dir`, as text, with the time of writing and the store's own place made alike. */
function comparable(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const e of fs.readdirSync(at, { withFileTypes: true })) {
      const p = path.join(at, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(path.relative(dir, p), fs.readFileSync(p, "utf8").replace(/creationTimestamp: "?[\dT:Z-]+"?/g, "creationTimestamp: T").split(dir).join("STORE"));
    }
  };
  walk(dir);
  return files;
}

describe("a Go program through the provider plugin (a generated SDK, Go's Automation API)", function () {
  this.timeout(900_000);

  it("examples/go writes what the TypeScript example writes; kops reads it; a second preview has nothing to do; destroy takes it", async function () {
    const work = path.join(REPO, ".kstate", "test-work", uniqueName("go"));
    fs.mkdirSync(work, { recursive: true });
    for (const f of ["main.go", "go.mod", "go.sum"]) fs.copyFileSync(path.join(REPO, "examples", "go", f), path.join(work, f));
    const stateDir = newStateDir();
    const env = {
      ...process.env,
      ...engineEnv(stateDir),
      PATH: [path.join(toolPath("pulumi"), "bin"), process.env.PATH].join(path.delimiter),
      GONOSUMDB: "github.com/pulumi",
      GOFLAGS: "-mod=mod",
    };

    // The SDK, from the schema the plugin serves, as `pulumi package add bin/pulumi-resource-kstate` makes it.
    const { stdout: schema } = await run("pulumi", ["package", "get-schema", path.join(REPO, "bin", "pulumi-resource-kstate")], { env, maxBuffer: 16 << 20 });
    fs.writeFileSync(path.join(work, "schema.json"), schema);
    await run(toolPath("sdkgen"), ["go", path.join(work, "schema.json"), path.join(work, "sdk")], { env });
    fs.writeFileSync(path.join(work, "sdk", "go.mod"), "module example.com/pulumi-kstate/sdk/go\n\ngo 1.25.11\n\nrequire github.com/pulumi/pulumi/sdk/v3 v3.248.0\n");
    assert.ok(fs.existsSync(path.join(work, "sdk", "kstate", "clusterConfig.go")));
    await run("go", ["build", "-o", "example", "."], { cwd: work, env, timeout: 600_000 });

    const store = path.join(work, "store");
    const program = async (action: string) => {
      const { stdout } = await run(path.join(work, "example"), [action], { cwd: work, env: { ...env, KSTATE_STORE_URL: `file://${store}`, KSTATE_PLUGIN_DIR: path.join(REPO, "bin") }, maxBuffer: 32 << 20, timeout: 300_000 });
      return JSON.parse(stdout) as { changes: Record<string, number>; outputs?: Record<string, unknown> };
    };
    const up = await program("up");
    assert.deepEqual(up.changes, { create: 3 });
    assert.equal(up.outputs?.configBase, `${store}/${CLUSTER}`);
    const read = await kops(["get", "cluster", CLUSTER, "--state", `file://${store}`, "-o", "yaml"], kopsEnv());
    assert.match(read.stdout, /maxPods: 110/);
    assert.deepEqual((await program("preview")).changes, { same: 3 });

    // The TypeScript example, inline, under the Go program's project and stack names (so the owner recorded is the same).
    const tsStore = path.join(work, "ts-store");
    const example = path.join(REPO, "dist", "examples", "local", "index.js");
    const stack = await inlineStack("kstate-go", "dev", async () => (require(example) as () => Promise<Record<string, unknown>>)());
    await stack.setConfig("kstate-go:storeUrl", { value: `file://${tsStore}` });
    assert.equal((await stack.up()).summary.result, "succeeded");
    const goFiles = comparable(store);
    assert.ok(goFiles.size >= 4, [...goFiles.keys()].join(", "));
    assert.deepEqual(comparable(tsStore), goFiles);

    assert.deepEqual((await program("destroy")).changes, { delete: 3 });
    assert.deepEqual(fs.existsSync(store) ? fs.readdirSync(store) : [], []);
  });
});
