/**
 * One timed run of a command-line tool for the latency benchmark: the tool runs under
 * /usr/bin/time (for its own CPU, user + system, children included) in a process group of its
 * own, so a run past its timeout is killed whole; the counting proxy's log of the run gives the
 * requests it made and their longest sequential chain.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type CountingProxy, longestChain } from "../../test/support/counting-proxy";

export interface Command {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface Run {
  wallMs: number;
  cpuMs: number;
  requests: number;
  chain: number;
  /** Requests by method, e.g. { GET: 10, PUT: 1 }. */
  methods: Record<string, number>;
  stdout: string;
}

/** Runs `command`, failing with its output if it exits non-zero or outlives `timeoutMs`. */
export async function measure(name: string, command: Command, proxy: CountingProxy, timeoutMs: number): Promise<Run> {
  const timeFile = path.join(os.tmpdir(), `kstate-latency-time-${process.pid}-${Date.now()}`);
  proxy.take();
  const started = process.hrtime.bigint();
  const child = spawn("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, command.cmd, ...command.args], {
    env: command.env, stdio: ["ignore", "pipe", "pipe"], detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c, s) => resolve([c, s]));
  }).finally(() => clearTimeout(timer));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const log = proxy.take();
  const times = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, "utf8").trim().split("\n") : [];
  fs.rmSync(timeFile, { force: true });
  const what = `${name}: ${command.cmd} ${command.args.join(" ")}`;
  if (timedOut) throw new Error(`${what}: still running after ${timeoutMs / 1000} s, killed\n${stderr}`);
  if (code !== 0) throw new Error(`${what}: exit ${code ?? signal}\n${times.slice(0, -1).join("\n")}\n${stderr}`);
  const [user, system] = (times.at(-1) ?? "").split(/\s+/).map(Number);
  if (!Number.isFinite(user) || !Number.isFinite(system)) throw new Error(`${what}: /usr/bin/time wrote no CPU times (${times.join(" | ")})`);
  const methods: Record<string, number> = {};
  for (const r of log) methods[r.method] = (methods[r.method] ?? 0) + 1;
  return { wallMs, cpuMs: Math.round((user! + system!) * 1000), requests: log.length, chain: longestChain(log), methods, stdout };
}
