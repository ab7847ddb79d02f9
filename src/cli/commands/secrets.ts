/**
 * `kstate create secret` and `kstate get secrets`: kops-format secrets (`secrets/<name>` holding
 * `{"Data":"<base64>"}`), sealed on the client when the store encrypts client side. Listings show
 * names and a short SHA-256 of each value; values only with --reveal.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { ClusterStore, mapLimit } from "../../store/cluster-store";
import { applyDocuments, checkPlan, planDocuments } from "../../ops/documents";
import { decodeSecret, encodeSecret, SECRET_NAME, secretHash } from "../../store/secrets";
import { isEnvelope, openPath, type VfsPath } from "../../vfs";
import { isEncryptedPath } from "../../vfs/encrypted";
import { colours, EXIT, type Io, table, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import { openStore, stateStore } from "../store-url";

/**
 * The cluster: the --name flag, else KOPS_CLUSTER_NAME, as for every command. --cluster, which
 * these two commands once took, still works, with a warning.
 */
function secretsCluster(command: string, values: { cluster?: string | undefined; name?: string | undefined }, io: Io): string {
  if (values.cluster === undefined) return clusterName(command, undefined, values.name, io.env);
  io.stderr.write("warning: --cluster is deprecated; name the cluster with --name, as for every other command\n");
  if (values.name !== undefined && values.cluster !== values.name) {
    throw new UsageError(`two cluster names: ${JSON.stringify(values.cluster)} (--cluster) and ${JSON.stringify(values.name)} (--name); give one`);
  }
  return clusterName(command, undefined, values.cluster, io.env, "--cluster");
}

const ABOUT_SECRETS = `Secrets are stored as kops stores them: secrets/NAME holding {"Data":"<base64>"}; names may hold
letters, digits and . _ - : (kops's system:dns, for instance). With KSTATE_PASSPHRASE set they are
encrypted before they leave this machine (see kstate rekey --help).`;

const CLUSTER_OPTIONS = `  --state URL       the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)
  --name CLUSTER    the cluster (default: KOPS_CLUSTER_NAME, as for kops)`;

export const CREATE_SECRET_HELP = `Usage: kstate create secret NAME --name CLUSTER (--from-literal VALUE | --from-file PATH) [--replace]

Stores secret NAME of cluster CLUSTER. It refuses to overwrite a different value unless --replace
(then the write is conditional on the revision read); the same value again is nothing to do.

${ABOUT_SECRETS}

Options:
${CLUSTER_OPTIONS}
  --from-literal V  the value, as given
  --from-file PATH  the value, the file's bytes
  --replace         overwrite a different value

Exit codes: 0 success, 1 failure, 2 usage error, 3 a different value is stored (or it changed
meanwhile), 4 nothing to do.
`;

export const GET_SECRETS_HELP = `Usage: kstate get secrets --name CLUSTER [--reveal] [-o table|json]

Lists the secrets of cluster CLUSTER: names, a short SHA-256 of each value and whether it is
stored encrypted; values only with --reveal.

${ABOUT_SECRETS}

Options:
${CLUSTER_OPTIONS}
  --reveal          print the values too
  -o, --output      table (default) or json

Exit codes: 0 success, 1 failure (e.g. no such cluster), 2 usage error.
`;

export async function createSecret(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { cluster: { type: "string" }, name: { type: "string" }, "from-literal": { type: "string" }, "from-file": { type: "string" }, replace: { type: "boolean" }, state: { type: "string" } },
  });
  const [, name, ...rest] = positionals;
  if (!name || rest.length > 0) throw new UsageError("create secret takes one secret NAME");
  if (!SECRET_NAME.test(name)) throw new UsageError(`secret name ${JSON.stringify(name)}: use letters, digits and . _ - : only`);
  const cluster = secretsCluster("create secret", values, io);
  if ((values["from-literal"] === undefined) === (values["from-file"] === undefined)) throw new UsageError("give exactly one of --from-literal VALUE or --from-file PATH");
  let value: Buffer;
  if (values["from-file"] !== undefined) {
    try {
      value = fs.readFileSync(values["from-file"]);
    } catch (e) {
      throw new UsageError(`--from-file ${values["from-file"]}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
  } else value = Buffer.from(values["from-literal"]!, "utf8");
  if (value.length === 0) throw new UsageError("the secret's value is empty");

  const store = new ClusterStore(openStore(values.state, io.env, io.stderr));
  await store.requireConfig(cluster);
  const plan = await planDocuments(store, { name: cluster, edits: [{ file: `secrets/${name}`, content: Buffer.from(encodeSecret(value)) }] });
  checkPlan(store, plan);
  const what = `secret ${name} of ${cluster}`;
  const change = plan.changes[0];
  if (!change) {
    io.stdout.write(`Secret ${name} of ${cluster} already holds this value: nothing to do.\n`);
    return EXIT.nothingToDo;
  }
  if (change.action === "update" && !values.replace) {
    io.stderr.write(`kstate: ${what} holds a different value; pass --replace to overwrite it\n`);
    return EXIT.conflict;
  }
  await applyDocuments(store, plan);
  io.stdout.write(`${colours(io).green(change.action === "create" ? "Created" : "Replaced")} ${what} (sha256 ${secretHash(value)}).\n`);
  return EXIT.ok;
}

export async function getSecrets(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { cluster: { type: "string" }, name: { type: "string" }, reveal: { type: "boolean" }, output: { type: "string", short: "o" }, state: { type: "string" } },
  });
  if (positionals.length > 1) throw new UsageError("get secrets takes no names; name the cluster with --name CLUSTER");
  const cluster = secretsCluster("get secrets", values, io);
  const output = values.output ?? "table";
  if (!["table", "json"].includes(output)) throw new UsageError(`-o must be table or json (got ${output})`);
  const store = new ClusterStore(openStore(values.state, io.env, io.stderr));
  await store.requireConfig(cluster);
  const folder = store.cluster(cluster).join("secrets");
  const raw: VfsPath = openPath(stateStore(values.state, io.env)).join(cluster, "secrets");
  const names = (await folder.list()).map((f) => f.path).sort();
  const rows = await mapLimit(names, 16, async (n) => {
    // One read of the stored bytes: they tell whether the file is encrypted, and open to the value.
    const stored = (await raw.join(n).read()).data;
    const file = folder.join(n);
    const value = decodeSecret((isEncryptedPath(file) ? await file.open(stored) : stored).toString("utf8"), file.url);
    return { name: n, sha256: secretHash(value), encrypted: isEnvelope(stored), ...(values.reveal ? { value: value.toString("utf8") } : {}) };
  });
  if (output === "json") io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    io.stdout.write(table(["NAME", "SHA256", "ENCRYPTED", ...(values.reveal ? ["VALUE"] : [])], rows.map((r) => [r.name, r.sha256, r.encrypted ? "yes" : "no", ...(values.reveal ? [r.value ?? ""] : [])])));
  }
  return EXIT.ok;
}
