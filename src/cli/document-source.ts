/**
 * What `apply -f` and `diff -f` read: a folder laid out as the store (as `kstate export` writes
 * it), a file or stdin holding a stream of Cluster and InstanceGroup documents, or a single one.
 */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { type Document, isMap } from "yaml";
import { SECRET_PREFIX } from "../ops/documents";
import { clusterNameProblems, validationError } from "../ops/validate";
import { parseKopsDocument } from "../store/cluster-store";
import { documentText } from "../store/document-text";
import { CLUSTER_LABEL, CONFIG_FILE, INSTANCE_GROUP_DIR } from "../store/layout";
import { getIn, parseKopsStream, stringifyYaml } from "../store/yaml";
import { ValidationError } from "../vfs/errors";
import { UsageError } from "./io";

export interface SourceFile {
  /** The file in the store: `config`, `instancegroup/<name>` or `secrets/<name>`. */
  file: string;
  content: Document | Buffer;
  /** Where it was read from, for messages. */
  from: string;
}

export interface DocumentSource {
  /** The cluster the documents belong to (its config's name, else the groups' label). */
  cluster: string;
  files: SourceFile[];
  /** The folder, when a folder was given: documents missing from it can be pruned. */
  folder?: string;
  /** A folder holding a secrets/ folder, or a stream with the Cluster: what it lacks is missing, not merely unsaid. */
  whole: { groups: boolean; secrets: boolean };
}

/** A file's text: UTF-8 only (a replacement character would otherwise be written to the store). */
function text(bytes: Buffer, from: string): string {
  const decoded = documentText(bytes, from);
  // What a merge leaves where both sides changed a line (kstate pull, git) is not a document yet.
  const marker = decoded.split("\n").findIndex((l) => /^(<<<<<<<|>>>>>>>)( |$)/.test(l));
  if (marker >= 0) throw new ValidationError(`${from}: line ${marker + 1} is a merge conflict marker; edit the lines between the markers to what they should say, and remove the markers`, { problems: [{ path: "", message: "conflict markers" }] });
  if (decoded.trim() === "") throw new ValidationError(`${from}: empty; a kops document is a YAML mapping with apiVersion and kind`, { problems: [{ path: "", message: "empty" }] });
  return decoded;
}

function filesIn(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort() : [];
}

function fromFolder(dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  const config = nodePath.join(dir, CONFIG_FILE);
  if (fs.existsSync(config)) out.push({ file: CONFIG_FILE, content: parseKopsDocument(text(fs.readFileSync(config), config), config, "Cluster"), from: config });
  for (const g of filesIn(nodePath.join(dir, INSTANCE_GROUP_DIR))) {
    const from = nodePath.join(dir, INSTANCE_GROUP_DIR, g);
    out.push({ file: `${INSTANCE_GROUP_DIR}/${g}`, content: parseKopsDocument(text(fs.readFileSync(from), from), from, "InstanceGroup"), from });
  }
  for (const s of filesIn(nodePath.join(dir, SECRET_PREFIX))) {
    const from = nodePath.join(dir, SECRET_PREFIX, s);
    out.push({ file: `${SECRET_PREFIX}${s}`, content: fs.readFileSync(from), from });
  }
  if (out.length === 0) throw new ValidationError(`${dir}: no config, instancegroup/ or secrets/ files (export a cluster with kstate export NAME --to DIR)`);
  return out;
}

function fromStream(body: string, from: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const doc of parseKopsStream(body, from)) {
    const kind = getIn(doc, ["kind"]);
    const yaml = stringifyYaml(doc);
    if (kind === "Cluster") out.push({ file: CONFIG_FILE, content: parseKopsDocument(yaml, from, "Cluster"), from });
    else if (kind === "InstanceGroup") {
      const name = getIn(doc, ["metadata", "name"]);
      if (typeof name !== "string" || name === "") throw new ValidationError(`${from}: an InstanceGroup without metadata.name`, { problems: [{ path: "metadata.name", message: "required" }] });
      out.push({ file: `${INSTANCE_GROUP_DIR}/${name}`, content: parseKopsDocument(yaml, from, "InstanceGroup"), from });
    } else {
      const found = !isMap(doc.contents) ? "a document that is no mapping" : kind === undefined || kind === null ? "a document with no kind field" : `kind ${JSON.stringify(kind)}`;
      throw new ValidationError(`${from}: ${found}; apply takes Cluster and InstanceGroup documents`, { problems: [{ path: "kind", message: "must be Cluster or InstanceGroup" }] });
    }
  }
  if (out.length === 0) throw new ValidationError(`${from}: no documents`);
  return out;
}

/** The cluster the documents name: the config's name, else the one cluster their groups' labels name, else `named`. */
function clusterOf(files: readonly SourceFile[], source: string, named: string | undefined): string {
  const config = files.find((f) => f.file === CONFIG_FILE);
  const found = config
    ? [getIn(config.content as Document, ["metadata", "name"])]
    : [...new Set(files.filter((f) => f.file.startsWith(`${INSTANCE_GROUP_DIR}/`)).map((f) => getIn(f.content as Document, ["metadata", "labels", CLUSTER_LABEL])))].filter((n) => n !== undefined);
  if (found.length > 1) throw new ValidationError(`${source}: documents of more than one cluster (${found.map((n) => JSON.stringify(n)).join(", ")}); apply one cluster at a time`);
  // A Cluster document names its cluster itself (without a name it is invalid, as for kops).
  const name = config ? found[0] : found[0] ?? named;
  if (name === undefined && !config) throw new UsageError(`${source}: no Cluster document and no ${CLUSTER_LABEL} label to tell the cluster by: give it with --name`);
  // The name becomes a path in the store: checked before anything is read there.
  const problems = clusterNameProblems(name);
  if (problems.length > 0) throw validationError(typeof name === "string" && name !== "" ? name.slice(0, 80) : "(unnamed)", problems.map((p) => ({ ...p, file: source })));
  if (named !== undefined && name !== named) throw new ValidationError(`${source}: the documents are of cluster ${JSON.stringify(name)}, not ${JSON.stringify(named)}`);
  return name as string;
}

/** A stream that holds the Cluster and its groups (as `get all -o yaml` prints) speaks for every group; a lone document does not. */
function wholeStream(files: readonly SourceFile[]): boolean {
  return files.some((f) => f.file === CONFIG_FILE) && files.some((f) => f.file.startsWith(`${INSTANCE_GROUP_DIR}/`));
}

/** Reads `-f`: a folder, a file, or `-` for stdin (`stdin` is then read whole). */
export async function readSource(source: string, stdin: NodeJS.ReadableStream, named: string | undefined): Promise<DocumentSource> {
  if (source === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    const files = fromStream(text(Buffer.concat(chunks), "stdin"), "stdin");
    return { cluster: clusterOf(files, "stdin", named), files, whole: { groups: wholeStream(files), secrets: false } };
  }
  const stat = fs.statSync(source, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`-f ${source}: no such file or folder`);
  if (stat.isDirectory()) {
    const files = fromFolder(source);
    return { cluster: clusterOf(files, source, named), files, folder: source, whole: { groups: fs.existsSync(nodePath.join(source, CONFIG_FILE)), secrets: fs.existsSync(nodePath.join(source, SECRET_PREFIX)) } };
  }
  const files = fromStream(text(fs.readFileSync(source), source), source);
  return { cluster: clusterOf(files, source, named), files, whole: { groups: wholeStream(files), secrets: false } };
}
