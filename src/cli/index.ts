/**
 * The `kstate` command: `run(argv, io)` returns the exit code, so tests call it with captured
 * streams. bin/kstate.js is a few lines over it.
 */
import { ConflictError, KstateError, PreconditionFailedError } from "../vfs/errors";
import { create, CREATE_HELP } from "./commands/create";
import { edit, EDIT_HELP } from "./commands/edit";
import { APPLY_HELP, applyFiles, EXPORT_HELP, exportCluster } from "./commands/files";
import { get, GET_HELP } from "./commands/get";
import { DELETE_HELP, deleteCluster, history, HISTORY_HELP, rollback } from "./commands/history";
import { migrate, MIGRATE_HELP } from "./commands/migrate";
import { EXIT, type Io, UsageError } from "./io";

export type { Io } from "./io";
export { EXIT } from "./io";

const VERSION: string = (require("../../../package.json") as { version: string }).version;

type Command = (argv: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string; help: string }> = {
  get: { run: get, summary: "print clusters and instance groups (table, yaml, json)", help: GET_HELP },
  create: { run: create, summary: "create a cluster, or merge flags into an existing one", help: CREATE_HELP },
  edit: { run: edit, summary: "edit a cluster or instance group in $EDITOR, validated, conflict-safe", help: EDIT_HELP },
  export: { run: exportCluster, summary: "copy a cluster's files into a folder, for git", help: EXPORT_HELP },
  diff: { run: (argv, io) => applyFiles(argv, io, true), summary: "show what apply -f would change", help: APPLY_HELP },
  apply: { run: (argv, io) => applyFiles(argv, io, false), summary: "make the stored documents what a folder or file says", help: APPLY_HELP },
  history: { run: history, summary: "list a cluster document's stored revisions (bucket versioning)", help: HISTORY_HELP },
  rollback: { run: rollback, summary: "make an old revision the current one, conditionally", help: HISTORY_HELP },
  delete: { run: deleteCluster, summary: "delete a cluster's files (only those kops knows)", help: DELETE_HELP },
  migrate: { run: migrate, summary: "move a cluster's state to another store, verified", help: MIGRATE_HELP },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `Usage: kstate COMMAND [options]

kstate keeps kops cluster state in object storage (s3://, gs://, file://).

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join("\n")}

Run \`kstate COMMAND --help\` for a command's options. The store is --state URL, else
KSTATE_STATE_STORE, else KOPS_STATE_STORE.

Exit codes: 0 success, 1 failure, 2 usage error, 3 conflict, 4 nothing to do.
`;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" && rest[0] !== undefined && COMMANDS[rest[0]]) {
    io.stdout.write(COMMANDS[rest[0]]!.help);
    return EXIT.ok;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "version") {
    io.stdout.write(`kstate ${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`kstate: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`kstate ${name}: ${(e as Error).message}\nRun \`kstate ${name} --help\` for its options.\n`);
      return EXIT.usage;
    }
    if (ConflictError.isInstance(e) || PreconditionFailedError.isInstance(e)) {
      io.stderr.write(`kstate ${name}: ${e.message}\n`);
      return EXIT.conflict;
    }
    io.stderr.write(`kstate ${name}: ${KstateError.isInstance(e) ? e.message : e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failure;
  }
}
