/**
 * A ClusterConfig program run through the Automation API in a process of its own, so that
 * test/reliability/crash.test.ts can SIGKILL it (with the `pulumi` CLI and the dynamic provider
 * it starts) at a random point of an update.
 *
 *   node dist/test/reliability/crash-program.js '<json: { store, stack, variant, op }>'
 *
 * The environment is the engine's (test/support/pulumi.ts engineEnv: local backend, test
 * servers). `variant` (0 or 1) picks one of two settings that change the config and every
 * instance group; `op` is up, refresh, cancel or export. Prints one line `RESULT <json>` and exits 0, or
 * prints the error and exits 1.
 */
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { ClusterConfig } from "../../src";

export const CRASH_CLUSTER = "crash.k8s.example.com";
export const CRASH_PROJECT = "kstate-crash";

/** The two settings trials alternate between: config, control plane and node groups all change. */
export function crashArgs(store: string, variant: number) {
  const v = variant % 2;
  return {
    store,
    name: CRASH_CLUSTER,
    options: {
      zones: ["us-east-1a", "us-east-1b"],
      cloud: "aws",
      kubernetesVersion: v === 0 ? "v1.30.2" : "v1.30.3",
      nodeSize: v === 0 ? "m5.large" : "m5.xlarge",
      controlPlaneSize: v === 0 ? "m5.xlarge" : "m5.2xlarge",
    },
    spec: { kubelet: { maxPods: v === 0 ? 110 : 120 } },
  };
}

export interface CrashRequest {
  store: string;
  stack: string;
  variant: number;
  op: "up" | "refresh" | "cancel" | "export";
  /** The Pulumi CLI's folder (scripts/tools.sh path pulumi, dirname twice). */
  pulumiRoot: string;
}

export async function runCrashOp(req: CrashRequest, envVars: Record<string, string>): Promise<unknown> {
  const stack = await LocalWorkspace.createOrSelectStack({
    projectName: CRASH_PROJECT,
    stackName: req.stack,
    program: async () => {
      const c = new ClusterConfig("crash", crashArgs(req.store, req.variant));
      return { configBase: c.configBase };
    },
  }, { pulumiCommand: await PulumiCommand.get({ root: req.pulumiRoot }), envVars });
  switch (req.op) {
    case "up": {
      const r = await stack.up();
      return { summary: r.summary.result, changes: r.summary.resourceChanges };
    }
    case "refresh": {
      const r = await stack.refresh();
      return { summary: r.summary.result, changes: r.summary.resourceChanges };
    }
    case "cancel":
      await stack.cancel();
      return {};
    case "export":
      return stack.exportStack();
  }
}

if (require.main === module) {
  const req = JSON.parse(process.argv[2] ?? "{}") as CrashRequest;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  runCrashOp(req, env).then((result) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    process.exit(0);
  }, (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
