import { PassThrough } from "node:stream";
import { run } from "../../src/cli";
import type { Io } from "../../src/cli/io";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the kstate CLI in-process with captured streams. */
export async function kstate(argv: string[], options: { env?: Record<string, string | undefined>; input?: string; tty?: boolean } = {}): Promise<CliResult> {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stdout = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (options.tty) stdin.isTTY = stdout.isTTY = stderr.isTTY = true;
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  if (options.input !== undefined) stdin.end(options.input);
  const io: Io = { stdin, stdout, stderr, env: { ...options.env } };
  const code = await run(argv, io);
  return { code, stdout: out, stderr: err };
}
