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
import { type Document, isSeq } from "yaml";
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

/**
 * What a document's `metadata.managedFields` holds beside its own fields: the secrets a manager
 * keeps in the cluster's `secrets/` folder are recorded on the cluster's `config` as the
 * `secrets` subresource, one `f:<name>` per secret.
 */
export const SECRETS = "secrets";

function entriesOf(plain: unknown): Record<string, unknown>[] {
  const entries = (plain as { metadata?: { managedFields?: unknown } } | undefined)?.metadata?.managedFields;
  return Array.isArray(entries) ? (entries as Record<string, unknown>[]).filter((e) => typeof e === "object" && e !== null) : [];
}

function ownersIn(entries: Record<string, unknown>[], subresource: string | undefined): Owners {
  const owners: Owners = new Map();
  for (const e of entries) {
    if (typeof e.manager !== "string" || (e.subresource ?? undefined) !== subresource) continue;
    owners.set(e.manager, new Set([...(owners.get(e.manager) ?? []), ...fromFieldsV1(e.fieldsV1)]));
  }
  return owners;
}

/** The managers recorded in a document and the paths each owns (of the document, or of a subresource). */
export function readOwners(doc: Document, subresource?: string): Owners {
  const node = getNode(doc, PATH);
  return isSeq(node) ? ownersIn(entriesOf({ metadata: { managedFields: node.toJSON() } }), subresource) : new Map();
}

/** The same, from a plain document. */
export function ownersOf(plain: unknown, subresource?: string): Owners {
  return ownersIn(entriesOf(plain), subresource);
}

/**
 * Writes the ownership records of the document (or of one subresource): one entry per manager that
 * owns something, in name order; entries of other subresources stay. No `managedFields` at all when
 * nobody owns anything. Unchanged records keep their bytes.
 */
export function writeOwners(doc: Document, owners: Owners, parse: (p: string) => FieldPath, subresource?: string): void {
  const current = getNode(doc, PATH);
  const existing = current === undefined ? [] : entriesOf({ metadata: { managedFields: toPlainNode(current) } });
  const others = existing.filter((e) => (e.subresource ?? undefined) !== subresource);
  const mine = [...owners.entries()].filter(([, paths]) => paths.size > 0).map(([manager, paths]) => ({
    apiVersion: API_VERSION,
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(paths, parse),
    manager,
    operation: "Apply",
    ...(subresource ? { subresource } : {}),
  }));
  const key = (e: Record<string, unknown>) => `${String(e.subresource ?? "")}\u0000${String(e.manager)}`;
  const wanted = [...others, ...mine].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  if (wanted.length === 0) {
    if (current !== undefined) deleteIn(doc, PATH);
    return;
  }
  if (JSON.stringify(existing) === JSON.stringify(wanted)) return;
  setIn(doc, PATH, wanted);
}

function toPlainNode(node: unknown): unknown {
  return (node as { toJSON(): unknown }).toJSON();
}

/** A plain document without its ownership records, for showing and comparing contents. */
export function withoutOwners<T>(plain: T): T {
  const meta = (plain as { metadata?: Record<string, unknown> } | undefined)?.metadata;
  if (!meta || !("managedFields" in meta)) return plain;
  const { managedFields: _drop, ...rest } = meta;
  return { ...(plain as object), metadata: rest } as T;
}
