/** `kstate diff -f` and `kstate apply -f`: make the stored documents what a folder or file says. */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { parseArgs } from "node:util";
import type { Document } from "yaml";
import { diffDocuments } from "../../ops/cluster";
import { clusterNameProblems, validateClusterWithGroups, validationError } from "../../ops/validate";
import { ClusterStore, parseKopsDocument } from "../../store/cluster-store";
import { CONFIG_FILE, INSTANCE_GROUP_DIR } from "../../store/layout";
import { getIn, parseKopsStream, setIn, stringifyYaml } from "../../store/yaml";
import { ConflictError, ValidationError } from "../../vfs/errors";
import { colours, EXIT, type Io, confirm, UsageError } from "../io";
import { readBase, writeBase } from "../export-record";
import { openStore } from "../store-url";

export const APPLY_HELP = `Usage: kstate apply -f DIR|FILE [--dry-run] [--yes] [--state URL]
       kstate diff -f DIR|FILE [--state URL]

Makes the stored documents what DIR (a folder laid out as \`kstate export\` writes it) or FILE
(a stream of Cluster and InstanceGroup documents, as \`kstate get all -o yaml\` prints) says.
Shows each field that changes, validates the whole cluster, asks before writing (unless --yes),
and writes each document only if it is unchanged since it was read (exit 3 if not). For a folder
that \`kstate export\` wrote, a document changed in the store since the export is not
overwritten either (exit 3: export again and redo the change, or --force); after an apply the
folder's record is brought up to date. diff only shows the changes.
`;

export const DIFF_HELP = `Usage: kstate diff -f DIR|FILE [--state URL]

Shows what \`kstate apply -f DIR|FILE\` would change, field by field, and writes nothing. DIR is a
folder laid out as \`kstate export\` writes it; FILE a stream of Cluster and InstanceGroup
documents, as \`kstate get all -o yaml\` prints it. The whole cluster is validated as apply
validates it.
`;

/** A file's text: UTF-8 only (a replacement character would otherwise be written to the store). */
function readText(file: string): string {
  const bytes = fs.readFileSync(file);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new ValidationError(`${file}: not UTF-8 text; kops documents are UTF-8`, { problems: [{ path: "", message: "not UTF-8" }], cause });
  }
}

interface Desired {
  file: string;
  doc: Document;
  name: string;
}

/** The documents a folder or a YAML stream holds, by store file. */
function readDesired(source: string): { cluster: string; docs: Desired[]; folder?: string } {
  const docs: Desired[] = [];
  const stat = fs.statSync(source, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`-f ${source}: no such file or folder`);
  if (stat.isDirectory()) {
    const config = nodePath.join(source, CONFIG_FILE);
    if (!fs.existsSync(config)) throw new ValidationError(`${source}: no config file (export a cluster with kstate export NAME --to DIR)`);
    docs.push({ file: CONFIG_FILE, doc: parseKopsDocument(readText(config), config, "Cluster"), name: "" });
    const igDir = nodePath.join(source, INSTANCE_GROUP_DIR);
    for (const g of fs.existsSync(igDir) ? fs.readdirSync(igDir).sort() : []) {
      const file = nodePath.join(igDir, g);
      docs.push({ file: `${INSTANCE_GROUP_DIR}/${g}`, doc: parseKopsDocument(readText(file), file, "InstanceGroup"), name: g });
    }
  } else {
    for (const doc of parseKopsStream(readText(source), source)) {
      const kind = getIn(doc, ["kind"]);
      const text = stringifyYaml(doc);
      if (kind === "Cluster") docs.push({ file: CONFIG_FILE, doc: parseKopsDocument(text, source, "Cluster"), name: "" });
      else if (kind === "InstanceGroup") {
        const g = String(getIn(doc, ["metadata", "name"]) ?? "");
        docs.push({ file: `${INSTANCE_GROUP_DIR}/${g}`, doc: parseKopsDocument(text, source, "InstanceGroup"), name: g });
      } else throw new ValidationError(`${source}: unhandled kind ${JSON.stringify(kind)} (only Cluster and InstanceGroup)`);
    }
  }
  const clusters = docs.filter((d) => d.file === CONFIG_FILE);
  if (clusters.length !== 1) throw new ValidationError(`${source}: expected exactly one Cluster document, found ${clusters.length}`);
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.file)) throw new ValidationError(`${source}: two InstanceGroup documents named ${JSON.stringify(d.name)}; a group has one document`, { problems: [{ path: `${d.file}:metadata.name`, message: "duplicate" }] });
    seen.add(d.file);
  }
  // The name becomes a path in the store: checked before anything is read there.
  const rawName = getIn(clusters[0]!.doc, ["metadata", "name"]);
  const nameProblems = clusterNameProblems(rawName);
  if (nameProblems.length > 0) throw validationError(typeof rawName === "string" && rawName !== "" ? rawName.slice(0, 80) : "(unnamed)", nameProblems.map((p) => ({ ...p, file: source })));
  const cluster = rawName as string;
  for (const d of docs) if (d.file === CONFIG_FILE) d.name = cluster;
  return { cluster, docs, ...(stat.isDirectory() ? { folder: source } : {}) };
}

export async function applyFiles(argv: string[], io: Io, diffOnly: boolean): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { filename: { type: "string", short: "f" }, "dry-run": { type: "boolean" }, yes: { type: "boolean", short: "y" }, force: { type: "boolean" }, state: { type: "string" } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}: give the documents with -f DIR|FILE`);
  if (!values.filename) throw new UsageError("-f DIR|FILE is required");
  const { cluster, docs, folder } = readDesired(values.filename);
  const store = new ClusterStore(openStore(values.state, io.env, io.stderr));
  const stored = await store.readConfig(cluster);
  const storedGroups = await store.readInstanceGroups(cluster);
  const base = folder ? readBase(folder, cluster, store.root.url) : undefined;

  // The result: the stored cluster with these documents in place of the stored ones.
  const groups: Record<string, unknown> = {};
  for (const [g, d] of storedGroups) groups[g] = d.doc.toJS();
  const groupsBefore = { ...groups };
  for (const d of docs) if (d.file !== CONFIG_FILE) groups[d.name] = d.doc.toJS();
  const config = docs.find((d) => d.file === CONFIG_FILE)!;
  const problems = validateClusterWithGroups(config.doc.toJS(), groups, stored?.doc.toJS(), cluster, groupsBefore);
  if (problems.length > 0) throw validationError(cluster, problems);

  const c = colours(io);
  const writes: { d: Desired; base: string | undefined; text: string }[] = [];
  let caughtUp = false;
  const lines: string[] = [];
  for (const d of docs) {
    const current = d.file === CONFIG_FILE ? stored : storedGroups.get(d.name);
    const before = current?.doc.toJS() as Record<string, unknown> | undefined;
    const after = d.doc.toJS() as Record<string, unknown>;
    // The generation is the store's, not the folder's: a document that differs only there is
    // unchanged, and a changed spec bumps the stored generation, as kops does.
    const changes = diffDocuments(before, after).filter((f) => f.path !== "metadata.generation");
    if (current && changes.length === 0) {
      // The folder already says what the store holds (an earlier apply whose answer was lost, say):
      // the store's revision is this document's base from now on.
      if (base && base.revisions[d.file] !== current.revision) {
        base.revisions[d.file] = current.revision;
        caughtUp = true;
      }
      continue;
    }
    // Changed in the store since the export: writing the folder's version would undo that change.
    const exportedAt = base?.revisions[d.file];
    if (base && !values.force && (current?.revision ?? "absent") !== (exportedAt ?? "absent")) {
      throw new ConflictError(`${current?.path.url ?? d.file} changed since it was exported to ${folder}: nothing was written. Export again and redo the change, or apply with --force to overwrite the store's version.`);
    }
    const storedGeneration = current ? getIn(current.doc, ["metadata", "generation"]) : undefined;
    if (typeof storedGeneration === "number") {
      setIn(d.doc, ["metadata", "generation"], JSON.stringify(before?.spec) !== JSON.stringify(after.spec) ? storedGeneration + 1 : storedGeneration);
    } else if (current && JSON.stringify(before?.spec) !== JSON.stringify(after.spec)) {
      setIn(d.doc, ["metadata", "generation"], 1);
    }
    if (!current) lines.push(`${d.file}: create`);
    for (const f of changes) {
      lines.push(f.before === undefined ? `${d.file}: + ${f.path}: ${JSON.stringify(f.after)}` : f.after === undefined ? `${d.file}: - ${f.path}: ${JSON.stringify(f.before)}` : `${d.file}: ~ ${f.path}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`);
    }
    writes.push({ d, base: current?.revision, text: stringifyYaml(d.doc) });
  }
  io.stdout.write(`${c.bold(`Cluster ${cluster}`)} in ${store.root.url}\n${lines.length ? lines.map((l) => `  ${l}`).join("\n") : "  no changes"}\n`);
  if (caughtUp && !diffOnly && !values["dry-run"]) writeBase(folder!, base!);
  if (diffOnly || values["dry-run"] || writes.length === 0) {
    if (values["dry-run"]) io.stdout.write("Dry run: nothing was written.\n");
    return EXIT.ok;
  }
  if (!values.yes) {
    if (!(await confirm(io, "Apply these changes?", "apply"))) return EXIT.failure;
  }
  // Groups before a new config, as on create; each write conditional on the revision read.
  writes.sort((a, b) => (a.d.file === CONFIG_FILE ? (stored ? -1 : 1) : 0) - (b.d.file === CONFIG_FILE ? (stored ? -1 : 1) : 0));
  for (const w of writes) {
    const path = w.d.file === CONFIG_FILE ? store.configPath(cluster) : store.instanceGroupPath(cluster, w.d.name);
    const written = w.base === undefined ? await path.create(w.text) : await path.write(w.text, { ifRevision: w.base });
    if (base) {
      // The folder now matches the store for this document: its record moves on, one write at a time.
      base.revisions[w.d.file] = written.revision;
      writeBase(folder!, base);
    }
  }
  io.stdout.write(`${c.green("Applied")}: ${writes.length} document(s) of ${cluster}.\n`);
  return EXIT.ok;
}
