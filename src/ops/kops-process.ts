/**
 * Running the kops binary: its own environment only, every line handed on as it is printed, stopped
 * after a deadline or when a task keeps failing (kops retries a failing task for up to ten
 * minutes, so a failure would otherwise look like a hang).
 */
import { spawn } from "node:child_process";
import type { Environment } from "../vfs";
import { KstateError } from "../vfs/errors";

/** kops ran and failed (exit status, a task that kept failing, or the deadline); what it printed is kept. */
export class KopsFailedError extends KstateError {
  constructor(message: string, readonly output: { stdout: string; stderr: string }) {
    super("KopsFailed", message);
  }
  static override isInstance(e: unknown): e is KopsFailedError { return KstateError.isInstance(e) && e.code === "KopsFailed"; }
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the process was stopped, when it was. */
  stopped?: string;
  /** The signal that ended it, when one did (code is then null). */
  signal?: NodeJS.Signals;
}

/** Runs `file` (kops) with `env` only, lines streamed to `onLine`, stopped after `timeoutMs` or a task failing for `failingTaskMs`. */
export function runKops(file: string, args: string[], env: Environment, options: { timeoutMs: number; failingTaskMs?: number; onLine?: (line: string, stream: "stdout" | "stderr") => void }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    // The cluster is named on the command line: kops refuses KOPS_CLUSTER_NAME beside it.
    const own = Object.entries(env).filter(([k, v]) => v !== undefined && k !== "KOPS_CLUSTER_NAME");
    const child = spawn(file, args, { env: Object.fromEntries(own) as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
    // Stopping kstate stops kops: left alone it would go on changing the cloud as an orphan.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    const out = { stdout: "", stderr: "" };
    let stopped: string | undefined;
    // When each failing task first failed: kops logs every failed attempt, and a task that
    // recovers is not logged again.
    const failingSince = new Map<string, number>();
    const stop = (why: string) => {
      if (stopped) return;
      stopped = why;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    };
    const deadline = setTimeout(() => stop(`stopped after ${Math.round(options.timeoutMs / 1000)} s`), options.timeoutMs);
    // A task has kept failing when, `failingTaskMs` after its first failure, kops has finished no
    // more tasks since its last failure (a task that recovers lets the count go on). The cloud
    // SDK's own retries come first: a 5xx answer reaches kops as a failure minutes later.
    let mostDone = -1;
    let lastFailure = 0;
    let lastProgress = 0;
    let lastError = "";
    const timers: NodeJS.Timeout[] = [];
    const judge = (task: string, since: number) => {
      if (lastProgress > lastFailure) {
        failingSince.delete(task);
        return;
      }
      stop(`stopped: task ${task} kept failing for ${Math.round((Date.now() - since) / 1000)} s (kops retries a failing task for up to ten minutes); the last error: ${lastError}`);
    };
    const taskFailed = (line: string) => {
      const task = /error running task "([^"]+)"/.exec(line)?.[1] ?? line;
      lastFailure = Date.now();
      lastError = line.replace(/^.*?\] /, "");
      if (failingSince.has(task) || options.failingTaskMs === undefined) return;
      const since = Date.now();
      failingSince.set(task, since);
      timers.push(setTimeout(() => judge(task, since), options.failingTaskMs));
    };
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream]!.setEncoding("utf8");
      child[stream]!.on("data", (chunk: string) => {
        out[stream] += chunk;
        const lines = (partial + chunk).split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          if (/error running task/.test(line)) taskFailed(line);
          else {
            // kops's executor counts finished tasks each pass ("Tasks: 111 done / 120 total"): more done is progress.
            const done = Number(/Tasks: (\d+) done/.exec(line)?.[1] ?? -1);
            if (done > mostDone) {
              mostDone = done;
              lastProgress = Date.now();
            }
          }
          options.onLine?.(line, stream);
        }
      });
      child[stream]!.on("end", () => {
        if (partial) options.onLine?.(partial, stream);
      });
    }
    child.on("error", (e) => {
      clearTimeout(deadline);
      for (const t of timers) clearTimeout(t);
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      reject(new KopsFailedError(`${file}: ${e.message}`, out));
    });
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      for (const t of timers) clearTimeout(t);
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve({ code, ...out, ...(stopped ? { stopped } : {}), ...(signal ? { signal } : {}) });
    });
  });
}
