/**
 * Run by the package test inside the fresh project, with the Node.js under test:
 * `node deploy.js up|destroy PULUMI_ROOT STORE_URL` runs the project's compiled program
 * (dist/index.js) as an inline program through the project's own @pulumi/pulumi, on the backend
 * that PULUMI_BACKEND_URL names, and prints one JSON line: the versions met and the outputs.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";

/** Reports the Node.js version of the provider process the engine starts for dynamic resources. */
class NodeProbe extends pulumi.dynamic.Resource {
  declare readonly version: pulumi.Output<string>;
  constructor(name: string) {
    const provider: pulumi.dynamic.ResourceProvider = {
      async create() {
        return { id: "node", outs: { version: process.version } };
      },
    };
    super(provider, name, { version: undefined });
  }
}

async function main(): Promise<void> {
  const [op, pulumiRoot, storeUrl] = process.argv.slice(2);
  if ((op !== "up" && op !== "destroy") || !pulumiRoot || !storeUrl) throw new Error("usage: deploy.js up|destroy PULUMI_ROOT STORE_URL");
  const program = (require(path.resolve("dist", "index.js")) as { default: () => Promise<Record<string, unknown>> }).default;
  const stack = await LocalWorkspace.createOrSelectStack({
    projectName: "kstate-package-test",
    stackName: "dev",
    program: async () => ({ ...(await program()), providerNode: new NodeProbe("node").version }),
  }, { workDir: process.cwd(), pulumiCommand: await PulumiCommand.get({ root: pulumiRoot }) });
  await stack.setConfig("storeUrl", { value: storeUrl });
  const versions = { node: process.version, cli: stack.workspace.pulumiVersion };
  if (op === "up") {
    const result = await stack.up();
    const outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
    console.log(JSON.stringify({ ...versions, changes: result.summary.resourceChanges, outputs }));
  } else {
    const result = await stack.destroy();
    await stack.workspace.removeStack("dev");
    console.log(JSON.stringify({ ...versions, changes: result.summary.resourceChanges }));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
