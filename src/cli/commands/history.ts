/** `kstate history`, `kstate rollback` and `kstate delete cluster`. */
import { parseArgs } from "node:util";
import { applyDocuments, checkPlan, planDocuments } from "../../ops/documents";
import {
  type ClusterAt, clusterAt, contentAt, contentChanges, documentEdit, fileHistory, historyFileProblem, type PastFile, PKI_PREFIX, planPkiRestore, restorePki,
} from "../../ops/history";
import { describeChanges, type FieldChange } from "../../ops/plan";
import { ClusterStore } from "../../store/cluster-store";
import { readPolicyAhead } from "../../store/policy-guard";
import { CONFIG_FILE } from "../../store/layout";
import { colours, EXIT, type Io, confirm, table, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import { openClusterStore } from "../open-store";

export const HISTORY_HELP = `Usage: kstate history [NAME] [--file FILE] [--diff REV1 REV2] [--state URL]

The cluster is the argument, else --name, else KOPS_CLUSTER_NAME, as for kops. FILE is config
(the default), instancegroup/NAME, secrets/NAME or a file under pki/. The store must keep old
versions (bucket versioning on an s3:// or gs:// store); client-side-encrypted files are read
through the store's keys (KSTATE_PASSPHRASE, …).

Lists FILE's revisions, newest first: revision id, time, stored size, and which one is current or
a deletion. A file that never existed is an error. --diff shows the fields that differ between two
revisions (either may be \`current\`; a deleted or absent file compares as empty): + added,
- removed, ~ changed. Secrets and pki/ files show a SHA-256 prefix, never a value. Undo a change
with kstate rollback.
`;

export const ROLLBACK_HELP = `Usage: kstate rollback [NAME] --to REV [--file FILE] [--yes] [--state URL]
       kstate rollback [NAME] --to-time TIME [--include-pki] [--yes] [--state URL]

The cluster is the argument, else --name, else KOPS_CLUSTER_NAME, as for kops. FILE is config
(the default), instancegroup/NAME, secrets/NAME or a file under pki/; see its revisions with
kstate history. The store must keep old versions (bucket versioning on).

--to REV makes FILE what it was at revision REV: a deleted file is created again (only if it is
still absent), a revision that is a deletion deletes it. --to-time TIME (RFC 3339, e.g.
2026-11-20T10:00:00Z) makes every document of the cluster (config, instance groups, secrets) what
it was at TIME: files made since are deleted, files deleted since are made again. pki/ files are
left as they are unless --include-pki (then they go back to TIME too); other files kops keeps
(addons, cluster-completed.spec, …) are never touched: \`kops update cluster\` writes them again.

The change is shown field by field, validated as a whole cluster, and written after a yes
(--yes without a terminal), each file only if it is still as read (exit 3 if not), as one plan.
metadata.generation counts on, as kops counts it. The revisions in between stay in the history.
Exit codes: 0 rolled back, 1 failure, 2 usage error, 3 conflict, 4 already as asked.
`;

function fileFlag(file: string | undefined): string {
  const f = file ?? CONFIG_FILE;
  const problem = historyFileProblem(f);
  if (problem) throw new UsageError(`--file ${f}: ${problem}`);
  return f;
}

/** `2026-11-20T10:00:00Z` or with an offset: a time that means the same anywhere. */
function timeFlag(text: string): Date {
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text) ? new Date(text) : undefined;
  if (!time || Number.isNaN(time.getTime())) throw new UsageError(`--to-time ${JSON.stringify(text)}: give an RFC 3339 time with its zone, e.g. 2026-11-20T10:00:00Z`);
  return time;
}

function changeLine(c: FieldChange): string {
  if (c.before === undefined) return `+ ${c.path}: ${JSON.stringify(c.after)}`;
  if (c.after === undefined) return `- ${c.path}: ${JSON.stringify(c.before)}`;
  return `~ ${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`;
}

export async function history(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { file: { type: "string" }, diff: { type: "boolean" }, state: { type: "string" }, name: { type: "string" } },
  });
  // The last two arguments are --diff's revisions; an argument before them names the cluster.
  const revs = values.diff ? positionals.slice(Math.max(0, positionals.length - 2)) : [];
  if (values.diff && revs.length !== 2) throw new UsageError("--diff takes two revisions: kstate history NAME --diff REV1 REV2 (either may be current)");
  const name = clusterName("history", positionals.slice(0, positionals.length - revs.length), values.name, io.env);
  const file = fileFlag(values.file);
  const store = openClusterStore(values.state, io.env, io);
  if (values.diff) {
    const [a, b] = await Promise.all(revs.map(async (rev) => ({ data: await contentAt(store, name, file, rev), source: `${store.cluster(name).url}/${file}@${rev}` })));
    const changes = contentChanges(file, a!, b!);
    io.stdout.write(changes.length ? `${changes.map(changeLine).join("\n")}\n` : "no differences\n");
    return EXIT.ok;
  }
  const revisions = await fileHistory(store, name, file);
  const rows = revisions.map((r) => [r.id ?? "-", r.time.toISOString(), r.deleted ? "-" : String(r.size), r.current ? "current" : r.deleted ? "(deleted)" : ""]);
  // The last column is often empty: no padding is left at the ends of lines.
  io.stdout.write(table(["REVISION", "TIME", "SIZE", ""], rows, { sort: false }).replace(/[\t ]+$/gm, ""));
  return EXIT.ok;
}

/** What a rollback puts back (document changes for the one road, and pki/ files), and when from. */
async function pastOf(store: ClusterStore, name: string, flags: { to?: string | undefined; toTime?: string | undefined; file?: string | undefined; includePki: boolean }): Promise<ClusterAt & { when: string }> {
  if (flags.toTime !== undefined) {
    const time = timeFlag(flags.toTime);
    return { ...(await clusterAt(store, name, time, flags.includePki)), when: time.toISOString() };
  }
  const file = fileFlag(flags.file);
  const past: PastFile = { file, data: await contentAt(store, name, file, flags.to!) };
  const when = `revision ${flags.to} of ${file}`;
  if (file.startsWith(PKI_PREFIX)) return { edits: [], pki: [past], when };
  return { edits: [documentEdit(past, `${store.cluster(name).url}/${file}@${flags.to}`)], pki: [], when };
}

export async function rollback(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      to: { type: "string" }, "to-time": { type: "string" }, file: { type: "string" }, "include-pki": { type: "boolean" },
      yes: { type: "boolean", short: "y" }, state: { type: "string" }, name: { type: "string" },
    },
  });
  const name = clusterName("rollback", positionals, values.name, io.env);
  const toTime = values["to-time"];
  if ((values.to === undefined) === (toTime === undefined)) throw new UsageError("give --to REV (one file; kstate history lists its revisions) or --to-time TIME (the whole cluster)");
  if (toTime !== undefined && values.file !== undefined) throw new UsageError("--to-time rolls back every document of the cluster; --file goes with --to REV");
  if (values["include-pki"] && toTime === undefined) throw new UsageError("--include-pki goes with --to-time; to roll back one pki/ file, give --file pki/… --to REV");
  const store = openClusterStore(values.state, io.env, io);
  // The cluster as it is now is read beside its past; the pki/ files to restore beside the plan.
  readPolicyAhead(store.root);
  const reading = store.readCluster(name);
  reading.catch(() => {}); // awaited by the plan, unless reading the past fails first
  const { edits, pki, when } = await pastOf(store, name, { ...values, includePki: values["include-pki"] === true, toTime });
  const restoring = planPkiRestore(store, name, pki);
  restoring.catch(() => {}); // awaited once the plan is checked
  const plan = await planDocuments(store, { name, edits }, new Date(), reading);
  checkPlan(store, plan);
  const restores = await restoring;

  const c = colours(io);
  const lines = describeChanges({ changes: [...plan.changes, ...restores.map((r) => r.change)] });
  io.stdout.write(`${c.bold(`Cluster ${name}`)} in ${store.root.url}, back to ${when}:\n${lines.length ? lines.map((l) => `  ${l}`).join("\n") : "  no changes"}\n`);
  if (plan.changes.length + restores.length === 0) return EXIT.nothingToDo;
  if (!values.yes && !(await confirm(io, "Roll back?", "roll back"))) return EXIT.failure;
  await applyDocuments(store, plan);
  await restorePki(restores);
  io.stdout.write(`${c.green("Rolled back")} ${plan.changes.length + restores.length} file(s) of ${name} to ${when}.\n`);
  return EXIT.ok;
}
