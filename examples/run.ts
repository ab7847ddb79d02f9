/**
 * Runs one of the examples with the Pulumi CLI through the Automation API and the local file
 * backend: `node dist/examples/run.js <example> [up|preview|refresh|destroy] [--stack NAME]`.
 * `npm start` runs `local up`. The program runs inline, so no Node.js language host is needed.
 *
 * Environment: PULUMI_BACKEND_URL (default: a folder under .kstate/ in the working directory),
 * PULUMI_CONFIG_PASSPHRASE (default empty: the local example keeps no secrets),
 * KSTATE_PULUMI_ROOT (a folder with bin/pulumi; default: the one scripts/tools.sh built).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { openPath, resolveStoreSettings } from "kstate/vfs";

const REPO = path.resolve(__dirname, "..", "..");
const ACTIONS = ["up", "preview", "refresh", "destroy"] as const;
type Action = (typeof ACTIONS)[number];

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: node dist/examples/run.js <${fs.readdirSync(path.join(REPO, "examples")).filter((e) => fs.existsSync(path.join(REPO, "examples", e, "Pulumi.yaml"))).join("|")}> [${ACTIONS.join("|")}] [--stack NAME]\n`);
  process.exit(2);
}

function pulumiRoot(): string {
  if (process.env.KSTATE_PULUMI_ROOT) return process.env.KSTATE_PULUMI_ROOT;
  return execFileSync(path.join(REPO, "scripts", "tools.sh"), ["path", "pulumi"], { encoding: "utf8" }).trim();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stackAt = args.indexOf("--stack");
  const stackName = stackAt >= 0 ? args.splice(stackAt, 2)[1] : "dev";
  const [example, actionArg = "up"] = args;
  if (!example) usage("which example?");
  if (!stackName) usage("--stack needs a name");
  const workDir = path.join(REPO, "examples", example);
  if (!fs.existsSync(path.join(workDir, "Pulumi.yaml"))) usage(`no example named ${JSON.stringify(example)}`);
  if (!(ACTIONS as readonly string[]).includes(actionArg)) usage(`unknown action ${JSON.stringify(actionArg)}`);
  const action = actionArg as Action;

  const backendDir = path.resolve(".kstate", "pulumi-backend");
  fs.mkdirSync(backendDir, { recursive: true, mode: 0o700 });
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL ?? `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  const programModule = path.join(__dirname, example, "index.js");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName: readProjectName(workDir), program: async () => (require(programModule) as () => Promise<Record<string, unknown>>)() },
    { workDir, pulumiCommand: await PulumiCommand.get({ root: pulumiRoot() }), envVars },
  );
  const onOutput = (s: string) => process.stdout.write(s);
  switch (action) {
    case "preview": await stack.preview({ onOutput }); return;
    case "refresh": await stack.refresh({ onOutput }); return;
    case "destroy": await stack.destroy({ onOutput }); return;
    case "up": {
      const result = await stack.up({ onOutput });
      const changes = Object.entries(result.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
      process.stdout.write(changes.length === 0 ? "\nNo changes: the store is as the program says.\n" : `\nChanges applied: ${changes.map(([op, n]) => `${n} ${PAST[op] ?? op}`).join(", ")}.\n`);
      const storeUrl = result.outputs.storeUrl?.value;
      if (typeof storeUrl === "string") await printStore(storeUrl);
    }
  }
}

const PAST: Record<string, string> = { create: "created", update: "updated", delete: "deleted", replace: "replaced" };

function readProjectName(workDir: string): string {
  const match = /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(workDir, "Pulumi.yaml"), "utf8"));
  if (!match) throw new Error(`${workDir}/Pulumi.yaml has no name`);
  return match[1]!;
}

/** What the store holds now, as a user would want to see after an up. */
async function printStore(url: string): Promise<void> {
  const files = await openPath(url, resolveStoreSettings({}, process.env)).listTree();
  process.stdout.write(`\nThe store ${url} holds ${files.length} file${files.length === 1 ? "" : "s"}${files.length ? ":" : "."}\n`);
  for (const f of files) process.stdout.write(`  ${f.path} (${f.size} bytes)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
