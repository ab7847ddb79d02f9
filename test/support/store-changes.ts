/**
 * What changed in a cluster's folder between two readings, in the words `pulumi preview` prints
 * (one line per field, owner and secret), to compare what a preview listed with what `up` wrote.
 */
import { describeChanges, diffDocuments, type FileChange, ownershipChanges } from "../../src/ops/cluster";
import { describeSecretChanges, type SecretChange } from "../../src/ops/secrets";
import { decodeSecret } from "../../src/store/secrets";
import { parseYaml } from "../../src/store/yaml";
import type { VfsPath } from "../../src/vfs";

export type Files = Map<string, Buffer>;

/** Every file of a cluster's folder, by path relative to it. */
export async function readFolder(folder: VfsPath): Promise<Files> {
  const out: Files = new Map();
  for (const f of await folder.listTree()) out.set(f.path, (await folder.join(f.path).read()).data);
  return out;
}

function plainOf(bytes: Buffer | undefined, file: string): Record<string, unknown> | undefined {
  return bytes === undefined ? undefined : (parseYaml(bytes.toString("utf8"), file).toJS() as Record<string, unknown>);
}

/** The change lines that turn `before` into `after`: documents first (config, then groups), then secrets. */
export function describeStoredChanges(before: Files, after: Files): string[] {
  const docs = (f: string) => f === "config" || f.startsWith("instancegroup/");
  const files = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: FileChange[] = [];
  for (const file of ["config", ...files.filter((f) => f.startsWith("instancegroup/"))]) {
    const b = plainOf(before.get(file), file);
    const a = plainOf(after.get(file), file);
    if (!b && !a) continue;
    const fields = diffDocuments(b, a);
    if (!a) changes.push({ file, action: "delete", fields, owners: {} });
    // A created document's creation time is the time of writing, which no preview can know.
    else if (!b) changes.push({ file, action: "create", fields, owners: ownershipChanges(b, a), stamped: true });
    else {
      const owners = ownershipChanges(b, a);
      if (fields.length > 0 || Object.keys(owners).length > 0) changes.push({ file, action: "update", fields, owners });
    }
  }
  const secrets: SecretChange[] = [];
  for (const file of files.filter((f) => f.startsWith("secrets/"))) {
    const name = file.slice("secrets/".length);
    const b = before.get(file);
    const a = after.get(file);
    if (!a) secrets.push({ name, action: "delete" });
    else if (!b) secrets.push({ name, action: "create" });
    else if (!decodeSecret(b.toString(), file).equals(decodeSecret(a.toString(), file))) secrets.push({ name, action: "update" });
  }
  for (const f of files) if (!docs(f) && !f.startsWith("secrets/") && before.get(f)?.equals(after.get(f) ?? Buffer.alloc(0)) === false) throw new Error(`${f} changed: no kstate plan covers it`);
  return [...describeChanges({ changes }), ...describeSecretChanges(secrets)];
}

/** The change lines a preview printed for a cluster (on stderr with --diff, under Diagnostics without). */
export function previewedChanges(result: { stdout: string; stderr: string }, cluster: string): string[] {
  const prefix = `${cluster}: `;
  const lines = new Set<string>();
  for (const raw of `${result.stdout}\n${result.stderr}`.split("\n")) {
    const line = raw.trim();
    if (line.startsWith(prefix)) lines.add(line.slice(prefix.length));
  }
  return [...lines];
}

/** The two lists as sets, sorted, for comparing. */
export function sorted(lines: readonly string[]): string[] {
  return [...lines].sort();
}
