/**
 * The process behind a StackProcess (stack-process.ts): one stack, one operation at a time, its
 * program declaring the ClusterConfigs the request gives.
 */
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig } from "../../src";
import { steady } from "./pulumi";
import type { DeclaredClusters, RunOutput, StackAnswer, StackRequest } from "./stack-process";

let stack: Stack | undefined;
let declared: DeclaredClusters = {};

async function program(): Promise<Record<string, unknown>> {
  const outputs: Record<string, unknown> = {};
  for (const [name, args] of Object.entries(declared)) outputs[name] = new ClusterConfig(name, args).configBase;
  return outputs;
}

async function handle(request: StackRequest): Promise<RunOutput | undefined> {
  if (request.init) {
    const { projectName, stackName, envVars, pulumiRoot } = request.init;
    stack = steady(await LocalWorkspace.createOrSelectStack({ projectName, stackName, program }, {
      pulumiCommand: await PulumiCommand.get({ root: pulumiRoot }), envVars,
    }));
    return undefined;
  }
  declared = request.program ?? {};
  switch (request.op) {
    case "preview": {
      const r = await stack!.preview({ diff: true });
      return { stdout: r.stdout, stderr: r.stderr };
    }
    case "up": {
      const r = await stack!.up();
      return { stdout: r.stdout, stderr: r.stderr, summary: r.summary, outputs: r.outputs };
    }
    case "refresh": {
      const r = await stack!.refresh();
      return { stdout: r.stdout, stderr: r.stderr, summary: r.summary };
    }
    case "destroy": {
      const r = await stack!.destroy();
      return { stdout: r.stdout, stderr: r.stderr, summary: r.summary };
    }
    default:
      throw new Error(`unknown request ${JSON.stringify(request)}`);
  }
}

process.on("message", (request: StackRequest) => {
  handle(request).then(
    (result) => process.send!({ id: request.id, ...(result ? { result } : {}) } satisfies StackAnswer),
    (e: unknown) => process.send!({ id: request.id, error: e instanceof Error ? e.message : String(e) } satisfies StackAnswer),
  );
});
process.on("disconnect", () => process.exit(0));
