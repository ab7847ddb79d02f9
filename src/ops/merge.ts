import type { Document } from "yaml";
import { type FieldPath, formatPath, parsePath, type Segment } from "../store/field-path";
import { deleteIn, getIn, getNode, isEmptyAt, setIn } from "../store/yaml";
import { isMap } from "yaml";

/** One field the program sets. `value` undefined marks a named list item the program owns as a whole. */
export interface Assignment {
  path: FieldPath;
  value: unknown;
}

const ITEM = undefined;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A list merged by name: every item an object with a string `name`. */
export function isNamedList(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.length > 0 && v.every((i) => isPlainObject(i) && typeof i.name === "string");
}

/**
 * The leaf fields of a partial document. Maps are walked; lists of objects with a `name` are
 * walked item by item; any other list, a scalar, `null` or an empty map is one leaf.
 */
export function flatten(value: unknown, base: Segment[] = []): Assignment[] {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : flatten(v, [...base, k])));
  }
  if (isNamedList(value)) {
    return value.flatMap((item) => {
      const itemPath: Segment[] = [...base, { name: item.name as string }];
      const { name: _name, ...fields } = item;
      return [{ path: itemPath, value: ITEM }, ...flatten(fields, itemPath)];
    });
  }
  return [{ path: base, value }];
}

/** Deep merge for overlays: maps merge, named lists merge by name, anything else is replaced. */
export function mergeOverlay(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeOverlay(base[k], v);
    return out;
  }
  if (isNamedList(base) && isNamedList(over)) {
    const out = base.map((item) => {
      const match = over.find((o) => o.name === item.name);
      return match ? mergeOverlay(item, match) : item;
    });
    for (const o of over) if (!base.some((b) => b.name === o.name)) out.push(o);
    return out;
  }
  return over;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface MergeResult {
  /** The field paths the program owns after this merge, formatted. */
  owned: string[];
}

/**
 * Applies the program's fields to a stored document. Fields the overlay sets are written (a
 * `null` removes the field); fields in `previouslyOwned` that the overlay no longer sets are
 * removed, with maps and named items they leave empty, unless another owner still holds them
 * (`heldByOthers`); everything else, comments included, stays as it was.
 */
export function applyOverlay(doc: Document, overlay: Record<string, unknown>, previouslyOwned: readonly string[], heldByOthers: ReadonlySet<string> = new Set()): MergeResult {
  const owned = new Set<string>();
  for (const { path, value } of flatten(overlay)) {
    if (path.length === 0) continue;
    const key = formatPath(path);
    if (value === ITEM) {
      if (getNode(doc, path) === undefined) setIn(doc, path, {});
      owned.add(key);
    } else if (value === null) {
      deleteIn(doc, path);
    } else if (isPlainObject(value)) {
      // An empty map means "present": hand-added fields inside it are kept.
      if (!isMap(getNode(doc, path))) setIn(doc, path, {});
      owned.add(key);
    } else {
      if (!deepEqual(getIn(doc, path), value)) setIn(doc, path, value);
      owned.add(key);
    }
  }
  // Deepest first, so that a named item is emptied of its fields before it is itself considered.
  const released = previouslyOwned.filter((p) => !owned.has(p) && !heldByOthers.has(p) && p !== ".").map(parsePath).sort((a, b) => b.length - a.length);
  const kept = new Set([...owned, ...heldByOthers]);
  for (const path of released) {
    const isItem = typeof path[path.length - 1] !== "string";
    if (isItem) {
      // Owned whole (a subnet of a zone the options no longer list): it goes, with the values kops
      // filled in for it, unless another owner still holds something in it.
      const key = formatPath(path);
      const holds = [...heldByOthers].some((p) => p.startsWith(`${key}.`) || p.startsWith(`${key}[`));
      if (!holds || isEmptyAt(doc, path)) deleteIn(doc, path);
    } else {
      deleteIn(doc, path);
    }
    pruneEmptyParents(doc, path, kept);
  }
  // Whether the document changed is the plan's to say (plan.ts compares values): not worked out here.
  return { owned: [...owned].sort() };
}

/** Removes maps left empty by a removal, up to (not including) the top-level sections. */
function pruneEmptyParents(doc: Document, path: FieldPath, kept: Set<string>): void {
  for (let depth = path.length - 1; depth >= 2; depth--) {
    const parent = path.slice(0, depth);
    if (kept.has(formatPath(parent))) return; // an owner still wants it, empty or not
    const last = parent[parent.length - 1]!;
    if (typeof last !== "string") return; // named items go only when released themselves
    if (!isEmptyAt(doc, parent)) return;
    deleteIn(doc, parent);
  }
}
