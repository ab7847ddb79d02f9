/** `kstate apply -f` and `kstate diff -f`: make the stored documents what a folder or file says. */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { parseArgs } from "node:util";
import { applyDocuments, checkPlan, type DocumentEdit, planDocuments, plannedText, SECRET_PREFIX } from "../../ops/documents";
import { describeChanges } from "../../ops/plan";
import { ClusterStore, mapLimit } from "../../store/cluster-store";
import { readPolicyAhead } from "../../store/policy-guard";
import { CONFIG_FILE, INSTANCE_GROUP_DIR } from "../../store/layout";
import { statIfPresent } from "../../vfs/absent";
import { NotFoundError, ValidationError } from "../../vfs/errors";
import { type DocumentSource, readSource, type SourceFile } from "../document-source";
import { type ExportBase, readFolderFile, readRecord, sha256, writeBase, writeFolderFile } from "../export-record";
import { colours, confirm, EXIT, type Io, UsageError } from "../io";
import { openClusterStore } from "../open-store";

export const APPLY_HELP = `Usage: kstate apply -f DIR|FILE|- [--prune] [--dry-run] [--yes] [--force] [--name CLUSTER] [--state URL]

Makes the stored documents what DIR (a folder laid out as \`kstate export\` writes it: config,
instancegroup/<name>, secrets/<name>), FILE (a stream of Cluster and InstanceGroup documents, as
\`kstate get all -o yaml\` prints, or a single one) or - (the same from stdin) says. A folder or
stream without a Cluster names its cluster by its groups' kops.k8s.io/cluster label, or --name.

Shows each field that changes, validates the whole cluster, asks before writing (unless --yes;
with -f - give --yes), and writes each document only if it is unchanged since it was read (exit 3
if not). Instance groups and secrets in the store but not in the folder are listed and kept;
--prune deletes them (secrets only when the folder has a secrets/ folder). For a folder that
\`kstate export\` wrote, a document changed in the store since the export is not overwritten
(exit 3: pull the store's changes with \`kstate pull\`, or --force); after an apply the folder's
record is brought up to date.

Exit codes: 0 applied, 1 failure, 2 usage error, 3 conflict, 4 nothing to do.
`;

export const DIFF_HELP = `Usage: kstate diff -f DIR|FILE|- [--prune] [--name CLUSTER] [--state URL]

Shows what \`kstate apply -f\` with the same arguments would change, field by field, and writes
nothing. Exit codes as diff(1): 0 no differences, 1 differences, 2 or more trouble (3 when the
store changed since the folder was exported).
`;

/** The instance groups and secrets the store holds for a cluster, as store files. */
async function storedDocuments(store: ClusterStore, cluster: string, groupListing: Promise<string[]>): Promise<string[]> {
  const listed = async (list: () => Promise<string[]>) => {
    try {
      return await list();
    } catch (e) {
      if (NotFoundError.isInstance(e)) return [];
      throw e;
    }
  };
  const [groups, secrets] = await Promise.all([listed(() => groupListing), listed(async () => (await store.cluster(cluster).join("secrets").list()).map((f) => f.path))]);
  return [...groups.map((g) => `${INSTANCE_GROUP_DIR}/${g}`), ...secrets.map((f) => `${SECRET_PREFIX}${f}`)];
}

/**
 * What the store holds that the source does not say, in two kinds: documents the source removed
 * (for an exported folder, those its record knows, a git rm say; for any other folder or whole
 * stream, every one it lacks), which --prune deletes; and, for an exported folder, documents made
 * in the store since the export (the store's news, never pruned).
 */
function notInSource(source: DocumentSource, stored: readonly string[], base: ExportBase | undefined): { removed: string[]; madeSince: string[] } {
  const given = new Set(source.files.map((f) => f.file));
  const whole = (f: string) => (f.startsWith(SECRET_PREFIX) ? source.whole.secrets : source.whole.groups);
  const absent = stored.filter((f) => !given.has(f)).sort();
  if (!base) return { removed: absent.filter(whole), madeSince: [] };
  return { removed: absent.filter((f) => f in base.revisions), madeSince: absent.filter((f) => !(f in base.revisions) && whole(f)) };
}

/** The exported folder a source is (or the single file is in, at its place in the store's layout), with its record. */
function exportOf(source: DocumentSource): { dir: string; record: ExportBase } | undefined {
  if (source.folder) {
    const record = readRecord(source.folder);
    return record ? { dir: source.folder, record } : undefined;
  }
  const only = source.files.length === 1 ? source.files[0]! : undefined;
  if (!only || only.from === "stdin") return undefined;
  let dir = nodePath.dirname(nodePath.resolve(only.from));
  for (let up = 0; up < 3; up++, dir = nodePath.dirname(dir)) {
    if (nodePath.relative(dir, nodePath.resolve(only.from)) !== only.file) continue;
    const record = readRecord(dir);
    if (record) return { dir, record };
  }
  return undefined;
}

export async function applyFiles(argv: string[], io: Io, diffOnly: boolean): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      filename: { type: "string", short: "f" }, "dry-run": { type: "boolean" }, yes: { type: "boolean", short: "y" },
      force: { type: "boolean" }, prune: { type: "boolean" }, state: { type: "string" }, name: { type: "string" },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}: give the documents with -f DIR|FILE|-`);
  if (!values.filename) throw new UsageError("-f DIR|FILE|- is required");
  const source = await readSource(values.filename, io.stdin, values.name ?? (io.env.KOPS_CLUSTER_NAME || undefined));
  const { cluster } = source;
  const store = openClusterStore(values.state, io.env, io);
  // The export the folder (or the one file, inside an exported folder) came from: its record says
  // which revisions the files were made from, and which files the folder changed since.
  const exported = exportOf(source);
  if (exported && !values.force && exported.record.store !== store.root.url) {
    throw new ValidationError(`${exported.dir} was exported from ${exported.record.store}, not from ${store.root.url}: apply it there (--state ${exported.record.store}), or --force to apply it to ${store.root.url} (nothing was written)`);
  }
  if (exported && !values.force && exported.record.cluster !== cluster) {
    throw new ValidationError(`${exported.dir} was exported from cluster ${exported.record.cluster}, but its documents name cluster ${cluster}: export ${cluster} into a folder of its own, or --force to apply these documents to ${cluster} (nothing was written)`);
  }
  const folder = exported?.dir;
  const base = exported && exported.record.store === store.root.url && exported.record.cluster === cluster ? exported.record : undefined;
  // With the export's hashes, only what the folder changed is applied: a file left as exported
  // says nothing against a change made in the store since (pull brings that in).
  // A file named on its own is applied whatever its hash: the user asked for it.
  const changedHere = (f: SourceFile) => !source.folder || !base?.sha256 || base.sha256[f.file] !== sha256(fs.readFileSync(f.from));
  const untouched = source.files.filter((f) => !changedHere(f));

  // Every read at once: the config, the listings of groups and secrets, and whether the files the
  // folder left as exported changed in the store (the store's version then stays until a pull
  // brings it in); then the groups, and the secrets the change names.
  if (!diffOnly && !values["dry-run"]) readPolicyAhead(store.root);
  const groupListing = store.listInstanceGroups(cluster);
  const reading = store.readCluster(cluster, groupListing);
  const isDocument = (file: string) => file === CONFIG_FILE || file.startsWith(`${INSTANCE_GROUP_DIR}/`);
  const others = base ? untouched.filter((f) => !isDocument(f.file)) : [];
  const behindReading = Promise.all([reading, mapLimit(others, 16, async (f) => (await statIfPresent(store.cluster(cluster).join(...f.file.split("/"))))?.revision)]).then(([read, revisions]) => {
    const now = new Map(others.map((f, i) => [f.file, revisions[i]]));
    const revisionOf = (file: string) => (file === CONFIG_FILE ? read.config?.revision : isDocument(file) ? read.groups.get(file.slice(INSTANCE_GROUP_DIR.length + 1))?.revision : now.get(file));
    return base ? untouched.map((f) => {
      const revision = revisionOf(f.file);
      return revision === base.revisions[f.file] ? undefined : revision === undefined ? `${f.file} (deleted there)` : f.file;
    }) : [];
  });
  for (const p of [groupListing, reading, behindReading]) p.catch(() => {}); // each awaited below, unless an earlier one fails
  const { removed: missing, madeSince } = source.folder || !exported ? notInSource(source, await storedDocuments(store, cluster, groupListing), base) : { removed: [], madeSince: [] };
  const configGone = source.folder !== undefined && base?.revisions.config !== undefined && !source.files.some((f) => f.file === CONFIG_FILE);
  const edits: DocumentEdit[] = source.files.filter(changedHere).map((f) => ({ file: f.file, content: f.content, ...(base ? { basedOn: base.revisions[f.file] ?? "absent" } : {}) }));
  if (values.prune) for (const file of missing) edits.push({ file, content: null, ...(base?.revisions[file] ? { basedOn: base.revisions[file] } : {}) });
  const plan = await planDocuments(store, { name: cluster, edits, force: values.force === true, mayCreate: true }, new Date(), reading);
  const behind = (await behindReading).filter((f): f is string => f !== undefined).sort();

  const c = colours(io);
  const lines = describeChanges(plan);
  io.stdout.write(`${c.bold(`Cluster ${cluster}`)} in ${store.root.url}\n${lines.length ? lines.map((l) => `  ${l}`).join("\n") : "  no changes"}\n`);
  behind.push(...madeSince.map((f) => `${f} (made there; not in the folder)`));
  if (behind.length > 0) {
    io.stdout.write(`${c.yellow("Changed in the store")} since the export, and left as exported in ${folder}; the store's version stays (kstate pull brings it into the folder; kstate apply -f ${folder}/FILE --force writes the folder's):\n${behind.map((f) => `  ${f}`).join("\n")}\n`);
  }
  if (configGone) io.stdout.write(`${c.yellow("Not in")} ${folder}: config. The cluster's config is kept (kstate delete cluster deletes a cluster).\n`);
  if (!values.prune && missing.length > 0) {
    io.stdout.write(`${c.yellow("Not in")} ${folder ?? values.filename}, kept in the store (--prune deletes them):\n${missing.map((f) => `  ${f}`).join("\n")}\n`);
  }

  // Documents the folder already agrees with: the store's revision is their base from now on
  // (an earlier apply whose answer was lost, say).
  const write = !diffOnly && !values["dry-run"];
  if (base && write) {
    const changed = new Set(plan.changes.map((x) => x.file));
    let caughtUp = false;
    for (const f of plan.files) {
      if (changed.has(f.file) || f.base === undefined || base.revisions[f.file] === f.base) continue;
      base.revisions[f.file] = f.base;
      caughtUp = true;
    }
    if (caughtUp) writeBase(folder!, base);
  }
  checkPlan(store, plan);
  // The folder and the store differ when apply would write, or when the store holds what the folder lacks.
  if (diffOnly) return plan.changes.length > 0 || (!values.prune && missing.length > 0) || configGone || behind.length > 0 ? EXIT.failure : EXIT.ok;
  if (plan.changes.length === 0) return EXIT.nothingToDo;
  if (values["dry-run"]) {
    io.stdout.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  if (!values.yes && !(await confirm(io, "Apply these changes?", "apply"))) return EXIT.failure;
  // The folder's record moves on one written file at a time, so a failure midway keeps it true.
  // The folder then holds what was written (the generation counted, the creation time kept), so
  // it says what the store says; its record moves on one file at a time, true after a failure too.
  await applyDocuments(store, plan, (f, revision) => {
    if (!base || !folder) return;
    const written = plannedText(f);
    if (written !== undefined && f.doc !== null && !readFolderFile(folder, f.file)?.equals(Buffer.from(written))) writeFolderFile(folder, f.file, Buffer.from(written));
    if (revision === undefined) delete base.revisions[f.file];
    else base.revisions[f.file] = revision;
    writeBase(folder, base);
  });
  io.stdout.write(`${c.green("Applied")}: ${plan.changes.length} file(s) of ${cluster}.\n`);
  return EXIT.ok;
}
