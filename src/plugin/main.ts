/**
 * `pulumi-resource-kstate`: the provider plugin the Pulumi engine starts for programs in any
 * language (YAML, Python, Go, …) that use `kstate:index:*` resources. The engine passes its
 * address as the argument; the plugin answers on a port it prints.
 */
import * as pulumi from "@pulumi/pulumi";
import { EngineLog } from "./engine-log";
import { KstateProvider } from "./provider";

const { version } = require("../../../package.json") as { version: string };

export function main(args: string[]): Promise<void> {
  const engine = args.find((a) => !a.startsWith("-"));
  return pulumi.provider.main(new KstateProvider(version, engine ? new EngineLog(engine) : undefined), args);
}
