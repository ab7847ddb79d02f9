/**
 * Who owns which fields of a kops document, recorded in the document itself as Kubernetes's
 * server-side apply records it: `metadata.managedFields`, one entry per manager, the owned field
 * paths as a `FieldsV1` tree (`f:<key>` for a map key, `k:{"name":"…"}` for a named list item,
 * `.` for the node itself). kops keeps `metadata` as it is, so every writer (a Pulumi stack, the
 * kstate CLI, kops) sees who owns what.
 *
 * Here a manager's fields are a set of formatted field paths (`spec.kubelet.maxPods`,
 * `spec.subnets[name=us-east-1a]`), and `DOCUMENT` stands for the document itself: its manager
 * created it, and it goes when that manager lets go of it and nobody else owns anything in it.
 */
import { type Document, isMap, isSeq, type YAMLMap } from "yaml";
import { type FieldPath, formatPath, type Segment } from "./field-path";
import { deleteIn, getNode, setIn } from "./yaml";

/** The document itself, as an owned "path". */
export const DOCUMENT = ".";

/**
 * The owner of values a document held before any manager set them, as Kubernetes names it. A
 * manager that starts setting such a field to the value it already has shares it with this owner,
 * so the value stays when that manager lets go; a manager that changes the value takes it alone.
 * It never causes a conflict.
 */
export const BEFORE_FIRST_APPLY = "before-first-apply";

const API_VERSION = "kops.k8s.io/v1alpha2";
const PATH: FieldPath = ["metadata", "managedFields"];

/** Owned field paths by manager. */
export type Owners = Map<string, Set<string>>;

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The FieldsV1 tree of a set of paths. */
export function toFieldsV1(paths: Iterable<string>, parse: (p: string) => FieldPath): Tree {
  interface Node { owned: boolean; children: Map<string, Node> }
  const root: Node = { owned: false, children: new Map() };
  for (const p of paths) {
    let node = root;
    for (const seg of p === DOCUMENT ? [] : parse(p)) {
      const key = typeof seg === "string" ? `f:${seg}` : `k:${JSON.stringify({ name: seg.name })}`;
      let next = node.children.get(key);
      if (!next) node.children.set(key, (next = { owned: false, children: new Map() }));
      node = next;
    }
    node.owned = true;
  }
  // An owned node with owned children marks itself with `.`; an owned leaf is `{}`.
  const render = (node: Node, isRoot: boolean): Tree => {
    const out: Tree = {};
    if (node.owned && (isRoot || node.children.size > 0)) out["."] = {};
    for (const k of [...node.children.keys()].sort()) out[k] = render(node.children.get(k)!, false);
    return out;
  };
  return render(root, true);
}

/** The paths a FieldsV1 tree owns. Keys of other forms (`v:`, `i:`) are not ours; they are skipped. */
export function fromFieldsV1(tree: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: Tree, path: Segment[]) => {
    const children = Object.keys(node).filter((k) => k !== ".");
    if (path.length === 0 ? node["."] !== undefined : node["."] !== undefined || children.length === 0) {
      out.add(path.length === 0 ? DOCUMENT : formatPath(path));
    }
    for (const k of children) {
      const v = node[k];
      if (!isTree(v)) continue;
      if (k.startsWith("f:")) walk(v, [...path, k.slice(2)]);
      else if (k.startsWith("k:")) {
        try {
          const key = JSON.parse(k.slice(2)) as { name?: unknown };
          if (typeof key.name === "string") walk(v, [...path, { name: key.name }]);
        } catch {
          // not a key of ours
        }
      }
    }
  };
  if (isTree(tree)) walk(tree, []);
  return out;
}

/** The managers recorded in a document and the paths each owns. */
export function readOwners(doc: Document): Owners {
  const owners: Owners = new Map();
  const node = getNode(doc, PATH);
  if (!isSeq(node)) return owners;
  for (const item of node.items) {
    if (!isMap(item)) continue;
    const entry = (item as YAMLMap).toJSON() as Record<string, unknown>;
    if (typeof entry.manager !== "string") continue;
    const paths = fromFieldsV1(entry.fieldsV1);
    const mine = owners.get(entry.manager) ?? new Set<string>();
    for (const p of paths) mine.add(p);
    owners.set(entry.manager, mine);
  }
  return owners;
}

/** The same, from a plain document. */
export function ownersOf(plain: unknown): Owners {
  const owners: Owners = new Map();
  const entries = (plain as { metadata?: { managedFields?: unknown } } | undefined)?.metadata?.managedFields;
  if (!Array.isArray(entries)) return owners;
  for (const e of entries as Record<string, unknown>[]) {
    if (typeof e?.manager !== "string") continue;
    owners.set(e.manager, new Set([...(owners.get(e.manager) ?? []), ...fromFieldsV1(e.fieldsV1)]));
  }
  return owners;
}

/**
 * Writes the ownership records: one entry per manager that owns something, in name order, or no
 * `managedFields` at all when nobody owns anything. Entries are rewritten only when they change,
 * so a document whose ownership is the same keeps its bytes.
 */
export function writeOwners(doc: Document, owners: Owners, parse: (p: string) => FieldPath): void {
  const wanted = [...owners.entries()].filter(([, paths]) => paths.size > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([manager, paths]) => ({
    apiVersion: API_VERSION,
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(paths, parse),
    manager,
    operation: "Apply",
  }));
  const current = getNode(doc, PATH);
  if (wanted.length === 0) {
    if (current !== undefined) deleteIn(doc, PATH);
    return;
  }
  const currentPlain = current === undefined ? undefined : (toPlainNode(current));
  if (JSON.stringify(currentPlain) === JSON.stringify(wanted)) return;
  setIn(doc, PATH, wanted);
}

function toPlainNode(node: unknown): unknown {
  return (node as { toJSON(): unknown }).toJSON();
}

/** Every path any manager but `except` owns (the shared owner included). */
export function ownedByOthers(owners: Owners, except: string): Set<string> {
  const out = new Set<string>();
  for (const [m, paths] of owners) if (m !== except) for (const p of paths) out.add(p);
  return out;
}

/** True when a plain document records any manager. */
export function hasOwners(plain: unknown): boolean {
  return ownersOf(plain).size > 0;
}

/** A plain document without its ownership records, for showing and comparing contents. */
export function withoutOwners<T>(plain: T): T {
  const meta = (plain as { metadata?: Record<string, unknown> } | undefined)?.metadata;
  if (!meta || !("managedFields" in meta)) return plain;
  const { managedFields: _drop, ...rest } = meta;
  return { ...(plain as object), metadata: rest } as T;
}
