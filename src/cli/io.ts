import type { Readable, Writable } from "node:stream";

/** What a command talks to: given by the shim in bin/, and by tests with captured streams. */
export interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
}

/** The first failure of each guarded output other than a closed reader, by stream. */
const guarded = new WeakMap<Writable, { failure?: Error }>();

/**
 * Makes a failing output harmless while a command runs. A closed reader (`kstate get cluster x |
 * head -1`): the write error is taken and later output goes nowhere. Any other failure (a full disk
 * under `> log`): the same, and the command fails once it has run (`outputFailure`). Either way the
 * command runs to its end, so what it writes to the store never stops halfway because its output
 * did, and never depends on when the reader went away.
 */
export function tolerateClosedOutput(stream: Writable): void {
  if (guarded.has(stream)) return;
  const state: { failure?: Error } = {};
  guarded.set(stream, state);
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") state.failure ??= e;
  });
}

/**
 * The first failure writing to `stream` other than a closed reader. A write's error is emitted
 * after the write returns (process.stdout and stderr write files and pipes synchronously on
 * Linux, and report on the next tick): this waits a turn of the event loop first.
 */
export async function outputFailure(stream: Writable): Promise<Error | undefined> {
  const state = guarded.get(stream);
  if (!state) return undefined;
  await new Promise((done) => setImmediate(done));
  return state.failure;
}

/**
 * `io` with its outputs guarded (`tolerateClosedOutput`) as each is first used, and `env` as its
 * environment: a stream given as a getter (process.stdout: a millisecond to make) is made only
 * when a command prints or looks at it, not before its first request. `made` lists the streams
 * guarded here, for `outputFailure` once the command has run.
 */
export function guardedOutput(io: Io, env = io.env, made: Writable[] = []): Io & { readonly made: Writable[] } {
  const guard = <T extends Writable>(stream: T): T => {
    if (!made.includes(stream)) made.push(stream);
    tolerateClosedOutput(stream);
    return stream;
  };
  return {
    get stdin() {
      return io.stdin;
    },
    get stdout() {
      return guard(io.stdout);
    },
    get stderr() {
      return guard(io.stderr);
    },
    env,
    made,
  };
}

/** Exit codes, the same for every command. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  conflict: 3,
  /** Nothing needed doing (e.g. a migration whose destination already had everything). */
  nothingToDo: 4,
} as const;

export class UsageError extends Error {}

/** Colour only on a terminal, and never with NO_COLOR. */
export function colours(io: Io, stream: "stdout" | "stderr" = "stdout"): { bold(s: string): string; dim(s: string): string; green(s: string): string; red(s: string): string; yellow(s: string): string } {
  const on = io[stream].isTTY === true && io.env.NO_COLOR === undefined && io.env.TERM !== "dumb";
  const wrap = (code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), green: wrap(32), red: wrap(31), yellow: wrap(33) };
}

/** Reads one line from stdin (for confirmations). */
export async function readLine(io: Io): Promise<string> {
  return new Promise((resolve) => {
    let buffer = "";
    const onData = (chunk: Buffer | string) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        done();
        resolve(buffer.slice(0, nl).replace(/\r$/, ""));
      }
    };
    const onEnd = () => {
      done();
      resolve(buffer);
    };
    const done = () => {
      io.stdin.off("data", onData);
      io.stdin.off("end", onEnd);
      io.stdin.pause();
    };
    io.stdin.on("data", onData);
    io.stdin.on("end", onEnd);
    io.stdin.resume();
  });
}

const TAB_STOP = 8;

/**
 * A table as kops prints one (util/pkg/tables: Go's tabwriter with tab stops of 8, one cell of
 * padding, padded with tabs): each column but the last as wide as its widest cell plus one,
 * rounded up to a tab stop, and the rows under the heading sorted by each column in turn (unless
 * `sort: false`: a listing whose order means something, newest first, say).
 */
export function table(heading: readonly string[], rows: readonly (readonly string[])[], options: { sort?: boolean } = {}): string {
  const sorted = options.sort === false ? rows : [...rows].sort((a, b) => {
    for (let i = 0; i < heading.length; i++) {
      const [x, y] = [a[i] ?? "", b[i] ?? ""];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  const lines = [heading, ...sorted];
  const width = (s: string) => [...s].length; // Go counts runes
  const columns = heading.map((_, i) => Math.ceil((Math.max(...lines.map((r) => width(r[i] ?? ""))) + 1) / TAB_STOP) * TAB_STOP);
  return lines.map((r) => heading.map((_, i) => {
    const cell = r[i] ?? "";
    return i === heading.length - 1 ? cell : cell + "\t".repeat(Math.ceil((columns[i]! - width(cell)) / TAB_STOP));
  }).join("")).join("\n") + "\n";
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/**
 * Asks `question` on a terminal; true only for y/yes. Without a terminal it refuses with a usage
 * error pointing at --yes, so scripts never hang on a prompt. On "no" it says nothing was written.
 */
export async function confirm(io: Io, question: string, action: string): Promise<boolean> {
  if (io.stdin.isTTY !== true) throw new UsageError(`refusing to ${action} without confirmation: pass --yes (stdin is not a terminal)`);
  io.stdout.write(`${question} [y/N] `);
  const answer = (await readLine(io)).trim().toLowerCase();
  if (answer === "y" || answer === "yes") return true;
  io.stdout.write("Cancelled: nothing was written.\n");
  return false;
}
