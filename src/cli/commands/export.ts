/** `kstate export`: a cluster's files copied into a folder, for git. */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { parseArgs } from "node:util";
import { mapLimit } from "../../store/cluster-store";
import { CONFIG_FILE } from "../../store/layout";
import { EXIT, type Io, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import {
  BASE_COPY_DIR, type ExportBase, folderFiles, isSecretFile, localChanges, readRecord, sha256, writeBaseCopy, writeFolderFile, writeRecord,
} from "../export-record";
import { openClusterStore, openRawStore, openUrl, readsOnly } from "../open-store";

export const EXPORT_HELP = `Usage: kstate export [NAME] --to DIR [--include-secrets] [--force] [--state URL]

Copies cluster NAME's files (the argument, else --name, else KOPS_CLUSTER_NAME) into DIR, laid out as in the store (DIR/config,
DIR/instancegroup/<name>, DIR/addons/…), ready for git. Secrets (secrets/) and private keys
(pki/private/) are left out unless --include-secrets; keep such a folder out of shared git.
DIR/.kstate-export.json records each file's revision and SHA-256 as exported, and DIR/.kstate/base/
keeps a copy of each, so that \`apply -f DIR\` can tell a change made in the store since then from
one made in the folder, and \`kstate pull NAME DIR\` can merge the store's later changes into it.

Nothing in DIR is overwritten silently: export refuses (exit 1, nothing written), listing what it
found, when DIR has changes since the last export (a file edited, removed, or added where kops
keeps files), or is not empty and holds no export of NAME from this store. --force exports anyway:
the cluster's files are overwritten, files an earlier export wrote that the store no longer has are
removed, and other files are left alone. To keep the folder's changes and take the store's too,
use \`kstate pull NAME DIR\`.
`;

/** Why exporting `name` into `dir` would overwrite something of the user's, if it would. */
function refusal(dir: string, record: ExportBase | undefined, name: string, store: string): string | undefined {
  if (record && record.store === store && record.cluster === name) {
    if (!record.sha256) {
      return `${dir} was exported by an older kstate that kept no hashes of the exported files, so it cannot tell what changed there: nothing was written. Commit or move what you want to keep, then export with --force.`;
    }
    const changes = localChanges(dir, record);
    if (changes.length === 0) return undefined;
    const width = Math.max(...changes.map((c) => c.change.length));
    return `${dir} has changes since the last export, which exporting would overwrite:\n${changes.map((c) => `  ${c.change.padEnd(width)}  ${c.path}`).join("\n")}\n` +
      `Nothing was written. Apply them (kstate apply -f ${dir}), take the store's changes in beside them (kstate pull ${name} ${dir}), or export with --force to discard them.`;
  }
  if (record) return `${dir} holds an export of ${record.cluster} from ${record.store}: nothing was written. Export ${name} into a folder of its own, or pass --force.`;
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => !e.startsWith(".")).sort() : [];
  if (entries.length === 0) return undefined;
  const shown = entries.slice(0, 5).join(", ") + (entries.length > 5 ? `, … (${entries.length} in all)` : "");
  return `${dir} is not empty (${shown}) and holds no kstate export: nothing was written. Export into an empty or new folder, or pass --force (files the cluster does not have are left alone).`;
}

/** The real path of a folder, or of its nearest existing parent with the rest appended. */
function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    const parent = nodePath.dirname(p);
    return parent === p ? p : nodePath.join(realOrSelf(parent), nodePath.basename(p));
  }
}

function within(child: string, parent: string): boolean {
  const rel = nodePath.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !nodePath.isAbsolute(rel));
}

export async function exportCluster(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { to: { type: "string" }, "include-secrets": { type: "boolean" }, force: { type: "boolean" }, state: { type: "string" }, name: { type: "string" } },
  });
  const name = clusterName("export", positionals, values.name, io.env);
  if (!values.to) throw new UsageError("--to DIR is required");
  const dir = nodePath.resolve(values.to);
  const includeSecrets = values["include-secrets"] === true;
  readsOnly(io.env);
  const store = openClusterStore(values.state, io.env, io);
  // The stored bytes, as they are: client-side-encrypted files stay encrypted in the folder. The
  // listing says whether the cluster is there (a config among its files); then every file is read at once.
  const source = openRawStore(values.state, io.env).join(name);
  const listed = await source.listTree();
  if (!listed.some((f) => f.path === CONFIG_FILE)) store.noSuchCluster(name);
  const files = listed.filter((f) => includeSecrets || !isSecretFile(f.path));

  // A folder inside a file:// store would put the export's files among the store's own.
  const storeRoot = store.root.url.startsWith("file://") ? decodeURIComponent(new URL(store.root.url).pathname) : undefined;
  if (storeRoot !== undefined && within(realOrSelf(dir), realOrSelf(storeRoot))) {
    throw new UsageError(`--to ${values.to}: that folder is inside the state store ${store.root.url}; export to a folder outside it (nothing was written)`);
  }

  const previous = readRecord(dir);
  const problem = values.force ? undefined : refusal(dir, previous, name, store.root.url);
  if (problem) {
    io.stderr.write(`kstate export: ${problem}\n`);
    return EXIT.failure;
  }

  const record: ExportBase = { store: store.root.url, cluster: name, revisions: {}, sha256: {}, includeSecrets };
  // Small files, all at once (up to 64): the read is one round however many there are, within reason.
  const read = await mapLimit(files, 64, async (f) => {
    const { data, revision } = await source.join(f.path).read();
    writeFolderFile(dir, f.path, data);
    writeBaseCopy(dir, f.path, data);
    return { revision, sha256: sha256(data) };
  });
  files.forEach((f, i) => {
    record.revisions[f.path] = read[i]!.revision;
    record.sha256![f.path] = read[i]!.sha256;
  });
  // What an earlier export of this cluster wrote and this one does not: gone from the store (or a
  // secret no longer asked for). Unchanged since, or --force: either way the user let it go.
  const earlier = previous?.store === record.store && previous.cluster === name ? Object.keys(previous.revisions) : [];
  const gone = earlier.filter((f) => !Object.hasOwn(record.revisions, f));
  for (const f of gone) writeFolderFile(dir, f, undefined);
  for (const f of folderFiles(nodePath.join(dir, BASE_COPY_DIR))) if (!Object.hasOwn(record.revisions, f)) writeBaseCopy(dir, f, undefined);
  writeRecord(dir, record);

  const target = openUrl(dir, io.env);
  const skipped = listed.length - files.length;
  if (includeSecrets && files.some((f) => isSecretFile(f.path))) io.stderr.write(`warning: ${target.url} holds secrets and private keys, in plain text unless the store encrypts them client side; do not commit it to shared git\n`);
  io.stdout.write(`Exported ${files.length} file(s) of ${name} to ${target.url}${gone.length ? `, removed ${gone.length} the store no longer has` : ""}${skipped ? ` (${skipped} secret file(s) left out; --include-secrets to export them)` : ""}.\n`);
  return EXIT.ok;
}
