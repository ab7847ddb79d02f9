/**
 * `kstate delete cluster NAME`: deletes the cluster's files from the state store, as
 * `kops delete cluster --unregister` does, after saying what goes and what stays.
 */
import { parseArgs } from "node:util";
import { deleteClusterFiles, planClusterDeletion } from "../../ops/delete-cluster";
import { colours, confirm, EXIT, type Io, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import { openClusterStore } from "../open-store";

export const DELETE_HELP = `Usage: kstate delete cluster [NAME] [--yes] [--state URL]

Deletes every file of cluster NAME (the argument, else --name, else KOPS_CLUSTER_NAME) from the
state store, as \`kops delete cluster --unregister\` does. It first lists the files, counted by
folder. Only files kops itself knows are deleted (config, instancegroup/, pki/, secrets/,
addons/, …); if the cluster's folder holds anything else, nothing is deleted and the unknown files
are listed.

It deletes no cloud resource: instances, volumes, load balancers and DNS records stay, and
running nodes keep running. Nodes read their configuration from the state store, so once the
files are gone they cannot boot or be repaired. To delete the cloud resources too, use
\`kops delete cluster NAME --yes\`, which deletes these files as well.

Without --yes it asks on a terminal, and elsewhere refuses (exit 2) and changes nothing.

Options:
  --yes, -y       delete without asking
  --name NAME     the cluster, instead of the argument (default: KOPS_CLUSTER_NAME)
  --state URL     the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)

Exit codes: 0 deleted, 1 failure (no such cluster, unknown files, or cancelled), 2 usage error
(including no --yes without a terminal).
`;

/** Files counted by their top folder (`pki/`), files at the top by name (`config`), sorted. */
function countByFolder(files: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const f of files) {
    const slash = f.indexOf("/");
    const key = slash < 0 ? f : f.slice(0, slash + 1);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export async function deleteCluster(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { yes: { type: "boolean", short: "y" }, state: { type: "string" }, name: { type: "string" } },
  });
  const [kind, ...rest] = positionals;
  if (kind !== "cluster") throw new UsageError("delete takes `cluster NAME`");
  const name = clusterName("delete cluster", rest, values.name, io.env);
  const store = openClusterStore(values.state, io.env, io);
  const plan = await planClusterDeletion(store, name);
  const files = plan.files.map((f) => f.path);
  if (files.length === 0 && plan.failedUpdate) {
    // The cluster is gone already (kops deleted it); kstate's record of its failed update is not.
    io.stdout.write(`Cluster "${name}" is not in ${store.root.url}; left of it: kstate's record of its failed update, ${plan.failedUpdate}.\n`);
    if (!values.yes && !(await confirm(io, "Delete the record?", "delete cluster"))) return EXIT.failure;
    await deleteClusterFiles(store, plan);
    io.stdout.write(`Deleted the record of ${name}'s failed update.\n`);
    return EXIT.ok;
  }

  const c = colours(io);
  const counts = countByFolder(files);
  const width = Math.max(...counts.map(([f]) => f.length));
  io.stdout.write(`${c.bold(`Deleting cluster "${name}"`)} deletes ${plural(files.length, "file")} from ${plan.url}:\n`);
  io.stdout.write(counts.map(([f, n]) => `  ${f.padEnd(width)}  ${plural(n, "file")}\n`).join(""));
  io.stdout.write(`\n${c.yellow("Not deleted:")} the cluster's cloud resources. Its instances, volumes, load balancers and
DNS records stay, and running nodes keep running; but nodes read their configuration from this
store, so afterwards they cannot boot or be repaired. To delete the cloud resources too, run
\`kops delete cluster ${name} --yes\` instead: it deletes these files as well.\n`);
  if (plan.failedUpdate) io.stdout.write(`Also deleted: kstate's record of the cluster's failed update, ${plan.failedUpdate}.\n`);
  if (plan.elsewhere.length > 0) io.stdout.write(`Not deleted either (kops would delete them): ${plan.elsewhere.join("; ")}.\n`);
  io.stdout.write("\n");

  if (!values.yes && !(await confirm(io, `Delete these ${plural(files.length, "file")} of cluster ${name}?`, "delete cluster"))) return EXIT.failure;
  await deleteClusterFiles(store, plan);
  io.stdout.write(`${c.green("Deleted cluster:")} "${name}" (${plural(files.length, "file")}).\n`);
  return EXIT.ok;
}
