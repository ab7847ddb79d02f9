/** `kstate pull`: the store's changes since an export, merged into the exported folder. */
import * as nodePath from "node:path";
import { parseArgs } from "node:util";
import { hasConflictMarkers, mergeFile } from "../../ops/three-way";
import { isKopsFile } from "../../store/layout";
import { ConflictError, readIfPresent, type ReadResult, ValidationError } from "../../vfs";
import { clusterName } from "../cluster-name";
import {
  BASE_COPY_DIR, type ExportBase, folderFiles, isSecretFile, readBaseCopy, readFolderFile, readRecord, sha256, writeBaseCopy, writeFolderFile, writeRecord,
} from "../export-record";
import { colours, EXIT, type Io, UsageError } from "../io";
import { openClusterStore, openRawStore } from "../open-store";

export const PULL_HELP = `Usage: kstate pull [NAME] DIR [--state URL]

Brings the changes made in the store to cluster NAME (the argument, else --name, else
KOPS_CLUSTER_NAME) since DIR was exported (or last pulled) into DIR, keeping the folder's own
changes: a three-way merge, line by line as git merges, from the files as exported
(DIR/.kstate/base/). A file only the store changed takes the store's version, created and removed
alike; a file only the folder changed stays as it is; a file both changed gets both changes when
they touch different lines. Where both changed the same lines, the file gets git-style conflict
markers (<<<<<<< local, ||||||| exported, =======, >>>>>>> store) and the command lists it and
exits 3: edit the file to what it should say, then \`kstate apply -f DIR\`. A pull leaves the
folder's record at the store's revisions, so \`apply -f DIR\` then writes exactly the folder's own
changes. Exit 4 if the store has nothing new. Secrets come along only if the export took them.
`;

/** What a pull did to one file the store changed. */
type Outcome = "updated" | "added" | "removed" | "merged" | "kept" | "conflict";

interface Pulled {
  path: string;
  outcome: Outcome;
  note?: string;
  /** A conflict left without markers: the file could not be merged line by line. */
  unmerged?: boolean;
}

/** The file's bytes as exported: the base copy, else the folder's own file if it is unchanged. */
function exportedBytes(dir: string, record: ExportBase, file: string): Buffer | undefined {
  const hash = record.sha256?.[file];
  if (hash === undefined) return undefined;
  for (const candidate of [readBaseCopy(dir, file), readFolderFile(dir, file)]) {
    if (candidate !== undefined && sha256(candidate) === hash) return candidate;
  }
  return undefined;
}


function equal(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

export async function pull(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { state: { type: "string" }, name: { type: "string" } },
  });
  if (positionals.length === 0) throw new UsageError("the exported folder is required: kstate pull [NAME] DIR");
  const dir = nodePath.resolve(positionals[positionals.length - 1]!);
  const name = clusterName("pull", positionals.slice(0, -1), values.name, io.env);
  const store = openClusterStore(values.state, io.env, io);
  const record = readRecord(dir);
  if (!record || record.store !== store.root.url || record.cluster !== name) {
    const other = record ? ` (it holds one of ${record.cluster} from ${record.store})` : "";
    throw new ValidationError(`${dir} holds no export of ${name} from ${store.root.url}${other}: export it first, with kstate export ${name} --to ${dir}`);
  }
  if (!record.sha256) {
    throw new ValidationError(`${dir} was exported by an older kstate, which kept no copy of the exported files to merge from: commit or move your changes, export again with --force, and redo them`);
  }
  // A file a pull left conflicted (with markers), changed since: not merged again on top of its markers.
  const unresolved = folderFiles(dir).filter((f) => {
    if (!isKopsFile(f) && !Object.hasOwn(record.revisions, f)) return false;
    const local = readFolderFile(dir, f)!;
    return sha256(local) !== record.sha256![f] && hasConflictMarkers(local.toString("utf8"));
  });
  if (unresolved.length > 0) throw new ConflictError(`${dir} still has conflict markers in ${unresolved.join(", ")}: resolve them first`);
  await store.requireConfig(name);

  // The stored bytes, as export copied them (client-side-encrypted files stay encrypted).
  const source = openRawStore(values.state, io.env).join(name);
  const includeSecrets = record.includeSecrets ?? Object.keys(record.revisions).some(isSecretFile);
  const stored = new Map<string, string>();
  for (const f of await source.listTree()) {
    if (includeSecrets || !isSecretFile(f.path)) stored.set(f.path, f.revision ?? (await source.join(f.path).stat()).revision);
  }

  const next: ExportBase = { ...record, revisions: {}, sha256: {}, includeSecrets };
  /** The record and base of `file` stay as they were exported. */
  const keep = (file: string) => {
    if (!Object.hasOwn(record.revisions, file)) return;
    next.revisions[file] = record.revisions[file]!;
    next.sha256![file] = record.sha256![file]!;
  };
  /** The record and base of `file` move on to the store's version. */
  const moveOn = (file: string, theirs: ReadResult | undefined) => {
    writeBaseCopy(dir, file, theirs?.data);
    if (!theirs) return;
    next.revisions[file] = theirs.revision;
    next.sha256![file] = sha256(theirs.data);
  };

  const pulled: Pulled[] = [];
  for (const file of [...new Set([...Object.keys(record.revisions), ...stored.keys()])].sort()) {
    if (stored.get(file) === record.revisions[file]) {
      keep(file);
      continue;
    }
    const recorded = Object.hasOwn(record.revisions, file);
    const theirs = stored.has(file) ? await readIfPresent(source.join(file)) : undefined;
    const base = recorded ? exportedBytes(dir, record, file) : undefined;
    const local = readFolderFile(dir, file);
    const baseKnown = !recorded || base !== undefined;
    if (baseKnown && equal(theirs?.data, base)) {
      // A new revision of the same bytes (rewritten unchanged): nothing to bring in.
      moveOn(file, theirs);
      continue;
    }
    const merged = baseKnown ? mergeFile(base, local, theirs?.data) : equal(local, theirs?.data) ? { result: local } : { result: local, conflict: "no base" as const };
    if (merged.conflict === "binary" || merged.conflict === "no base") {
      // Nothing to write markers into: the file stays, and so does its record, so that apply -f
      // does not take the folder's version for a settled one.
      keep(file);
      pulled.push({ path: file, outcome: "conflict", unmerged: true, note: merged.conflict === "binary" ? "not text, not merged: the folder's version kept" : "no copy of the exported version to merge from: the folder's version kept" });
      continue;
    }
    moveOn(file, theirs);
    if (!equal(merged.result, local)) writeFolderFile(dir, file, merged.result);
    if (merged.conflict) pulled.push({ path: file, outcome: "conflict" });
    else if (equal(local, base)) pulled.push({ path: file, outcome: theirs === undefined ? "removed" : local === undefined ? "added" : "updated" });
    else if (equal(local, theirs?.data)) pulled.push({ path: file, outcome: "kept", note: "the folder already had the store's change" });
    else pulled.push({ path: file, outcome: "merged" });
  }
  if (JSON.stringify(next) !== JSON.stringify(record)) writeRecord(dir, next);

  if (pulled.length === 0) {
    io.stdout.write(`Nothing new: ${name} in ${store.root.url} has not changed since ${dir} was exported or last pulled.\n`);
    return EXIT.nothingToDo;
  }
  const c = colours(io);
  const width = Math.max(...pulled.map((p) => p.outcome.length));
  io.stdout.write(`Pulled ${pulled.length} change(s) to ${name} from ${store.root.url} into ${dir}:\n`);
  for (const p of pulled) {
    const label = p.outcome.padEnd(width);
    io.stdout.write(`  ${p.outcome === "conflict" ? c.red(label) : label}  ${p.path}${p.note ? ` (${p.note})` : ""}\n`);
  }
  const conflicts = pulled.filter((p) => p.outcome === "conflict");
  if (conflicts.length > 0) {
    const marked = conflicts.filter((p) => !p.unmerged).map((p) => p.path);
    const unmerged = conflicts.filter((p) => p.unmerged).map((p) => p.path);
    if (marked.length > 0) io.stderr.write(`kstate pull: conflicts in ${marked.join(", ")}: the folder and the store changed the same lines. Edit the lines between <<<<<<< local and >>>>>>> store to what they should say, then kstate apply -f ${dir}.\n`);
    if (unmerged.length > 0) io.stderr.write(`kstate pull: not merged: ${unmerged.join(", ")}. Each keeps the folder's version and its exported revision, so apply -f refuses to write it over the store's (--force does); to take the store's instead, put back the exported version (from git, or ${BASE_COPY_DIR}/ beside the record) and pull again.\n`);
    return EXIT.conflict;
  }
  io.stdout.write(`The folder's own changes are kept; kstate diff -f ${dir} shows what apply -f would write.\n`);
  return EXIT.ok;
}
