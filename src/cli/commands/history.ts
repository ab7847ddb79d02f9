/** `kstate history` and `kstate rollback`. */
import { parseArgs } from "node:util";
import { diffDocuments } from "../../ops/cluster";
import { validateClusterWithGroups, validationError } from "../../ops/validate";
import { ClusterStore, parseKopsDocument } from "../../store/cluster-store";
import { CONFIG_FILE } from "../../store/layout";
import { hasVersions, type VfsPath } from "../../vfs";
import { ValidationError } from "../../vfs/errors";
import { colours, EXIT, type Io, confirm, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import { openStore } from "../store-url";

export const HISTORY_HELP = `Usage: kstate history [NAME] [--file config|instancegroup/NAME] [--diff REV1 REV2] [--state URL]
       kstate rollback [NAME] --to REV [--file …] [--yes] [--state URL]

The cluster is the argument, else --name, else KOPS_CLUSTER_NAME, as for kops.

history lists the stored revisions of a cluster document (bucket versioning must be on):
revision id, time, size. --diff shows the field changes between two revisions.
rollback writes revision REV as the new current one, only if the document has not changed since
it was read (exit 3 if it has); the revisions in between stay in the history.
`;

export const ROLLBACK_HELP = `Usage: kstate rollback [NAME] --to REV [--file config|instancegroup/NAME] [--yes] [--state URL]

The cluster is the argument, else --name, else KOPS_CLUSTER_NAME, as for kops.

Writes revision REV of a cluster document (see kstate history) as the new current one, only if
the document has not changed since it was read (exit 3 if it has); the revisions in between stay
in the history. Bucket versioning must be on. Asks first, unless --yes.
`;

function documentPath(store: ClusterStore, name: string, file: string | undefined): VfsPath {
  const f = file ?? CONFIG_FILE;
  if (f !== CONFIG_FILE && !/^instancegroup\/[a-z0-9.-]+$/.test(f)) throw new UsageError(`--file must be config or instancegroup/NAME (got ${f})`);
  return store.cluster(name).join(f);
}

async function versionsOf(path: VfsPath): Promise<{ versionId: string; modified: Date; size: number; isLatest: boolean; deleted: boolean }[]> {
  if (!hasVersions(path)) throw new ValidationError(`${path.url}: this store keeps no old versions (file:// stores never do); use an s3:// or gs:// store with versioning on`);
  const versions = await path.listVersions();
  if (versions.length > 0 && versions.every((v) => v.versionId === "null")) {
    throw new ValidationError(`${path.url}: bucket versioning is off, so there is no history. Turn it on (StateStore versioning: true, or aws s3api put-bucket-versioning --versioning-configuration Status=Enabled)`);
  }
  return versions;
}

export async function history(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { file: { type: "string" }, diff: { type: "boolean" }, state: { type: "string" }, name: { type: "string" } },
  });
  // The last two arguments are --diff's revisions; an argument before them names the cluster.
  const revs = values.diff ? positionals.slice(Math.max(0, positionals.length - 2)) : [];
  const name = clusterName("history", positionals.slice(0, positionals.length - revs.length), values.name, io.env);
  const store = new ClusterStore(openStore(values.state, io.env, io.stderr));
  const path = documentPath(store, name, values.file);
  const versions = await versionsOf(path);
  if (values.diff) {
    if (revs.length !== 2 || !hasVersions(path)) throw new UsageError("--diff takes two revisions: kstate history NAME --diff REV1 REV2");
    const [a, b] = await Promise.all(revs.map((r) => path.readVersion!(r)));
    const kind = path.base === CONFIG_FILE ? "Cluster" : "InstanceGroup";
    const changes = diffDocuments(parseKopsDocument(a!.data.toString(), `${path.url}@${revs[0]}`, kind).toJS() as Record<string, unknown>, parseKopsDocument(b!.data.toString(), `${path.url}@${revs[1]}`, kind).toJS() as Record<string, unknown>);
    io.stdout.write(changes.length ? `${changes.map((c) => `${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`).join("\n")}\n` : "no differences\n");
    return EXIT.ok;
  }
  const rows = versions.map((v) => [v.versionId, v.modified.toISOString(), v.deleted ? "(deleted)" : String(v.size), v.isLatest ? "current" : ""]);
  const widths = [0, 1, 2].map((i) => Math.max(i === 0 ? 8 : i === 1 ? 4 : 4, ...rows.map((r) => r[i]!.length)));
  io.stdout.write(`${["REVISION".padEnd(widths[0]!), "TIME".padEnd(widths[1]!), "SIZE".padEnd(widths[2]!)].join("   ")}\n`);
  for (const r of rows) io.stdout.write(`${[r[0]!.padEnd(widths[0]!), r[1]!.padEnd(widths[1]!), r[2]!.padEnd(widths[2]!), r[3]!].join("   ").trimEnd()}\n`);
  return EXIT.ok;
}

export async function rollback(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { to: { type: "string" }, file: { type: "string" }, yes: { type: "boolean", short: "y" }, state: { type: "string" }, name: { type: "string" } },
  });
  const name = clusterName("rollback", positionals, values.name, io.env);
  if (!values.to) throw new UsageError("--to REV is required (see kstate history NAME)");
  const store = new ClusterStore(openStore(values.state, io.env, io.stderr));
  const path = documentPath(store, name, values.file);
  const versions = await versionsOf(path);
  const target = versions.find((v) => v.versionId === values.to);
  if (!target || target.deleted) throw new ValidationError(`${path.url}: no revision ${JSON.stringify(values.to)} to roll back to (see kstate history ${name})`);
  if (!hasVersions(path)) throw new ValidationError(`${path.url}: this store keeps no old versions`);
  const old = await path.readVersion(values.to);
  const restored = parseKopsDocument(old.data.toString(), `${path.url}@${values.to}`, path.base === CONFIG_FILE ? "Cluster" : "InstanceGroup").toJS();
  // The cluster as it would be with that revision in place must be one kops accepts.
  const config = path.base === CONFIG_FILE ? restored : (await store.readConfig(name))?.doc.toJS();
  const groups: Record<string, unknown> = {};
  for (const [g, d] of await store.readInstanceGroups(name)) groups[g] = d.doc.toJS();
  if (path.base !== CONFIG_FILE) groups[path.base] = restored;
  const problems = validateClusterWithGroups(config, groups, undefined, name);
  if (problems.length > 0) throw validationError(name, problems.map((p) => (p.file === (values.file ?? CONFIG_FILE) ? { ...p, file: `${p.file} at revision ${values.to}` } : p)));
  const current = await path.read();
  if (current.data.equals(old.data)) {
    io.stdout.write(`${path.url} already has the content of revision ${values.to}.\n`);
    return EXIT.nothingToDo;
  }
  if (!values.yes) {
    if (!(await confirm(io, `Write revision ${values.to} (${target.modified.toISOString()}) as the current ${path.url}?`, "roll back"))) return EXIT.failure;
  }
  await path.write(old.data, { ifRevision: current.revision });
  io.stdout.write(`${colours(io).green("Rolled back")} ${path.url} to revision ${values.to}.\n`);
  return EXIT.ok;
}
