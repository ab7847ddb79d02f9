/**
 * `kstate create|get|delete sshpublickey`: the cluster's admin SSH public key, where and as kops
 * keeps it (pki/ssh/public/admin/<md5 fingerprint in hex>, the key file's bytes).
 */
import { parseArgs } from "node:util";
import { applyAdminSshKey, type AdminSshKeyPlan, LEGACY_SSH_SECRET, legacySshKeyNotice, planClusterSshKey, planDeleteAdminSshKeys, readAdminSshKeys } from "../../ops/admin-ssh-key";
import { ClusterStore } from "../../store/cluster-store";
import { NotFoundError } from "../../vfs/errors";
import { clusterName } from "../cluster-name";
import { readInputFile } from "../input-file";
import { colours, confirm, EXIT, type Io, table, UsageError } from "../io";
import { openClusterStore } from "../open-store";

const CLUSTER_OPTIONS = `  --state URL       the state store (default: KSTATE_STATE_STORE, KOPS_STATE_STORE, then kops's config file)
  --name CLUSTER    the cluster (or the argument; default KOPS_CLUSTER_NAME, as for kops)`;

const ABOUT = `The key is stored as kops stores it: the file's bytes at pki/ssh/public/admin/<id>, where <id> is
its MD5 fingerprint (ssh-keygen -l -E md5) in hex. kops builds a cluster with exactly one admin key.`;

export const CREATE_SSH_KEY_HELP = `Usage: kstate create sshpublickey [CLUSTER] --name CLUSTER -i FILE [--replace] [--dry-run]

Makes the OpenSSH public key in FILE (-i -: stdin) the cluster's admin SSH key, as kops create
sshpublickey does. The file must hold a public key (a private key, a certificate or a PuTTY or
SSH2 file is refused, naming the file). The same key again is nothing to do. When the cluster has
another key, kops would store a second one beside it and then refuse to update the cluster;
kstate refuses instead, and --replace puts the new key in the old one's place (created first,
then the old one removed, each write conditional).

${ABOUT}

Options:
${CLUSTER_OPTIONS}
  -i, --ssh-public-key FILE  the public key file (- reads stdin); --pubkey is kops's old spelling
  --replace, --force         replace another stored key
  --dry-run                  show the change and write nothing

Exit codes: 0 done, 1 refused or invalid (nothing written), 2 usage error, 4 nothing to do.
`;

export const GET_SSH_KEYS_HELP = `Usage: kstate get sshpublickeys [CLUSTER] --name CLUSTER [-o table|yaml|json]
       kstate get sshpublickey …, kstate get ssh …   (the same, as kops's aliases)

Lists the cluster's admin SSH keys as kops get sshpublickeys does: a table of IDs (the MD5
fingerprints), or with -o yaml|json each key's id and publicKey. A file there that holds no key is
listed with an empty ID, as kops lists it, and named on stderr (exit 1). A secrets/sshpublickey
file, which older kstate wrote and kops never reads, is reported with how to move it.

${ABOUT}

Options:
${CLUSTER_OPTIONS}
  -o, --output      table (default), yaml or json

Exit codes: 0 success, 1 failure (no such cluster, no key, or a file that is not a key), 2 usage error.
`;

export const DELETE_SSH_KEY_HELP = `Usage: kstate delete sshpublickey [CLUSTER] --name CLUSTER [--yes] [--dry-run]

Deletes the cluster's admin SSH keys (every file under pki/ssh/public/admin/), as kops delete
sshpublickey does, after showing them and asking (or --yes). Each removal is conditional on the
file being as it was read. Machines keep the key they were built with until they are replaced.

Options:
${CLUSTER_OPTIONS}
  -y, --yes         do not ask
  --dry-run         show the change and write nothing

Exit codes: 0 done, 1 failure, 2 usage error, 4 nothing to do (no key stored).
`;

function header(io: Io, cluster: string, store: ClusterStore, plan: AdminSshKeyPlan): void {
  io.stdout.write(`${colours(io).bold(`Cluster ${cluster}`)} in ${store.root.url}\n${plan.lines.map((l) => `  ${l}`).join("\n")}\n`);
}

async function legacyFile(store: ClusterStore, cluster: string): Promise<boolean> {
  try {
    await store.cluster(cluster).join("secrets", LEGACY_SSH_SECRET).stat();
    return true;
  } catch (e) {
    if (NotFoundError.isInstance(e)) return false;
    throw e;
  }
}

export async function createSshPublicKey(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      name: { type: "string" }, state: { type: "string" }, "ssh-public-key": { type: "string", short: "i" }, pubkey: { type: "string" },
      replace: { type: "boolean" }, force: { type: "boolean" }, "dry-run": { type: "boolean" }, yes: { type: "boolean", short: "y" },
    },
  });
  const cluster = clusterName("create sshpublickey", positionals.slice(1), values.name, io.env);
  if (values.pubkey !== undefined) io.stderr.write("warning: --pubkey is deprecated (as in kops); use -i / --ssh-public-key\n");
  const file = values["ssh-public-key"] ?? values.pubkey;
  if (file === undefined) throw new UsageError("create sshpublickey needs the key file: -i FILE (or -i - for stdin)");
  if (values["ssh-public-key"] !== undefined && values.pubkey !== undefined && values.pubkey !== file) throw new UsageError("two key files: give -i FILE once");
  const input = await readInputFile("-i", file, io);
  const store = openClusterStore(values.state, io.env, io);
  const [plan, legacy] = await Promise.all([planClusterSshKey(store, cluster, input.data, input.source, { replace: values.replace === true || values.force === true }), legacyFile(store, cluster)]);
  const key = plan.key;
  if (legacy) io.stderr.write(`note: ${legacySshKeyNotice(cluster)}`);
  if (plan.lines.length === 0) {
    io.stdout.write(`Cluster ${cluster} already has admin SSH key ${key.fingerprint}: nothing to do.\n`);
    return EXIT.nothingToDo;
  }
  header(io, cluster, store, plan);
  if (values["dry-run"]) {
    io.stdout.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  await applyAdminSshKey(store.cluster(cluster), plan);
  io.stdout.write(`${colours(io).green(plan.remove.length > 0 ? "Replaced" : "Created")} the admin SSH key of ${cluster}: ${key.type} ${key.fingerprint}.\n`);
  return EXIT.ok;
}

/**
 * A scalar as Go's YAML (yaml.v2, under kops's sigs.k8s.io/yaml) writes it in a block mapping at
 * `column`: plain where it can be, else single-quoted; folded, either way, at the first single
 * space past column 80, continued at `indent`.
 */
function goYamlScalar(value: string, column: number, indent: number): string {
  const chars = Array.from(value); // yaml.v2 counts columns in characters
  // A key file of several lines (comments, more keys) goes to YAML's block styles, not copied here.
  if (value === "" || /[\n\r]/.test(value)) return JSON.stringify(value);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(value)) return goDoubleQuoted(chars, column, indent);
  const plain = /^[^-?:,[\]{}#&*!|>'"%@`\s]/.test(value) && !/\s$/.test(value) && !/: |:$| #/.test(value)
    && !/^(y|n|yes|no|true|false|on|off|null|~|[-+]?[0-9][0-9_.eE+-]*|[-+]?\.(inf|nan))$/i.test(value);
  let out = plain ? "" : "'";
  let col = column + (plain ? 0 : 1);
  chars.forEach((c, i) => {
    if (c === " " && chars[i - 1] !== " " && col > 80 && chars[i + 1] !== " " && (plain || (i !== 0 && i !== chars.length - 1))) {
      out += `\n${" ".repeat(indent)}`;
      col = indent;
      return;
    }
    out += c === "'" && !plain ? "''" : c;
    col += c === "'" && !plain ? 2 : 1;
  });
  return plain ? out : `${out}'`;
}

const ESCAPES: Record<string, string> = { "\0": "\\0", "\x07": "\\a", "\b": "\\b", "\t": "\\t", "\x0b": "\\v", "\f": "\\f", "\x1b": "\\e", '"': '\\"', "\\": "\\\\", "\x85": "\\N", "\xa0": "\\_", "\u2028": "\\L", "\u2029": "\\P" };

/** yaml.v2's double-quoted style: what it cannot print escaped, folded past column 80. */
function goDoubleQuoted(chars: string[], column: number, indent: number): string {
  let out = '"';
  let col = column + 1;
  let spaces = false;
  chars.forEach((c, i) => {
    if (c === " ") {
      if (!spaces && col > 80 && i !== 0 && i !== chars.length - 1) {
        out += `\n${" ".repeat(indent)}${chars[i + 1] === " " ? "\\" : ""}`;
        col = indent + (chars[i + 1] === " " ? 1 : 0);
      } else {
        out += c;
        col++;
      }
      spaces = true;
      return;
    }
    const code = c.codePointAt(0)!;
    // eslint-disable-next-line no-control-regex
    const printable = !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(c) && c !== '"' && c !== "\\";
    const written = printable ? c : ESCAPES[c] ?? (code <= 0xff ? `\\x${code.toString(16).toUpperCase().padStart(2, "0")}` : code <= 0xffff ? `\\u${code.toString(16).toUpperCase().padStart(4, "0")}` : `\\U${code.toString(16).toUpperCase().padStart(8, "0")}`);
    out += written;
    col += printable ? 1 : written.length;
    spaces = false;
  });
  return `${out}"`;
}

function keysYaml(items: readonly { id: string; publicKey: string }[]): string {
  if (items.length === 0) return "null\n"; // what kops prints for none (a nil list)
  return items.map((k) => `- id: ${goYamlScalar(k.id, 6, 4)}\n  publicKey: ${goYamlScalar(k.publicKey, 13, 4)}\n`).join("");
}

export async function getSshPublicKeys(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" }, output: { type: "string", short: "o" } },
  });
  const output = values.output ?? "table";
  if (!["table", "yaml", "json"].includes(output)) throw new UsageError(`-o must be table, yaml or json (got ${output})`);
  const cluster = clusterName("get sshpublickeys", positionals.slice(1), values.name, io.env);
  const store = openClusterStore(values.state, io.env, io);
  // That the cluster is there, the keys and the legacy file, at once.
  const [, keys, legacy] = await Promise.all([store.requireConfig(cluster), readAdminSshKeys(store, cluster), legacyFile(store, cluster)]);
  if (legacy) io.stderr.write(`note: ${legacySshKeyNotice(cluster)}`);
  // As kops: the key's fingerprint, or an empty ID for a file that holds no key.
  const items = keys.map((k) => ({ id: k.fingerprint ?? "", publicKey: k.publicKey }));
  for (const k of keys) if (k.problem) io.stderr.write(`kstate get sshpublickeys: ${k.problem}\n`);
  if (output === "table") {
    if (items.length === 0) throw new NotFoundError(`no SSH public key found for cluster ${cluster} in ${store.root.url} (add one with kstate create sshpublickey --name ${cluster} -i FILE)`);
    io.stdout.write(table(["ID"], items.map((k) => [k.id])));
  } else if (output === "yaml") io.stdout.write(keysYaml(items));
  else io.stdout.write(JSON.stringify(items.length === 0 ? null : items)); // compact, no newline: as kops prints it
  return keys.some((k) => k.problem) ? EXIT.failure : EXIT.ok;
}

export async function deleteSshPublicKey(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" }, yes: { type: "boolean", short: "y" }, "dry-run": { type: "boolean" } },
  });
  const cluster = clusterName("delete sshpublickey", positionals.slice(1), values.name, io.env);
  const store = openClusterStore(values.state, io.env, io);
  const [, keys] = await Promise.all([store.requireConfig(cluster), readAdminSshKeys(store, cluster)]);
  const plan = planDeleteAdminSshKeys(cluster, keys);
  if (plan.lines.length === 0) {
    io.stdout.write(`Cluster ${cluster} has no admin SSH key: nothing to do.\n`);
    return EXIT.nothingToDo;
  }
  header(io, cluster, store, plan);
  if (values["dry-run"]) {
    io.stdout.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  if (!values.yes && !(await confirm(io, `Delete the admin SSH key${plan.remove.length > 1 ? "s" : ""} of ${cluster}?`, "delete the SSH key"))) return EXIT.failure;
  await applyAdminSshKey(store.cluster(cluster), plan);
  io.stdout.write(`${colours(io).green("Deleted")} the admin SSH key${plan.remove.length > 1 ? "s" : ""} of ${cluster}.\n`);
  return EXIT.ok;
}
