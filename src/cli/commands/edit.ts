/** `kstate edit cluster NAME` and `kstate edit ig --name CLUSTER GROUP`: $EDITOR on the stored YAML. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as nodePath from "node:path";
import { parseArgs } from "node:util";
import { validateClusterWithGroups } from "../../ops/validate";
import { ClusterStore, parseKopsDocument, type StoredDocument } from "../../store/cluster-store";
import { getIn, setIn, stringifyYaml } from "../../store/yaml";
import { PreconditionFailedError } from "../../vfs";
import { NotFoundError } from "../../vfs/errors";
import { colours, EXIT, type Io, UsageError } from "../io";
import { clusterName } from "../cluster-name";
import { openStore } from "../store-url";

export const EDIT_HELP = `Usage: kstate edit cluster [NAME] [--state URL]
       kstate edit ig --name CLUSTER GROUP [--state URL]

The cluster is the argument, else --name, else KOPS_CLUSTER_NAME, as for kops.

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
  if (result.error || result.status !== 0) throw new Error(`the editor (${editorCommand(io)}) failed${result.status !== null ? ` with exit code ${result.status}` : ""}: ${result.error?.message ?? "see its output above"}`);
}

export async function edit(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { name: { type: "string" }, state: { type: "string" } },
  });
  const [kind, target, ...rest] = positionals;
  const store = new ClusterStore(openStore(values.state, io.env, io.stderr));
  let cluster: string;
  let group: string | undefined;
  if (kind === "cluster") {
    cluster = clusterName("edit cluster", positionals.slice(1), values.name, io.env);
  } else if (kind === "ig" || kind === "instancegroup") {
    if (!target || rest.length > 0) throw new UsageError("edit ig takes one group name (and the cluster as --name CLUSTER or KOPS_CLUSTER_NAME)");
    cluster = clusterName("edit ig", undefined, values.name, io.env);
    group = target;
  } else throw new UsageError("edit takes `cluster NAME` or `ig --name CLUSTER GROUP`");

  const stored: StoredDocument | undefined = group === undefined ? await store.requireConfig(cluster) : await store.readInstanceGroup(cluster, group);
  if (!stored) throw new NotFoundError(`instance group ${JSON.stringify(group)} of ${cluster} not found in ${store.root.url}`, { url: store.instanceGroupPath(cluster, group!).url });
  const kindName = group === undefined ? "Cluster" : "InstanceGroup";
  const original = stored.text;
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "kstate-edit-"));
  const file = nodePath.join(dir, `${group ?? cluster}.yaml`);
  fs.writeFileSync(file, `${HEADER.join("\n")}\n${original}`, { mode: 0o600 });
  const c = colours(io, "stderr");
  let errors: string[] = [];
  let lastAttempt: string | undefined;
  let keep = false; // the temp folder holds the user's text worth keeping
  try {
    for (;;) {
      runEditor(io, file);
      const edited = body(fs.readFileSync(file, "utf8"));
      if (edited === original) {
        io.stdout.write("Edit cancelled: no changes.\n");
        return EXIT.ok;
      }
      if (errors.length > 0 && edited === lastAttempt) {
        io.stderr.write(`Edit cancelled: no valid changes were saved.\n`);
        return EXIT.failure;
      }
      let doc;
      try {
        doc = parseKopsDocument(edited, file, kindName);
      } catch (e) {
        const kept = `${file}.kept`;
        fs.writeFileSync(kept, edited, { mode: 0o600 });
        keep = true;
        io.stderr.write(`${c.red("error")}: ${(e as Error).message}\nA copy of your changes has been stored to ${kept}\n`);
        return EXIT.failure;
      }
      // Validate the cluster as it would be with this document in place.
      const storedConfig = group === undefined ? stored.doc.toJS() : (await store.readConfig(cluster))?.doc.toJS();
      const config = group === undefined ? doc.toJS() : storedConfig;
      const groups: Record<string, unknown> = {};
      for (const [g, d] of await store.readInstanceGroups(cluster)) groups[g] = d.doc.toJS();
      const groupsBefore = { ...groups };
      if (group !== undefined) groups[group] = doc.toJS();
      const problems = validateClusterWithGroups(config, groups, storedConfig, cluster, groupsBefore);
      if (problems.length > 0) {
        errors = problems.map((p) => `${p.file ? `${p.file}: ` : ""}${p.path ? `${p.path}: ` : ""}${p.message}`);
        lastAttempt = edited;
        fs.writeFileSync(file, `${HEADER.join("\n")}\n# validation failed:\n${errors.map((e) => `#   ${e}`).join("\n")}\n#\n${edited}`);
        continue;
      }
      const before = stored.doc.toJS() as Record<string, unknown>;
      if (JSON.stringify(before.spec) !== JSON.stringify((doc.toJS() as Record<string, unknown>).spec)) {
        const g = getIn(stored.doc, ["metadata", "generation"]);
        setIn(doc, ["metadata", "generation"], (typeof g === "number" ? g : 0) + 1);
      }
      try {
        await stored.path.write(stringifyYaml(doc), { ifRevision: stored.revision });
      } catch (e) {
        if (!PreconditionFailedError.isInstance(e)) throw e;
        const kept = `${file}.kept`;
        fs.writeFileSync(kept, edited, { mode: 0o600 });
        keep = true;
        io.stderr.write(`${c.red("conflict")}: ${stored.path.url} was changed by someone else while you edited it; nothing was overwritten.\nYour version is in ${kept}; run the edit again to apply it on top of theirs.\n`);
        return EXIT.conflict;
      }
      io.stdout.write(`Saved ${stored.path.url}.\n`);
      return EXIT.ok;
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
