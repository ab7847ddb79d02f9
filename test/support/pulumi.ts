/**
 * The real Pulumi CLI (built by scripts/tools.sh) driven through the Automation API, with the
 * local file backend in a temporary folder. Programs run inline; the engine runs kstate's
 * dynamic providers in its own provider process, as `pulumi up` does.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type EngineEvent, LocalWorkspace, type LocalWorkspaceOptions, type PulumiFn, PulumiCommand, type Stack,
} from "@pulumi/pulumi/automation";
import { gcsOptions, s3Options } from "./env";
import { MINIO_PASSWORD, MINIO_USER, toolPath } from "./servers";

let command: Promise<PulumiCommand> | undefined;

export function pulumiCommand(): Promise<PulumiCommand> {
  command ??= PulumiCommand.get({ root: toolPath("pulumi"), version: undefined });
  return command;
}

const stateDirs: string[] = [];
process.on("exit", () => {
  for (const d of stateDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Environment for the CLI and the provider processes it starts: local backend, test servers. */
export function engineEnv(stateDir: string): Record<string, string> {
  const s3 = s3Options();
  return {
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "kstate-test-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: path.join(stateDir, ".pulumi-home"),
    S3_ENDPOINT: s3.endpoint!,
    S3_REGION: "us-east-1",
    S3_ACCESS_KEY_ID: MINIO_USER,
    S3_SECRET_ACCESS_KEY: MINIO_PASSWORD,
    STORAGE_EMULATOR_HOST: gcsOptions().endpoint!,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

export function newStateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-pulumi-"));
  stateDirs.push(dir);
  return dir;
}

/**
 * The CLI reaches an inline program through a gRPC server in the test process; under load that
 * connection has, rarely, failed to open ("14 UNAVAILABLE: No connection established") before
 * any resource was registered. Such a run is repeated once, and says so; every other failure
 * stands. A run whose output names a kstate resource got as far as the resources: its failure is
 * the engine's answer (a check that refused, say, after which the abandoned program may also lose
 * its connection), never repeated, since the repeat could meet what the first run left behind.
 */
const NO_CONNECTION = /14 UNAVAILABLE: No connection established/;
const REACHED_RESOURCES = /pulumi-nodejs:dynamic\//;

export function steady(stack: Stack): Stack {
  for (const op of ["up", "preview", "refresh", "destroy"] as const) {
    const original = stack[op].bind(stack) as (...args: unknown[]) => Promise<unknown>;
    (stack as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
      try {
        return await original(...args);
      } catch (e) {
        const text = String(e);
        if (!NO_CONNECTION.test(text) || REACHED_RESOURCES.test(text)) throw e;
        process.stderr.write(`      (${op} repeated: the CLI could not reach the inline program)\n`);
        return original(...args);
      }
    };
  }
  return stack;
}

/** A fresh stack of an inline program, on its own local backend. */
export async function inlineStack(projectName: string, stackName: string, program: PulumiFn, options: LocalWorkspaceOptions = {}): Promise<Stack> {
  const stateDir = newStateDir();
  return steady(await LocalWorkspace.createOrSelectStack({ projectName, stackName, program }, {
    pulumiCommand: await pulumiCommand(),
    envVars: { ...engineEnv(stateDir), ...options.envVars },
    ...options,
  }));
}

/** The engine step (create, update, replace, same, delete, …) taken for each resource of a type. */
export function stepsFor(events: EngineEvent[], type: string): string[] {
  return events.flatMap((e) => {
    const m = e.resOutputsEvent?.metadata ?? e.resourcePreEvent?.metadata;
    return m && m.type === type && e.resourcePreEvent ? [m.op] : [];
  });
}

export const STATE_STORE_TYPE = "pulumi-nodejs:dynamic/kstate:StateStore";
