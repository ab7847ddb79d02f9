/**
 * The `kstate` command: `run(argv, io)` returns the exit code, so tests call it with captured
 * streams. bin/kstate.js is a few lines over it.
 */
import { ConflictError, KstateError, PreconditionFailedError, redact } from "../vfs/errors";
import type * as CreateCommand from "./commands/create";
import type * as EditCommand from "./commands/edit";
import type * as ApplyCommand from "./commands/apply";
import type * as ExportCommand from "./commands/export";
import type * as GetCommand from "./commands/get";
import type * as HistoryCommands from "./commands/history";
import type * as MigrateCommand from "./commands/migrate";
import type * as PullCommand from "./commands/pull";
import type * as RekeyCommand from "./commands/rekey";
import type * as SecretsCommands from "./commands/secrets";
import { ENCRYPTION_FLAGS_HELP, takeEncryptionFlags } from "./encryption-flags";
import { takeConfigFlag } from "./kops-config";
import { EXIT, type Io, tolerateClosedOutput, UsageError } from "./io";

export type { Io } from "./io";
export { EXIT } from "./io";

const VERSION: string = (require("../../../package.json") as { version: string }).version;

type Command = (argv: string[], io: Io) => Promise<number>;

// Each command's module is loaded only when it runs: a single `get` should not pay for the rest.
const load = {
  create: () => require("./commands/create") as typeof CreateCommand,
  edit: () => require("./commands/edit") as typeof EditCommand,
  apply: () => require("./commands/apply") as typeof ApplyCommand,
  export: () => require("./commands/export") as typeof ExportCommand,
  get: () => require("./commands/get") as typeof GetCommand,
  history: () => require("./commands/history") as typeof HistoryCommands,
  migrate: () => require("./commands/migrate") as typeof MigrateCommand,
  pull: () => require("./commands/pull") as typeof PullCommand,
  rekey: () => require("./commands/rekey") as typeof RekeyCommand,
  secrets: () => require("./commands/secrets") as typeof SecretsCommands,
};

const COMMANDS: Record<string, { run: Command; summary: string; help: () => string }> = {
  get: { run: (a, io) => (a[0] === "secrets" ? load.secrets().getSecrets(a, io) : load.get().get(a, io)), summary: "print clusters and instance groups (table, yaml, json)", help: () => `${load.get().GET_HELP}\n${load.secrets().SECRETS_HELP}` },
  create: { run: (a, io) => (a[0] === "secret" ? load.secrets().createSecret(a, io) : load.create().create(a, io)), summary: "create a cluster, or merge flags into an existing one", help: () => `${load.create().CREATE_HELP}\n${load.secrets().SECRETS_HELP}` },
  edit: { run: (a, io) => load.edit().edit(a, io), summary: "edit a cluster or instance group in $EDITOR, validated, conflict-safe", help: () => load.edit().EDIT_HELP },
  export: { run: (a, io) => load.export().exportCluster(a, io), summary: "copy a cluster's files into a folder, for git", help: () => load.export().EXPORT_HELP },
  pull: { run: (a, io) => load.pull().pull(a, io), summary: "merge the store's changes since an export into the folder", help: () => load.pull().PULL_HELP },
  diff: { run: (a, io) => load.apply().applyFiles(a, io, true), summary: "show what apply -f would change", help: () => load.apply().APPLY_HELP },
  apply: { run: (a, io) => load.apply().applyFiles(a, io, false), summary: "make the stored documents what a folder or file says", help: () => load.apply().APPLY_HELP },
  history: { run: (a, io) => load.history().history(a, io), summary: "list a cluster document's stored revisions (bucket versioning)", help: () => load.history().HISTORY_HELP },
  rollback: { run: (a, io) => load.history().rollback(a, io), summary: "make an old revision the current one, conditionally", help: () => load.history().HISTORY_HELP },
  delete: { run: (a, io) => load.history().deleteCluster(a, io), summary: "delete a cluster's files (only those kops knows)", help: () => load.history().DELETE_HELP },
  migrate: { run: (a, io) => load.migrate().migrate(a, io), summary: "move a cluster's state to another store, verified", help: () => load.migrate().MIGRATE_HELP },
  rekey: { run: (a, io) => load.rekey().rekey(a, io), summary: "re-encrypt a cluster's client-side-encrypted files under the current key", help: () => load.rekey().REKEY_HELP },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `Usage: kstate COMMAND [options]

kstate keeps kops cluster state in object storage (s3://, gs://, file://).

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join("\n")}

Run \`kstate COMMAND --help\` for a command's options. The store is --state URL, else
KSTATE_STATE_STORE, else KOPS_STATE_STORE, else kops_state_store in kops's config file
(--config FILE, else ~/.kops.yaml, else ~/.kops/config). A cluster is named as for kops: the
argument, else --name NAME, else KOPS_CLUSTER_NAME.

${ENCRYPTION_FLAGS_HELP}
Exit codes: 0 success, 1 failure, 2 usage error, 3 conflict, 4 nothing to do.
`;
}

const SECRET_VARIABLE = /SECRET|PASSWORD|PASSPHRASE|TOKEN|ACCESS_KEY_ID|CREDENTIAL/i;

/** An error message as printed: URL credentials and signatures hidden, and any secret variable's value. */
function printable(message: string, env: Record<string, string | undefined>): string {
  let out = redact(message);
  const values = [env, process.env].flatMap((e) => Object.entries(e).filter(([k, v]) => SECRET_VARIABLE.test(k) && v !== undefined && v.length >= 4).map(([, v]) => v!));
  for (const v of [...new Set(values)].sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
  return out;
}

export async function run(argv: string[], io: Io): Promise<number> {
  tolerateClosedOutput(io.stdout);
  tolerateClosedOutput(io.stderr);
  const [name, ...rest] = argv;
  if (name === "help" && rest[0] !== undefined && COMMANDS[rest[0]]) {
    io.stdout.write(COMMANDS[rest[0]]!.help());
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
  if (command && (rest.includes("--help") || rest.includes("-h"))) {
    io.stdout.write(command.help());
    return EXIT.ok;
  }
  if (!command) {
    io.stderr.write(`kstate: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const configured = takeConfigFlag(rest, io.env);
    const flagged = takeEncryptionFlags(configured.argv, configured.env);
    return await command.run(flagged.argv, flagged.env === io.env ? io : { ...io, env: flagged.env });
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`kstate ${name}: ${printable((e as Error).message, io.env)}\nRun \`kstate ${name} --help\` for its options.\n`);
      return EXIT.usage;
    }
    if (ConflictError.isInstance(e) || PreconditionFailedError.isInstance(e)) {
      io.stderr.write(`kstate ${name}: ${printable(e.message, io.env)}\n`);
      return EXIT.conflict;
    }
    io.stderr.write(`kstate ${name}: ${printable(KstateError.isInstance(e) ? e.message : e instanceof Error ? e.message : String(e), io.env)}\n`);
    return EXIT.failure;
  }
}
