/**
 * kops's API types as a user of the packed package meets them: programs compiled by tsc with
 * strict settings and no skipLibCheck in a fresh project where `kstate` is the `npm pack`ed
 * tarball. A misspelt or mistyped field of `spec` or of an instance group is a compile error at
 * that field; values, outputs and promises at every level compile; so do the examples. One tsc
 * run checks every program (each a file of its own), and each file's errors are compared.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..", "..");
const MANIFEST = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { devDependencies: Record<string, string> };

/** A program that compiles: values, outputs and promises at several levels, nulls that remove fields. */
const GOOD = `import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, type ClusterSpec, type InstanceGroupSpec, KOPS_VERSION, type kops, type PartInput } from "kstate";

const maxPods: pulumi.Output<number> = pulumi.output(110);
const kubelet: PartInput<kops.KubeletConfigSpec> = { maxPods, anonymousAuth: null };
const group: PartInput<InstanceGroupSpec> = { maxSize: 5, nodeLabels: { team: "a", retired: null } };
const spec: PartInput<ClusterSpec> = { kubelet, kubernetesVersion: "v1.30.2" };
export const version: string = KOPS_VERSION;

export const a = new ClusterConfig("a", {
  store: "file:///tmp/kstate-store",
  name: "a.k8s.example.com",
  spec: {
    kubelet: { maxPods, cpuCFSQuota: Promise.resolve(false) },
    kubeProxy: pulumi.output({ enabled: false }),
    cloudLabels: { team: pulumi.output("a"), retired: null },
    etcdClusters: [{ name: "main", memoryRequest: "512Mi", cpuRequest: 1, etcdMembers: [{ name: "a", instanceGroup: "control-plane-us-east-1a" }] }],
    subnets: pulumi.output([{ name: "us-east-1a", zone: "us-east-1a", type: "Private" }]),
    kubeControllerManager: { horizontalPodAutoscalerSyncPeriod: "1m30s" },
    sshAccess: ["10.0.0.0/8", pulumi.output("192.168.0.0/16")],
    networking: { kubenet: {} },
  },
  instanceGroups: {
    "nodes-us-east-1a": pulumi.output({ maxSize: 5, minSize: 1 }),
    "nodes-us-east-1b": group,
    gpu: { role: "Node", machineType: pulumi.output("p3.2xlarge"), rootVolumeSize: 100, subnets: ["us-east-1a"], kubelet, manager: "Karpenter" },
    // A value kops names completes, yet any string is taken (kops takes others).
    spot: { manager: "a-manager-of-our-own", taints: ["spot=true:NoSchedule"] },
  },
});

export const b = new ClusterConfig("b", {
  store: "file:///tmp/kstate-store",
  name: "b.k8s.example.com",
  spec: pulumi.output(spec),
  instanceGroups: pulumi.output({ nodes: { maxSize: 3 } }),
});
`;

interface Refused {
  name: string;
  /** The program's \`spec\` and \`instanceGroups\`. */
  args: string;
  /** The field the one error is reported at. */
  at: string;
  message: RegExp;
}

const REFUSED: Refused[] = [
  { name: "spec.kubelet.maxPods given a string", args: `spec: { kubelet: { maxPods: "abc" } }`, at: "maxPods", message: /Type 'string' is not assignable to type/ },
  { name: "a misspelt instance group field, rootVolumeSise", args: `instanceGroups: { nodes: { rootVolumeSise: 30 } }`, at: "rootVolumeSise", message: /'rootVolumeSise' does not exist in type/ },
  { name: "a misspelt field in a named list item", args: `spec: { subnets: [{ name: "us-east-1a", zoen: "us-east-1a" }] }`, at: "zoen", message: /'zoen' does not exist in type/ },
  { name: "a map of strings given a number", args: `instanceGroups: { nodes: { nodeLabels: { team: 1 } } }`, at: "team", message: /Type 'number' is not assignable to type/ },
  { name: "a value kops does not take for an enum", args: `instanceGroups: { nodes: { role: "Nodes" } }`, at: "role", message: /Type '"Nodes"' is not assignable to type/ },
  { name: "null for a field kops requires (it cannot be removed)", args: `instanceGroups: { nodes: { role: null } }`, at: "role", message: /Type 'null' is not assignable to type/ },
  { name: "a field in a struct kops gives none", args: `spec: { networking: { kubenet: { mtu: 1500 } } }`, at: "mtu", message: /Type 'number' is not assignable to type/ },
  { name: "a misspelt field under an output", args: `spec: { kubelet: { maxPods: pulumi.output(110), maxPodz: 1 } }`, at: "maxPodz", message: /'maxPodz' does not exist in type/ },
];

const refusedProgram = (c: Refused) => `import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "kstate";

export const cluster = new ClusterConfig("c", { store: "file:///tmp/kstate-store", name: "c.k8s.example.com", ${c.args} });
`;

const TSCONFIG = {
  compilerOptions: { strict: true, target: "es2022", module: "nodenext", noEmit: true },
  include: ["**/*.ts"],
  exclude: ["node_modules"],
};

interface Diagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Runs a command; resolves with what it printed and its exit code. */
function run(file: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const env: NodeJS.ProcessEnv = {};
  // Without the npm_* settings `npm test` passes down, which would point npm at this repository.
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD") env[k] = v;
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error ? (typeof error.code === "number" ? error.code : 1) : 0 });
    });
  });
}

async function mustRun(file: string, args: string[], cwd: string): Promise<string> {
  const r = await run(file, args, cwd);
  if (r.code !== 0) throw new Error(`${[file, ...args].join(" ")} (in ${cwd}) failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** tsc's `--pretty false` lines: `file(line,col): error TSnnnn: message`, indented lines continuing it. */
function parseDiagnostics(out: string): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const line of out.split("\n")) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (m) found.push({ file: m[1]!.split(path.sep).join("/"), line: Number(m[2]), column: Number(m[3]), message: m[4]! });
    else if (line.startsWith(" ") && found.length > 0) found[found.length - 1]!.message += `\n${line}`;
    else if (line.trim() !== "") throw new Error(`tsc printed a line that is no diagnostic: ${line}`);
  }
  return found;
}

/** The 1-based line and column of the one place `token` is in `text`. */
function positionOf(text: string, token: string): { line: number; column: number } {
  const at = text.indexOf(token);
  assert.ok(at >= 0 && text.indexOf(token, at + 1) < 0, `${token} is in the program once`);
  const before = text.slice(0, at).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function examples(dir = path.join(REPO, "examples"), base = ""): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? examples(path.join(dir, e.name), `${base}${e.name}/`) : e.name.endsWith(".ts") ? [`${base}${e.name}`] : []);
}

describe("kops's API types in a program (the packed package, strict tsc)", function () {
  this.timeout(600_000);
  let dir: string;
  let diagnostics: Diagnostic[];
  const sources = new Map<string, string>();

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-kops-types-"));
    const out = await mustRun("npm", ["pack", "--json", "--pack-destination", dir], REPO);
    const [info] = JSON.parse(out) as { filename: string }[];
    fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({
      name: "kstate-kops-types",
      version: "0.0.0",
      private: true,
      dependencies: { "@pulumi/pulumi": MANIFEST.devDependencies["@pulumi/pulumi"], kstate: `file:./${info!.filename}` },
      devDependencies: { typescript: MANIFEST.devDependencies.typescript, "@types/node": MANIFEST.devDependencies["@types/node"] },
    }, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, "tsconfig.json"), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    sources.set("good.ts", GOOD);
    REFUSED.forEach((c, i) => sources.set(`refused-${i}.ts`, refusedProgram(c)));
    for (const e of examples()) sources.set(`examples/${e}`, fs.readFileSync(path.join(REPO, "examples", e), "utf8"));
    for (const [file, text] of sources) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    await mustRun("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], dir);
    const tsc = await run(process.execPath, [path.join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", ".", "--pretty", "false"], dir);
    diagnostics = parseDiagnostics(tsc.stdout);
    assert.equal(tsc.code === 0, diagnostics.length === 0, `tsc's exit code ${tsc.code} and its ${diagnostics.length} errors agree\n${tsc.stdout}${tsc.stderr}`);
  });

  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const errorsIn = (file: string) => diagnostics.filter((d) => d.file === file);

  it("a program with values, outputs and promises at several levels compiles", function () {
    assert.deepEqual(errorsIn("good.ts"), []);
  });

  it("every example compiles", function () {
    const files = [...sources.keys()].filter((f) => f.startsWith("examples/"));
    assert.ok(files.includes("examples/local/index.ts") && files.includes("examples/run.ts"), files.join(", "));
    for (const file of files) assert.deepEqual(errorsIn(file), [], file);
  });

  REFUSED.forEach((c, i) => {
    it(`refuses ${c.name}, at the field`, function () {
      const file = `refused-${i}.ts`;
      const errors = errorsIn(file);
      assert.equal(errors.length, 1, `one error in ${c.args}:\n${errors.map((e) => e.message).join("\n")}`);
      assert.deepEqual({ line: errors[0]!.line, column: errors[0]!.column }, positionOf(sources.get(file)!, c.at), errors[0]!.message);
      assert.match(errors[0]!.message, c.message);
    });
  });

  it("reports nothing in files other than the programs", function () {
    assert.deepEqual(diagnostics.filter((d) => !sources.has(d.file)), []);
  });
});
