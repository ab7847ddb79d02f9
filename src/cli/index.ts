/**
 * The `kstate` command: `run(argv, io)` returns the exit code, so tests call it with captured
 * streams. bin/kstate.js is a few lines over it.
 */
import { ConflictError, KstateError, PreconditionFailedError, hideSecrets } from "../vfs/errors";
import type * as CreateCommand from "./commands/create";
import type * as DeleteCommand from "./commands/delete";
import type * as EditCommand from "./commands/edit";
import type * as EncryptionCommand from "./commands/encryption";
import type * as ApplyCommand from "./commands/apply";
import type * as ExportCommand from "./commands/export";
import type * as GetCommand from "./commands/get";
import type * as HistoryCommands from "./commands/history";
import type * as KeypairCommands from "./commands/keypairs";
import type * as InstanceGroupCommands from "./commands/instance-group";
import type * as MigrateCommand from "./commands/migrate";
import type * as PullCommand from "./commands/pull";
import type * as RekeyCommand from "./commands/rekey";
import type * as SecretsCommands from "./commands/secrets";
import type * as SshPublicKeyCommands from "./commands/ssh-public-key";
import type * as UpdateCommand from "./commands/update";
import { ENCRYPTION_FLAGS_HELP, takeEncryptionFlags } from "./encryption-flags";
import { takeConfigFlag } from "./kops-config";
import { EXIT, guardedOutput, type Io, outputFailure, UsageError } from "./io";

export type { Io } from "./io";
export { EXIT } from "./io";

const VERSION: string = (require("../../../package.json") as { version: string }).version;

type Run = (argv: string[], io: Io) => Promise<number>;

// Each command's module is loaded only when it runs: a single `get` should not pay for the rest.
const load = {
  create: () => require("./commands/create") as typeof CreateCommand,
  delete: () => require("./commands/delete") as typeof DeleteCommand,
  edit: () => require("./commands/edit") as typeof EditCommand,
  encryption: () => require("./commands/encryption") as typeof EncryptionCommand,
  apply: () => require("./commands/apply") as typeof ApplyCommand,
  export: () => require("./commands/export") as typeof ExportCommand,
  get: () => require("./commands/get") as typeof GetCommand,
  history: () => require("./commands/history") as typeof HistoryCommands,
  keypairs: () => require("./commands/keypairs") as typeof KeypairCommands,
  instanceGroup: () => require("./commands/instance-group") as typeof InstanceGroupCommands,
  migrate: () => require("./commands/migrate") as typeof MigrateCommand,
  pull: () => require("./commands/pull") as typeof PullCommand,
  rekey: () => require("./commands/rekey") as typeof RekeyCommand,
  secrets: () => require("./commands/secrets") as typeof SecretsCommands,
  sshPublicKey: () => require("./commands/ssh-public-key") as typeof SshPublicKeyCommands,
  update: () => require("./commands/update") as typeof UpdateCommand,
};

interface Command {
  /** The word that names it, and the subcommands it takes (`get secrets`), aliases left out. */
  name: string;
  subcommands?: readonly string[];
  summary: string;
  help(): string;
  run: Run;
}

/**
 * Every command and subcommand, in the order `kstate --help` lists them. `kstate NAME SUB` runs
 * the entry whose subcommands hold SUB, else the first entry of that NAME (which refuses a SUB it
 * does not know).
 */
const COMMANDS: readonly Command[] = [
  { name: "get", subcommands: ["clusters", "cluster", "ig", "all"], summary: "print clusters and instance groups (tables as kops prints them, yaml, json)", help: () => load.get().GET_HELP, run: (a, io) => load.get().get(a, io) },
  { name: "get", subcommands: ["secrets"], summary: "list a cluster's secrets: names and hashes, values only with --reveal", help: () => load.secrets().GET_SECRETS_HELP, run: (a, io) => load.secrets().getSecrets(a, io) },
  { name: "get", subcommands: ["keypairs", "keypair"], summary: "list a cluster's keypairs as kops get keypairs does (never key material)", help: () => load.keypairs().GET_KEYPAIRS_HELP, run: (a, io) => load.keypairs().getKeypairs(a, io) },
  { name: "get", subcommands: ["sshpublickeys", "sshpublickey", "ssh"], summary: "list a cluster's admin SSH keys (kops's table, yaml, json)", help: () => load.sshPublicKey().GET_SSH_KEYS_HELP, run: (a, io) => load.sshPublicKey().getSshPublicKeys(a, io) },
  { name: "create", subcommands: ["cluster"], summary: "create a cluster, or merge flags into an existing one", help: () => load.create().CREATE_HELP, run: (a, io) => load.create().create(a, io) },
  { name: "create", subcommands: ["ig", "instancegroup"], summary: "add an instance group, filled in as kops create instancegroup does", help: () => load.instanceGroup().CREATE_IG_HELP, run: (a, io) => load.instanceGroup().createInstanceGroup(a, io) },
  { name: "create", subcommands: ["secret"], summary: "store a secret as kops stores it (sealed when the store encrypts)", help: () => load.secrets().CREATE_SECRET_HELP, run: (a, io) => load.secrets().createSecret(a, io) },
  { name: "create", subcommands: ["keypair"], summary: "add a keypair to a keyset (imported from PEM files, or generated as kops does)", help: () => load.keypairs().CREATE_KEYPAIR_HELP, run: (a, io) => load.keypairs().createKeypair(a, io) },
  { name: "create", subcommands: ["sshpublickey"], summary: "make a public key the cluster's admin SSH key, where kops keeps it", help: () => load.sshPublicKey().CREATE_SSH_KEY_HELP, run: (a, io) => load.sshPublicKey().createSshPublicKey(a, io) },
  { name: "promote", subcommands: ["keypair"], summary: "make a keypair the primary of its keyset", help: () => load.keypairs().PROMOTE_KEYPAIR_HELP, run: (a, io) => load.keypairs().promoteKeypair(a, io) },
  { name: "distrust", subcommands: ["keypair"], summary: "distrust keypairs of a keyset (never the primary)", help: () => load.keypairs().DISTRUST_KEYPAIR_HELP, run: (a, io) => load.keypairs().distrustKeypair(a, io) },
  { name: "trust", subcommands: ["keypair"], summary: "trust distrusted keypairs again (undoes distrust)", help: () => load.keypairs().TRUST_KEYPAIR_HELP, run: (a, io) => load.keypairs().trustKeypair(a, io) },
  { name: "edit", subcommands: ["cluster", "ig"], summary: "edit a cluster or instance group in $EDITOR, validated, conflict-safe", help: () => load.edit().EDIT_HELP, run: (a, io) => load.edit().edit(a, io) },
  { name: "export", summary: "copy a cluster's files into a folder, for git", help: () => load.export().EXPORT_HELP, run: (a, io) => load.export().exportCluster(a, io) },
  { name: "export", subcommands: ["kubeconfig"], summary: "write an admin kubeconfig signed by the cluster CA, as kops export kubeconfig --admin", help: () => load.keypairs().EXPORT_KUBECONFIG_HELP, run: (a, io) => load.keypairs().exportKubeconfig(a, io) },
  { name: "pull", summary: "merge the store's changes since an export into the folder", help: () => load.pull().PULL_HELP, run: (a, io) => load.pull().pull(a, io) },
  { name: "diff", summary: "show what apply -f would change (exit 1 when it would)", help: () => load.apply().DIFF_HELP, run: (a, io) => load.apply().applyFiles(a, io, true) },
  { name: "apply", summary: "make the stored documents what a folder or file says", help: () => load.apply().APPLY_HELP, run: (a, io) => load.apply().applyFiles(a, io, false) },
  { name: "history", summary: "list a cluster document's stored revisions (bucket versioning)", help: () => load.history().HISTORY_HELP, run: (a, io) => load.history().history(a, io) },
  { name: "rollback", summary: "make an old revision the current one, conditionally", help: () => load.history().ROLLBACK_HELP, run: (a, io) => load.history().rollback(a, io) },
  { name: "delete", subcommands: ["cluster"], summary: "delete a cluster's files from the store (only those kops knows; no cloud resource)", help: () => load.delete().DELETE_HELP, run: (a, io) => load.delete().deleteCluster(a, io) },
  { name: "delete", subcommands: ["ig", "instancegroup"], summary: "delete an instance group's document (its instances keep running)", help: () => load.instanceGroup().DELETE_IG_HELP, run: (a, io) => load.instanceGroup().deleteInstanceGroup(a, io) },
  { name: "delete", subcommands: ["secret"], summary: "delete one of a cluster's secrets", help: () => load.secrets().DELETE_SECRET_HELP, run: (a, io) => load.secrets().deleteSecret(a, io) },
  { name: "delete", subcommands: ["sshpublickey"], summary: "delete a cluster's admin SSH key", help: () => load.sshPublicKey().DELETE_SSH_KEY_HELP, run: (a, io) => load.sshPublicKey().deleteSshPublicKey(a, io) },
  { name: "update", subcommands: ["cluster"], summary: "run kops update cluster against the store (dry run, --yes, or the terraform target)", help: () => load.update().UPDATE_HELP, run: (a, io) => load.update().updateCluster(a, io) },
  { name: "migrate", summary: "move a cluster's state to another store, verified", help: () => load.migrate().MIGRATE_HELP, run: (a, io) => load.migrate().migrate(a, io) },
  { name: "encryption", subcommands: ["show", "set", "clear"], summary: "show, record or clear the store's client-side encryption policy", help: () => load.encryption().ENCRYPTION_HELP, run: (a, io) => load.encryption().encryption(a, io) },
  { name: "rekey", summary: "re-encrypt a cluster's client-side-encrypted files under the current key", help: () => load.rekey().REKEY_HELP, run: (a, io) => load.rekey().rekey(a, io) },
];

/** The command `kstate name sub …` runs, or undefined for an unknown name. */
function find(name: string, sub: string | undefined): Command | undefined {
  const named = COMMANDS.filter((c) => c.name === name);
  return named.find((c) => sub !== undefined && c.subcommands?.includes(sub)) ?? named[0];
}

function usage(): string {
  const listed = COMMANDS.map((c) => [c.subcommands ? `${c.name} ${c.subcommands.join("|")}` : c.name, c.summary] as const);
  const width = Math.max(...listed.map(([words]) => words.length));
  return `Usage: kstate COMMAND [options]

kstate keeps kops cluster state in object storage (s3://, gs://, file://).

Commands:
${listed.map(([words, summary]) => `  ${words.padEnd(width)}  ${summary}`).join("\n")}

Run \`kstate COMMAND [SUBCOMMAND] --help\` for a command's options. The store is --state URL, else
KSTATE_STATE_STORE, else KOPS_STATE_STORE, else kops_state_store in kops's config file
(--config FILE, else ~/.kops.yaml, else ~/.kops/config). A cluster is named as for kops: the
argument, else --name NAME, else KOPS_CLUSTER_NAME. The names of the instance groups of clusters
read from buckets are kept in ~/.cache/kstate (KSTATE_CACHE_DIR, else $XDG_CACHE_HOME/kstate), so
the next read of a cluster takes one round of requests; KSTATE_NO_CACHE=1 turns that off.

${ENCRYPTION_FLAGS_HELP}
Exit codes: 0 success, 1 failure, 2 usage error, 3 conflict, 4 nothing to do.
`;
}

/** An error message as printed: URL credentials and signatures hidden, and any secret variable's value. */
function printable(message: string, env: Record<string, string | undefined>): string {
  return hideSecrets(message, [env, process.env]);
}

/** A command's exit code for trouble: 1, but diff exits as diff(1) does (1 says "different"), so its trouble is 2. */
function troubleCode(name: string | undefined): number {
  return name === "diff" ? EXIT.usage : EXIT.failure;
}

export async function run(argv: string[], given: Io): Promise<number> {
  const io = guardedOutput(given);
  const code = await dispatch(argv, given, io);
  // Output that failed (not a closed reader: a full disk under `> log`) fails the command, once it
  // has run to its end.
  for (const stream of [...io.made]) {
    const failure = await outputFailure(stream);
    if (!failure) continue;
    io.stderr.write(`kstate${argv[0] ? ` ${argv[0]}` : ""}: could not write the output${stream === io.stderr ? " (stderr)" : ""}: ${failure.message}\n`);
    // A command's own refusal, conflict or nothing-to-do stands.
    return Math.max(code, troubleCode(argv[0]));
  }
  return code;
}

async function dispatch(argv: string[], given: Io, io: ReturnType<typeof guardedOutput>): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" && rest[0] !== undefined && find(rest[0], rest[1])) {
    io.stdout.write(find(rest[0], rest[1])!.help());
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
  const command = find(name, rest[0]);
  if (!command) {
    io.stderr.write(`kstate: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(command.help());
    return EXIT.ok;
  }
  const called = command.subcommands?.includes(rest[0] ?? "") ? `${name} ${rest[0]}` : name;
  try {
    const configured = takeConfigFlag(rest, io.env);
    const flagged = takeEncryptionFlags(configured.argv, configured.env);
    return await command.run(flagged.argv, flagged.env === io.env ? io : guardedOutput(given, flagged.env, io.made));
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`kstate ${name}: ${printable((e as Error).message, io.env)}\nRun \`kstate ${called} --help\` for its options.\n`);
      return EXIT.usage;
    }
    if (ConflictError.isInstance(e) || PreconditionFailedError.isInstance(e)) {
      io.stderr.write(`kstate ${name}: ${printable(e.message, io.env)}\n`);
      return EXIT.conflict;
    }
    io.stderr.write(`kstate ${name}: ${printable(KstateError.isInstance(e) ? e.message : e instanceof Error ? e.message : String(e), io.env)}\n`);
    return troubleCode(name);
  }
}
