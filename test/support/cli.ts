import { PassThrough } from "node:stream";
import { run } from "../../src/cli";
import type { Io } from "../../src/cli/io";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the kstate CLI in-process with captured streams. With `whileAsked`, the input is given
 * only once the command has asked ("[y/N]") and `whileAsked` has run: what changes while a
 * confirmation waits.
 */
export async function kstate(argv: string[], options: { env?: Record<string, string | undefined>; input?: string; tty?: boolean; whileAsked?: () => Promise<void> } = {}): Promise<CliResult> {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stdout = new PassThrough() as PassThrough & { isTTY?: boolean };
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (options.tty) stdin.isTTY = stdout.isTTY = stderr.isTTY = true;
  let out = "";
  let err = "";
  let asked = false;
  const answer = () => {
    if (asked || options.whileAsked === undefined || !/\[y\/N\]/.test(out + err)) return;
    asked = true;
    void options.whileAsked().then(() => stdin.end(options.input ?? ""));
  };
  stdout.on("data", (c: Buffer) => ((out += c.toString()), answer()));
  stderr.on("data", (c: Buffer) => ((err += c.toString()), answer()));
  if (options.input !== undefined && options.whileAsked === undefined) stdin.end(options.input);
  const io: Io = { stdin, stdout, stderr, env: { ...options.env } };
  const code = await run(argv, io);
  return { code, stdout: out, stderr: err };
}
