/**
 * A Pulumi stack whose program declares ClusterConfigs given as data, run by a node process of its
 * own. Tests that run stacks side by side use these: the Node.js SDK keeps a run's connection to
 * its engine in async-local state with a process-wide fallback, and two inline programs running at
 * once in one process have lost registrations that way (a ClusterConfig still declared was
 * deleted; another run's registration got "Resource monitor is terminating"). One run per process
 * at a time is the SDK's own setting; the child (stack-process-child.ts) makes its stack with
 * `steady` as inlineStack does.
 */
import { type ChildProcess, fork } from "node:child_process";
import * as path from "node:path";
import type { ClusterConfigArgs } from "../../src";
import { engineEnv, newStateDir } from "./pulumi";
import { toolPath } from "./servers";

/** What the program declares: ClusterConfig resource name → its arguments. */
export type DeclaredClusters = Record<string, ClusterConfigArgs>;

export interface RunOutput {
  stdout: string;
  stderr: string;
  summary?: { result: string; resourceChanges?: Record<string, number> };
  outputs?: Record<string, { value: unknown; secret: boolean }>;
}

/** A request to the child, and its answer. */
export type StackOp = "preview" | "up" | "refresh" | "destroy";
export interface StackRequest {
  id: number;
  init?: { projectName: string; stackName: string; envVars: Record<string, string>; pulumiRoot: string };
  op?: StackOp;
  program?: DeclaredClusters;
}
export interface StackAnswer {
  id: number;
  result?: RunOutput;
  error?: string;
}

const CHILD = path.join(__dirname, "stack-process-child.js");
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

export class StackProcess {
  /** What the next operation's program declares. */
  program: DeclaredClusters = {};
  private next = 1;
  private readonly waiting = new Map<number, { resolve(r: RunOutput): void; reject(e: Error): void }>();
  private log = "";

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.stderr?.on("data", (c: Buffer) => (this.log = (this.log + c.toString()).slice(-4000)));
    child.on("message", (m: StackAnswer) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m.result!);
    });
    child.on("exit", (code, signal) => {
      running.delete(child);
      for (const w of this.waiting.values()) w.reject(new Error(`the stack's process ended (${signal ?? code}) during an operation:\n${this.log}`));
      this.waiting.clear();
    });
  }

  /** A fresh stack on its own local backend, in a new process. */
  static async start(projectName: string, stackName: string, envVars: Record<string, string> = {}): Promise<StackProcess> {
    const child = fork(CHILD, [], { stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: [] });
    running.add(child);
    const stack = new StackProcess(child, stackName);
    await stack.send({ init: { projectName, stackName, envVars: { ...engineEnv(newStateDir()), ...envVars }, pulumiRoot: toolPath("pulumi") } });
    return stack;
  }

  preview(): Promise<RunOutput> {
    return this.send({ op: "preview", program: this.program });
  }

  up(): Promise<RunOutput> {
    return this.send({ op: "up", program: this.program });
  }

  refresh(): Promise<RunOutput> {
    return this.send({ op: "refresh", program: this.program });
  }

  destroy(): Promise<RunOutput> {
    return this.send({ op: "destroy", program: this.program });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const ended = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.disconnect();
    await ended;
  }

  private send(request: Omit<StackRequest, "id">): Promise<RunOutput> {
    const id = this.next++;
    return new Promise<RunOutput>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, ...request } satisfies StackRequest);
    });
  }
}
