/**
 * `npm run bench:engine`: `pulumi preview` of examples/local beside the same program made of
 * no-op dynamic resources, alternating, through the real CLI and the local backend. What is left
 * between the two is the cost of kstate's providers. Figures go to bench/results/engine.json.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { toolPath } from "../test/support/servers";

const RUNS = Number(process.env.KSTATE_BENCH_RUNS ?? 10);
const REPO = path.resolve(__dirname, "..", "..");
const RESULTS = path.join(REPO, "bench", "results", "engine.json");

const noopProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff() {
    return { changes: false };
  },
  async create(inputs) {
    return { id: "noop", outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
};

/** The shape of examples/local's StateStore, doing nothing. */
class NoopStore extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  constructor(name: string, props: Record<string, unknown>) {
    super(noopProvider, name, { ...props, versioning: undefined, encryption: undefined }, {}, "kstate-bench", "NoopStore");
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(REPO, ".kstate", "bench-"));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bench-engine-"));
  try {
    const envVars = {
      PULUMI_BACKEND_URL: `file://${stateDir}`, PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", PULUMI_HOME: path.join(stateDir, "home"),
    };
    const pulumiCommand = await PulumiCommand.get({ root: toolPath("pulumi") });
    const storeUrl = `file://${path.join(work, "store")}`;
    fs.writeFileSync(path.join(work, "Pulumi.yaml"), "name: kstate-local\nruntime: nodejs\n");
    const local = require(path.join(REPO, "dist", "examples", "local", "index.js")) as () => Promise<Record<string, unknown>>;
    const stacks: Record<string, Stack> = {
      kstate: await LocalWorkspace.createOrSelectStack({ projectName: "kstate-local", stackName: "bench", program: local }, { workDir: work, pulumiCommand, envVars }),
      noop: await LocalWorkspace.createOrSelectStack({
        projectName: "kstate-local", stackName: "bench-noop",
        program: async () => {
          const store = new NoopStore("local", { url: storeUrl, forceDestroy: false });
          return { storeUrl: store.url };
        },
      }, { workDir: work, pulumiCommand, envVars }),
    };
    await stacks.kstate!.setConfig("kstate-local:storeUrl", { value: storeUrl });
    for (const s of Object.values(stacks)) await s.up();

    const times: Record<string, number[]> = { kstate: [], noop: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const [name, stack] of Object.entries(stacks)) {
        const t = process.hrtime.bigint();
        const preview = await stack.preview();
        times[name]!.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (Object.keys(preview.changeSummary).some((k) => k !== "same")) throw new Error(`${name}: preview of an applied stack shows changes`);
      }
      process.stderr.write(`run ${i + 1}/${RUNS}: kstate ${times.kstate!.at(-1)!.toFixed(0)} ms, no-op ${times.noop!.at(-1)!.toFixed(0)} ms\n`);
    }
    const kstateMs = median(times.kstate!);
    const noopMs = median(times.noop!);
    const previous = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, "utf8")) as Record<string, unknown> : {};
    const result = {
      ...previous,
      preview: {
        date: new Date().toISOString(),
        what: "pulumi preview of examples/local (applied, no changes) vs the same program with no-op dynamic resources",
        runs: RUNS,
        kstateMedianMs: Math.round(kstateMs),
        noopMedianMs: Math.round(noopMs),
        overheadRatio: Number((kstateMs / noopMs).toFixed(3)),
        kstateMs: times.kstate!.map(Math.round),
        noopMs: times.noop!.map(Math.round),
      },
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`median preview: kstate ${kstateMs.toFixed(0)} ms, no-op ${noopMs.toFixed(0)} ms, ratio ${(kstateMs / noopMs).toFixed(3)}; wrote ${RESULTS}\n`);
    for (const s of Object.values(stacks)) await s.destroy();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
