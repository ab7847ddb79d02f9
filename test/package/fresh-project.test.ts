/**
 * kstate as a user gets it: `npm pack`ed, installed from the registry into a fresh project beside
 * the @pulumi/pulumi of the platform under test, compiled by tsc with strict settings and no
 * skipLibCheck, and deployed through the Automation API on a file:// store. On two platforms:
 * the oldest supported (Node.js 20, @pulumi/pulumi 3.248.0, Pulumi CLI 3.248.0) and the newest
 * (Node.js 24, the registry's newest @pulumi/pulumi, the newest CLI the module proxy serves).
 * Every step runs in a child process under the platform's Node.js; scripts/tools.sh builds both
 * CLIs and fetches Node.js 24 (`npm test` does this first).
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toolPath } from "../support/servers";

const REPO = path.resolve(__dirname, "..", "..", "..");
const MANIFEST = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const CLUSTER = "dev.k8s.example.com";

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a failure carries everything it printed. */
function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[file, ...args].join(" ")} (in ${options.cwd}) failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * The environment of a platform's child processes: its node first on PATH (so npm, the CLI's
 * provider launcher and every `node` they start run it), without the npm_* settings `npm test`
 * passes down, which would point npm at this repository.
 */
function platformEnv(node: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD") env[k] = v;
  return { ...env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ""}`, ...extra };
}

interface Platform {
  name: string;
  node: () => string;
  nodeMajor: number;
  /** The exact @pulumi/pulumi version to install. */
  pulumiSdk: (node: string) => Promise<string>;
  cli: "pulumi" | "pulumi-latest";
}

const platforms: Platform[] = [
  {
    name: "oldest supported: Node.js 20, @pulumi/pulumi 3.248.0, Pulumi CLI 3.248.0",
    node: () => process.execPath,
    nodeMajor: 20,
    // kstate's own pin, the floor of its peer range: 3.249 and later need Node.js 22.
    pulumiSdk: async () => MANIFEST.devDependencies["@pulumi/pulumi"]!,
    cli: "pulumi",
  },
  {
    name: "newest: Node.js 24, the newest @pulumi/pulumi, the newest Pulumi CLI",
    node: () => toolPath("node24"),
    nodeMajor: 24,
    pulumiSdk: async (node) => (await run("npm", ["view", "@pulumi/pulumi@latest", "version"], { cwd: os.tmpdir(), env: platformEnv(node) })).stdout.trim(),
    cli: "pulumi-latest",
  },
];

const TSCONFIG = {
  compilerOptions: { strict: true, target: "es2022", module: "nodenext", outDir: "dist", declaration: true },
  files: ["index.ts"],
};

describe("the kstate package in a fresh project", function () {
  this.timeout(600_000);
  let packDir: string;
  let tarball: string;
  let packed: string[];

  before(async function () {
    packDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pack-"));
    const out = await run("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: REPO, env: platformEnv(process.execPath) });
    const [info] = JSON.parse(out.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(packDir, info!.filename);
    packed = info!.files.map((f) => f.path);
  });

  after(function () {
    if (packDir) fs.rmSync(packDir, { recursive: true, force: true });
  });

  it("ships the compiled code, its declarations and the sources its maps name; no tests or benches", function () {
    assert.ok(packed.includes("dist/src/index.js") && packed.includes("dist/src/index.d.ts") && packed.includes("dist/kstate.cjs") && packed.includes("dist/node-forge.cjs"));
    const stray = packed.filter((f) => !/^(package\.json|README\.md|LICENSE|bin\/[^/]+\.js|bin\/pulumi-resource-kstate|dist\/(kstate|node-forge)\.cjs|dist\/src\/.+|src\/.+\.ts|src\/schema\/kops-v[0-9.]+\.json)$/.test(f));
    assert.deepEqual(stray, []);
    assert.deepEqual(packed.filter((f) => /(^|\/)(test|bench|examples)\//.test(f)), []);
    const files = new Set(packed);
    const missing: string[] = [];
    for (const f of packed.filter((p) => p.endsWith(".js"))) {
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(fs.readFileSync(path.join(REPO, f), "utf8"))?.[1];
      if (ref === undefined) continue;
      const map = path.posix.join(path.posix.dirname(f), ref);
      if (!files.has(map)) { missing.push(`${f} -> ${map}`); continue; }
      const { sources } = JSON.parse(fs.readFileSync(path.join(REPO, map), "utf8")) as { sources: string[] };
      for (const s of sources) {
        const source = path.posix.normalize(path.posix.join(path.posix.dirname(map), s));
        if (!files.has(source)) missing.push(`${map} -> ${source}`);
      }
    }
    assert.deepEqual(missing, [], "every source map and every source it names is in the package");
  });

  it("declares only modules its users have: its dependencies, @pulumi/pulumi and Node.js's", function () {
    const allowed = new Set([...Object.keys(MANIFEST.dependencies), ...Object.keys(MANIFEST.peerDependencies)]);
    const strays: string[] = [];
    for (const f of packed.filter((p) => p.endsWith(".d.ts"))) {
      const text = fs.readFileSync(path.join(REPO, f), "utf8");
      for (const m of text.matchAll(/(?:from |import\()"([^".][^"]*)"/g)) {
        const spec = m[1]!;
        const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        if (!spec.startsWith("node:") && !allowed.has(pkg)) strays.push(`${f}: ${spec}`);
      }
    }
    assert.deepEqual(strays, []);
    assert.equal(MANIFEST.dependencies["@pulumi/pulumi"], undefined, "@pulumi/pulumi is the program's, never a nested copy");
  });

  for (const platform of platforms) {
    describe(platform.name, function () {
      let node: string;
      let sdk: string;
      let dir: string;
      let env: NodeJS.ProcessEnv;

      before(async function () {
        node = platform.node();
        const version = (await run(node, ["--version"], { cwd: os.tmpdir(), env: platformEnv(node) })).stdout.trim();
        assert.equal(Number(/^v(\d+)\./.exec(version)?.[1]), platform.nodeMajor, `${node} is ${version}; this platform is Node.js ${platform.nodeMajor}`);
        sdk = await platform.pulumiSdk(node);
        assert.match(sdk, /^3\.\d+\.\d+$/);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-fresh-"));
        const state = path.join(dir, ".state");
        fs.mkdirSync(state);
        env = platformEnv(node, {
          PULUMI_BACKEND_URL: `file://${state}`,
          PULUMI_CONFIG_PASSPHRASE: "kstate-package-test",
          PULUMI_HOME: path.join(state, ".pulumi-home"),
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        });
        fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({
          name: "kstate-fresh-project",
          version: "0.0.0",
          private: true,
          dependencies: { "@pulumi/pulumi": sdk, kstate: `file:${tarball}` },
          devDependencies: { typescript: "~5.9.3" },
        }, null, 2)}\n`);
        fs.writeFileSync(path.join(dir, "tsconfig.json"), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
        fs.copyFileSync(path.join(REPO, "test", "package", "project", "index.ts"), path.join(dir, "index.ts"));
        fs.copyFileSync(path.join(__dirname, "project", "deploy.js"), path.join(dir, "deploy.js"));
      });

      after(function () {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
      });

      it("installs with npm beside the project's @pulumi/pulumi, sharing its one copy", async function () {
        await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, env });
        const installed = (p: string) => JSON.parse(fs.readFileSync(path.join(dir, "node_modules", p, "package.json"), "utf8")) as { version: string };
        assert.equal(installed("@pulumi/pulumi").version, sdk);
        assert.equal(installed("kstate").version, JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version);
        // A nested copy registers resources with another SDK than the program's ("Request message serialization failure").
        assert.equal(fs.existsSync(path.join(dir, "node_modules", "kstate", "node_modules", "@pulumi", "pulumi")), false);
        assert.equal(fs.existsSync(path.join(dir, "node_modules", "@pulumi", "aws")), false, "@pulumi/aws is not installed with kstate");
        assert.equal(fs.existsSync(path.join(dir, "node_modules", "@pulumi", "gcp")), false, "@pulumi/gcp is not installed with kstate");
      });

      it("publishes the providers through one entry holding the four provider objects, and no other provider module", async function () {
        const probe = `
          const entry = require("kstate/providers");
          const hidden = ["serialize", "stack-config", "cluster-update", "planned-documents"].filter((m) => { try { require.resolve("kstate/providers/" + m); return true; } catch (e) { return e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED"; } });
          // Stacks written before the one entry name each provider module: those still load.
          const legacy = ["state-store", "cluster-config", "migration"].map((m) => typeof require("kstate/providers/" + m).provider.create);
          console.log(JSON.stringify({ names: Object.keys(entry).sort(), creates: Object.values(entry).map((p) => typeof p.create), hidden, legacy }));`;
        const out = await run(node, ["-e", probe], { cwd: dir, env });
        assert.deepEqual(JSON.parse(out.stdout.trim().split("\n").pop()!), {
          names: ["clusterConfig", "clusterUpdate", "migration", "stateStore"], creates: ["function", "function", "function", "function"], hidden: [], legacy: ["function", "function", "function"],
        });
      });

      it("runs the installed CLI, whose certificate code ships beside its bundle: a cluster, then a CA signed for it", async function () {
        const bin = path.join(dir, "node_modules", "kstate", "bin", "kstate.js");
        const store = `file://${path.join(dir, "cli-store")}`;
        await run(node, [bin, "create", "cluster", "cli.k8s.local", "--state", store, "--cloud", "aws", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2"], { cwd: dir, env });
        const signed = await run(node, [bin, "create", "keypair", "kubernetes-ca", "--name", "cli.k8s.local", "--state", store, "--generate", "--primary"], { cwd: dir, env });
        assert.match(signed.stdout, /Created kubernetes-ca \d+/);
      });

      it("serves the provider plugin from node_modules/.bin, as a project's Pulumi.yaml names it for other languages", async function () {
        const plugin = path.join(dir, "node_modules", ".bin", "pulumi-resource-kstate");
        assert.ok(fs.existsSync(plugin), "npm links the plugin");
        // The engine starts the plugin with the first node on PATH: this platform's.
        const out = await run(path.join(toolPath(platform.cli), "bin", "pulumi"), ["package", "get-schema", plugin], { cwd: dir, env: { ...env, PATH: [path.dirname(node), env.PATH].join(path.delimiter) } });
        const schema = JSON.parse(out.stdout) as { name: string; version: string; resources: Record<string, unknown> };
        assert.equal(schema.name, "kstate");
        assert.equal(schema.version, MANIFEST.version);
        assert.ok("kstate:index:ClusterConfig" in schema.resources);
      });

      it("compiles with strict settings and no skipLibCheck, outputs at every level of the inputs", async function () {
        assert.equal((TSCONFIG.compilerOptions as Record<string, unknown>).skipLibCheck, undefined);
        await run(node, [path.join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: dir, env });
        assert.ok(fs.existsSync(path.join(dir, "dist", "index.js")));
      });

      it("deploys through the Automation API on a file:// store, then destroys", async function () {
        const cli = toolPath(platform.cli);
        const store = path.join(dir, "store");
        const deploy = async (op: "up" | "destroy") => {
          const out = await run(node, ["deploy.js", op, cli, `file://${store}`], { cwd: dir, env });
          const line = out.stdout.trim().split("\n").pop() ?? "";
          return JSON.parse(line) as { node: string; cli: string; changes: Record<string, number>; outputs?: Record<string, unknown> };
        };
        const up = await deploy("up");
        assert.equal(Number(/^v(\d+)\./.exec(up.node)?.[1]), platform.nodeMajor, "the program's Node.js");
        assert.equal(Number(/^v(\d+)\./.exec(String(up.outputs?.providerNode))?.[1]), platform.nodeMajor, "the provider process's Node.js");
        assert.equal(up.cli, path.basename(cli).replace(/^pulumi-/, ""), "the CLI under test");
        assert.deepEqual(up.changes, { create: 4 }, "stack, StateStore, ClusterConfig and the probe");
        assert.equal(up.outputs?.storeUrl, `file://${store}`);
        assert.equal(up.outputs?.s3Policy, false);
        const config = fs.readFileSync(path.join(store, CLUSTER, "config"), "utf8");
        assert.ok(config.includes(`configBase: ${String(up.outputs?.configBase)}`) && String(up.outputs?.configBase).endsWith(`/store/${CLUSTER}`));
        assert.match(config, /maxPods: 110/);
        assert.match(config, /name: us-east-1b/);
        assert.match(fs.readFileSync(path.join(store, CLUSTER, "instancegroup", "nodes-us-east-1a"), "utf8"), /maxSize: 5/);

        const destroyed = await deploy("destroy");
        assert.deepEqual(destroyed.changes, { delete: 4 });
        assert.equal(fs.existsSync(path.join(store, CLUSTER, "config")), false);
      });
    });
  }
});
