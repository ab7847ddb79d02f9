/**
 * Running the kops binary: its own environment only, every line handed on as it is printed, stopped
 * after a deadline or when a task keeps failing (kops retries a failing task for up to ten
 * minutes, so a failure would otherwise look like a hang).
 */
import { spawn } from "node:child_process";
import type { Environment } from "../vfs";

/** kops ran and failed (exit status, a task that kept failing, or the deadline); what it printed is kept. */
export class KopsFailedError extends Error {
  override readonly name = "KopsFailedError";
  constructor(message: string, readonly output: { stdout: string; stderr: string }) {
    super(message);
  }
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the process was stopped, when it was. */
  stopped?: string;
}

/** Runs `file` (kops) with `env` only, lines streamed to `onLine`, stopped after `timeoutMs` or a task failing for `failingTaskMs`. */
export function runKops(file: string, args: string[], env: Environment, options: { timeoutMs: number; failingTaskMs?: number; onLine?: (line: string, stream: "stdout" | "stderr") => void }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
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
    const taskFailed = (line: string) => {
      const task = /error running task "([^"]+)"/.exec(line)?.[1] ?? line;
      const since = failingSince.get(task) ?? Date.now();
      failingSince.set(task, since);
      if (options.failingTaskMs !== undefined && Date.now() - since >= options.failingTaskMs) {
        stop(`stopped: task ${task} kept failing for ${Math.round((Date.now() - since) / 1000)} s (kops retries a failing task for up to ten minutes); its last error: ${line.replace(/^.*?\] /, "")}`);
      }
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
          options.onLine?.(line, stream);
        }
      });
      child[stream]!.on("end", () => {
        if (partial) options.onLine?.(partial, stream);
      });
    }
    child.on("error", (e) => {
      clearTimeout(deadline);
      reject(new KopsFailedError(`${file}: ${e.message}`, out));
    });
    child.on("close", (code) => {
      clearTimeout(deadline);
      resolve({ code, ...out, ...(stopped ? { stopped } : {}) });
    });
  });
}
