/** `kstate edit cluster NAME` and `kstate edit ig --name CLUSTER GROUP`: $EDITOR on the stored YAML. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as nodePath from "node:path";
import { parseArgs } from "node:util";
import type { Document } from "yaml";
import { applyDocuments, checkPlan, planDocuments } from "../../ops/documents";
import { applyOverlay } from "../../ops/merge";
import { describeChanges } from "../../ops/plan";
import { ClusterStore, parseKopsDocument, type StoredDocument } from "../../store/cluster-store";
import { documentText } from "../../store/document-text";
import { readPolicyAhead } from "../../store/policy-guard";
import { hasIn } from "../../store/yaml";
import { ConflictError, NotFoundError, RefusedError } from "../../vfs/errors";
import { colours, EXIT, type Io, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import { specOverlay } from "../create-flags";
import { openClusterStore } from "../open-store";

export const EDIT_HELP = `Usage: kstate edit cluster [NAME] [--set PATH=VALUE]… [--unset PATH]… [--state URL]
       kstate edit ig --name CLUSTER GROUP [--set PATH=VALUE]… [--unset PATH]… [--state URL]

The cluster is the argument, else --name, else KOPS_CLUSTER_NAME, as for kops.

With --set or --unset (as kops edit takes them: spec.kubelet.maxPods=110, --unset
spec.kubelet.maxPods) the change is made without an editor: the changed fields are shown and
written, validated as a whole cluster and conditional on the revision read. Nothing changed: exit 4.

Opens the stored document in KSTATE_EDITOR, EDITOR or VISUAL (default vi). Comments and key
order survive. Saving it unchanged cancels. A YAML error stops the edit and keeps your text in a
file it names; a validation error reopens the editor with the problems on top, as kops does. The
write happens only if nobody changed the document since it was opened; if somebody did, nothing
is overwritten and your text is kept (exit 3).
`;

const HEADER = [
  "# Please edit the object below. Lines beginning with '#' above the first key are ignored,",
  "# and an unchanged file cancels the edit. Comments below are kept.",
  "#",
];

function editorCommand(io: Io): string {
  return io.env.KSTATE_EDITOR ?? io.env.EDITOR ?? io.env.VISUAL ?? "vi";
}

/** The user's text without the leading comment block this command added. */
function body(text: string): string {
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith("#")) i++;
  return lines.slice(i).join("\n");
}

function runEditor(io: Io, file: string): void {
  const result = spawnSync("/bin/sh", ["-c", `${editorCommand(io)} "$1"`, "kstate-editor", file], { stdio: "inherit", env: { ...process.env, ...io.env } as NodeJS.ProcessEnv });
  if (result.error || result.status !== 0) throw new RefusedError(`the editor (${editorCommand(io)}) failed${result.status !== null ? ` with exit code ${result.status}` : ""}: ${result.error?.message ?? "see its output above"}`);
}

export async function edit(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" }, set: { type: "string", multiple: true }, unset: { type: "string", multiple: true } },
  });
  const [kind, target, ...rest] = positionals;
  let cluster: string;
  let group: string | undefined;
  if (kind === "cluster") {
    cluster = clusterName("edit cluster", positionals.slice(1), values.name, io.env);
  } else if (kind === "ig" || kind === "instancegroup") {
    if (!target || rest.length > 0) throw new UsageError("edit ig takes one group name (and the cluster as --name CLUSTER or KOPS_CLUSTER_NAME)");
    cluster = clusterName("edit ig", undefined, values.name, io.env);
    group = target;
  } else throw new UsageError("edit takes `cluster NAME` or `ig --name CLUSTER GROUP`");
  const overlay = values.set || values.unset ? specOverlay(values.set ?? [], values.unset ?? []) : undefined;

  const store = openClusterStore(values.state, io.env, io);
  // Without an editor the change is planned on one reading of the cluster (the document and the
  // rest, for validating the whole), and written conditional on it; with one, the document is read
  // now and the cluster again when the editor is done (time passes there).
  readPolicyAhead(store.root);
  const read = overlay ? await store.readCluster(cluster) : undefined;
  const stored: StoredDocument | undefined = group === undefined ? (read ? read.config ?? store.noSuchCluster(cluster) : await store.requireConfig(cluster))
    : read ? read.groups.get(group) : await store.readInstanceGroup(cluster, group);
  if (!stored) throw new NotFoundError(`instance group ${JSON.stringify(group)} of ${cluster} not found in ${store.root.url}`, { url: store.instanceGroupPath(cluster, group!).url });
  const file = group === undefined ? "config" : `instancegroup/${group}`;
  const plan = (doc: Document) => planDocuments(store, { name: cluster, edits: [{ file, content: doc, basedOn: stored.revision }] }, new Date(), read);
  if (overlay) {
    // As kops: unsetting a field that is not there is a mistake (a typo, say), not a no-op.
    for (const u of values.unset ?? []) {
      if (!hasIn(stored.doc, u.replace(/^(cluster|instancegroup)\./, "").split("."))) throw new UsageError(`--unset ${u}: no such field in ${stored.path.url}`);
    }
    const doc = stored.doc.clone();
    applyOverlay(doc, overlay, []);
    const planned = await plan(doc);
    checkPlan(store, planned);
    const lines = describeChanges(planned);
    io.stdout.write(lines.length ? `${lines.map((l) => `  ${l}`).join("\n")}\n` : "No changes.\n");
    if (planned.changes.length === 0) return EXIT.nothingToDo;
    await applyDocuments(store, planned);
    io.stdout.write(`Saved ${stored.path.url}.\n`);
    return EXIT.ok;
  }
  return editInEditor(io, stored, group === undefined ? "Cluster" : "InstanceGroup", group ?? cluster, plan, store);
}

async function editInEditor(io: Io, stored: StoredDocument, kindName: "Cluster" | "InstanceGroup", label: string, plan: (doc: Document) => ReturnType<typeof planDocuments>, store: ClusterStore): Promise<number> {
  const original = stored.text;
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "kstate-edit-"));
  const file = nodePath.join(dir, `${label}.yaml`);
  fs.writeFileSync(file, `${HEADER.join("\n")}\n${original}`, { mode: 0o600 });
  const c = colours(io, "stderr");
  let errors: string[] = [];
  let lastAttempt: string | undefined;
  let keep = false; // the temp folder holds the user's text worth keeping
  const keepText = (edited: string | Buffer) => {
    const kept = `${file}.kept`;
    fs.writeFileSync(kept, edited, { mode: 0o600 });
    keep = true;
    return kept;
  };
  // The edit stops on `e`, keeping what the user saved.
  const stop = (e: unknown, saved: string | Buffer) => {
    io.stderr.write(`${c.red("error")}: ${(e as Error).message}\nA copy of your changes has been stored to ${keepText(saved)}\n`);
    return EXIT.failure;
  };
  try {
    for (;;) {
      runEditor(io, file);
      // Read as a stored document is: UTF-8 only, a byte-order mark (some editors add one) dropped.
      const saved = fs.readFileSync(file);
      let text: string;
      try {
        text = documentText(saved, file);
      } catch (e) {
        return stop(e, saved);
      }
      const edited = body(text);
      // As kops: a file saved empty (blank lines and comments only) cancels the edit.
      if (edited.split("\n").every((line) => /^\s*(#.*)?$/.test(line))) {
        io.stdout.write("Edit cancelled: saved file was empty.\n");
        return EXIT.nothingToDo;
      }
      if (edited === original) {
        io.stdout.write("Edit cancelled: no changes made.\n"); // as kops says it
        return EXIT.nothingToDo;
      }
      if (errors.length > 0 && edited === lastAttempt) {
        io.stderr.write(`Edit cancelled: no valid changes were saved.\n`);
        return EXIT.failure;
      }
      let doc;
      try {
        doc = parseKopsDocument(edited, file, kindName);
      } catch (e) {
        return stop(e, edited);
      }
      // The cluster as it would be with this document in place; a problem reopens the editor. A
      // cluster that cannot be read (its config damaged meanwhile, say) stops the edit, keeping the text.
      let planned;
      try {
        planned = await plan(doc);
      } catch (e) {
        return stop(e, edited);
      }
      if (planned.problems.length > 0) {
        errors = planned.problems.map((p) => `${p.file ? `${p.file}: ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}`);
        lastAttempt = edited;
        fs.writeFileSync(file, `${HEADER.join("\n")}\n# validation failed:\n${errors.map((e) => `#   ${e}`).join("\n")}\n#\n${edited}`);
        continue;
      }
      if (planned.changes.length === 0) {
        io.stdout.write("Edit cancelled: no changes made.\n"); // as kops says it
        return EXIT.nothingToDo;
      }
      try {
        await applyDocuments(store, planned);
      } catch (e) {
        if (!ConflictError.isInstance(e)) throw e;
        io.stderr.write(`kstate edit: ${c.red("conflict")}: ${stored.path.url} was changed by someone else while you edited it; nothing was overwritten.\nYour version is in ${keepText(edited)}; run the edit again to apply it on top of theirs.\n`);
        return EXIT.conflict;
      }
      io.stdout.write(`${describeChanges(planned).map((l) => `  ${l}\n`).join("")}Saved ${stored.path.url}.\n`);
      return EXIT.ok;
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
