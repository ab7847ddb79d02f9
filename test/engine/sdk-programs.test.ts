/**
 * kstate from Go and Python programs: examples/go and examples/python, each with an SDK that
 * tools/sdkgen writes from the schema the provider plugin serves (as `pulumi package add` would),
 * run inline through its language's Automation API with the real Pulumi CLI and the plugin. Each
 * writes the same files as the TypeScript example with the same settings, the real kops reads
 * them, a second preview has nothing to do, and destroy takes what it made.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { uniqueName } from "../support/env";
import { kops, kopsEnv } from "../support/kops";
import { assertSameAsTypescript } from "../support/other-languages";
import { engineEnv, newStateDir } from "../support/pulumi";
import { toolPath } from "../support/servers";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..", "..");
const CLUSTER = "dev.k8s.example.com";

interface Language {
  /** The example's files, copied into the work folder. */
  files: string[];
  /** Builds the program in `work` (the SDK is in `work/sdk`); the command that runs it. */
  prepare(work: string, env: NodeJS.ProcessEnv): Promise<[string, string[]]>;
}

const LANGUAGES: Record<"go" | "python", Language> = {
  go: {
    files: ["main.go", "go.mod", "go.sum"],
    async prepare(work, env) {
      fs.writeFileSync(path.join(work, "sdk", "go.mod"), "module example.com/pulumi-kstate/sdk/go\n\ngo 1.25.11\n\nrequire github.com/pulumi/pulumi/sdk/v3 v3.248.0\n");
      await run("go", ["build", "-o", "example", "."], { cwd: work, env: { ...env, GONOSUMDB: "github.com/pulumi", GOFLAGS: "-mod=mod" }, timeout: 600_000 });
      return [path.join(work, "example"), []];
    },
  },
  python: {
    files: ["run.py", "Pulumi.yaml"],
    async prepare(work, env) {
      const python = toolPath("pulumi-python");
      // Installed beside the program rather than into the shared virtualenv (the SDK reads its own version from its metadata).
      await run(python, ["-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", path.join(work, "lib"), path.join(work, "sdk")], { cwd: work, env, timeout: 300_000 });
      const settings = path.join(work, "Pulumi.yaml");
      fs.writeFileSync(settings, fs.readFileSync(settings, "utf8").replace("path: ../../bin", `path: ${path.join(REPO, "bin")}`));
      env.PYTHONPATH = path.join(work, "lib");
      return [python, [path.join(work, "run.py")]];
    },
  },
};

for (const [language, spec] of Object.entries(LANGUAGES)) {
  describe(`a ${language === "go" ? "Go" : "Python"} program through the provider plugin (a generated SDK, the Automation API)`, function () {
    this.timeout(900_000);

    it(`examples/${language} writes what the TypeScript example writes; kops reads it; a second preview has nothing to do; destroy takes it`, async function () {
      const work = path.join(REPO, ".kstate", "test-work", uniqueName(language));
      fs.mkdirSync(work, { recursive: true });
      for (const f of spec.files) fs.copyFileSync(path.join(REPO, "examples", language, f), path.join(work, f));
      const env: NodeJS.ProcessEnv = { ...process.env, ...engineEnv(newStateDir()), PATH: [path.join(toolPath("pulumi"), "bin"), process.env.PATH].join(path.delimiter) };

      // The SDK, from the schema the plugin serves, as `pulumi package add bin/pulumi-resource-kstate` makes it.
      const { stdout: schema } = await run("pulumi", ["package", "get-schema", path.join(REPO, "bin", "pulumi-resource-kstate")], { env, maxBuffer: 16 << 20 });
      fs.writeFileSync(path.join(work, "schema.json"), schema);
      await run(toolPath("sdkgen"), [language, path.join(work, "schema.json"), path.join(work, "sdk")], { env });
      const [command, args] = await spec.prepare(work, env);

      const store = path.join(work, "store");
      const program = async (action: string) => {
        const { stdout } = await run(command, [...args, action], { cwd: work, env: { ...env, KSTATE_STORE_URL: `file://${store}`, KSTATE_PLUGIN_DIR: path.join(REPO, "bin") }, maxBuffer: 32 << 20, timeout: 300_000 });
        return JSON.parse(stdout) as { changes: Record<string, number>; outputs?: Record<string, unknown> };
      };
      const up = await program("up");
      assert.deepEqual(up.changes, { create: 3 });
      assert.equal(up.outputs?.configBase, `${store}/${CLUSTER}`);
      const read = await kops(["get", "cluster", CLUSTER, "--state", `file://${store}`, "-o", "yaml"], kopsEnv());
      assert.match(read.stdout, /maxPods: 110/);
      assert.deepEqual((await program("preview")).changes, { same: 3 });

      await assertSameAsTypescript(store, `kstate-${language}`, "dev");

      assert.deepEqual((await program("destroy")).changes, { delete: 3 });
      assert.deepEqual(fs.existsSync(store) ? fs.readdirSync(store) : [], []);
    });
  });
}
