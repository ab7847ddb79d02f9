/** `kstate export`: a cluster's files copied into a folder, for git. */
import * as nodePath from "node:path";
import { parseArgs } from "node:util";
import { ClusterStore } from "../../store/cluster-store";
import { copyFile, openPath } from "../../vfs";
import { EXIT, type Io, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import { writeBase } from "../export-record";
import { openStore, stateStore } from "../store-url";

export const EXPORT_HELP = `Usage: kstate export [NAME] --to DIR [--include-secrets] [--state URL]

Copies cluster NAME's files (the argument, else --name, else KOPS_CLUSTER_NAME) into DIR, laid out as in the store (DIR/config,
DIR/instancegroup/<name>, DIR/addons/…), ready for git. Secrets (secrets/) and private keys
(pki/private/) are left out unless --include-secrets; keep such a folder out of shared git.
DIR/.kstate-export.json records each document's revision as exported, so that \`apply -f DIR\`
can tell a change made in the store since then from one made in the folder.
`;

function isSecret(relative: string): boolean {
  return relative.startsWith("secrets/") || relative.startsWith("pki/private/");
}

export async function exportCluster(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { to: { type: "string" }, "include-secrets": { type: "boolean" }, state: { type: "string" }, name: { type: "string" } },
  });
  const name = clusterName("export", positionals, values.name, io.env);
  if (!values.to) throw new UsageError("--to DIR is required");
  const store = new ClusterStore(openStore(values.state, io.env, io.stderr));
  await store.requireConfig(name);
  // The stored bytes, as they are: client-side-encrypted files stay encrypted in the folder.
  const source = openPath(stateStore(values.state, io.env)).join(name);
  const target = openPath(nodePath.resolve(values.to));
  const files = await source.listTree();
  const skipped = files.filter((f) => isSecret(f.path) && !values["include-secrets"]);
  const revisions: Record<string, string> = {};
  for (const f of files) {
    if (skipped.includes(f)) continue;
    await copyFile(source.join(f.path), target.join(f.path), f.size);
    revisions[f.path] = f.revision ?? (await source.join(f.path).stat()).revision;
  }
  writeBase(nodePath.resolve(values.to), { store: store.root.url, cluster: name, revisions });
  if (values["include-secrets"] && files.some((f) => isSecret(f.path))) io.stderr.write(`warning: ${target.url} holds secrets and private keys, in plain text unless the store encrypts them client side; do not commit it to shared git\n`);
  io.stdout.write(`Exported ${files.length - skipped.length} file(s) of ${name} to ${target.url}${skipped.length ? ` (${skipped.length} secret file(s) left out; --include-secrets to export them)` : ""}.\n`);
  return EXIT.ok;
}

