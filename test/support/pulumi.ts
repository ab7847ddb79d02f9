/**
 * The real Pulumi CLI (built by scripts/tools.sh) driven through the Automation API, with the
 * local file backend in a temporary folder. Programs run inline; the engine runs kstate's
 * dynamic providers in its own provider process, as `pulumi up` does.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type EngineEvent, LocalWorkspace, type LocalWorkspaceOptions, type PreviewOptions, type PreviewResult, type PulumiFn,
  PulumiCommand, type Stack, type UpOptions, type UpResult,
} from "@pulumi/pulumi/automation";
import * as settings from "@pulumi/pulumi/runtime/settings";
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
 * Every inline program of the suite runs in this one process, and gRPC's Node.js client shares
 * its connections between clients of the same address by default. A program abandoned by an
 * earlier run (a refused preview) can still call its engine's address after that engine has
 * gone, which leaves the shared connection to that port failed and backing off. When a later
 * engine is given the same port, its program's first call fails at once with "14 UNAVAILABLE: No
 * connection established", and the SDK takes that as the engine shutting down: it stops quietly,
 * the program registers nothing, and the run succeeds with every resource deleted. Each client
 * keeping its own connections ends that; a `pulumi up` process runs one program, so users do not
 * meet it.
 */
(settings as unknown as { grpcClientOptions: Record<string, unknown> }).grpcClientOptions["grpc.use_local_subchannel_pool"] = 1;

const STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * Every preview and up must have reached the program's stack resource: a run that did not would
 * otherwise pass for one whose program dropped every resource. Such a run fails here, loudly.
 */
export function steady(stack: Stack): Stack {
  for (const op of ["up", "preview"] as const) {
    const original = stack[op].bind(stack) as (options?: UpOptions & PreviewOptions) => Promise<UpResult | PreviewResult>;
    (stack as unknown as Record<string, unknown>)[op] = async (options: UpOptions & PreviewOptions = {}) => {
      let reached = false;
      const onEvent = (e: EngineEvent) => {
        if (e.resourcePreEvent?.metadata.type === STACK_TYPE) reached = true;
        options.onEvent?.(e);
      };
      const result = await original({ ...options, onEvent });
      if (!reached) throw new Error(`${op} succeeded without the inline program registering its stack: its engine connection failed silently, so the run's deletes are not the program's`);
      return result;
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
