import { Document, isCollection, isMap, isNode, isScalar, isSeq, type Node, Pair, parseAllDocuments, parseDocument, Scalar, type Tags, visit, YAMLMap, YAMLSeq } from "yaml";
import { ValidationError } from "../vfs/errors";
import type { FieldPath, Segment } from "./field-path";

/** Documents larger than this are refused before parsing (kops documents are a few KiB). */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

// YAML 1.1 as kops's Go YAML reads it: `yes` is true, and strings such as "on" or a timestamp are
// quoted when written. Unlike the YAML 1.1 schema: timestamps stay strings, `1:30` is a string
// (Go has no base-60 numbers), Go's own integer forms (`0o10`, `0X1F`, `1_000`) are numbers, and
// !!omap, !!pairs, !!set and !!binary are not read (Go reads none of them as kops expects).
const GO_INT = /^[-+]?(0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|0[bB][01_]+)$/;
const goIntForms = {
  identify: () => false,
  default: true,
  tag: "tag:yaml.org,2002:int",
  test: GO_INT,
  resolve(source: string): number {
    const sign = source.startsWith("-") ? -1 : 1;
    const digits = source.replace(/^[-+]/, "").replace(/_/g, "");
    const base = { o: 8, x: 16, b: 2 }[digits[1]!.toLowerCase() as "o" | "x" | "b"];
    return sign * parseInt(digits.slice(2), base);
  },
};
const NOT_GO = new Set(["tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs", "tag:yaml.org,2002:set", "tag:yaml.org,2002:binary"]);
const FLOAT = "tag:yaml.org,2002:float";
/**
 * YAML 1.1's float forms read `.`, `-.`, `e5` and `.e5` as numbers; Go's YAML (strconv.ParseFloat)
 * reads a float only with a digit before the exponent, so those are strings (kops writes the
 * managedFields key `.` plain). The forms are kept, with that digit required.
 */
function withMantissaDigit<T>(t: T): T {
  const { tag, test } = (typeof t === "object" && t !== null ? t : {}) as { tag?: string; test?: RegExp };
  if (tag !== FLOAT || !test || !test.source.startsWith("^[-+]?(?:[0-9]")) return t;
  return { ...t, test: new RegExp(`^(?=[-+]?[._0-9]*[0-9])${test.source.slice(1)}`) };
}
const withoutTimestamps = (tags: Tags) => [
  goIntForms,
  ...tags.filter((t) => {
    const { tag, format } = t as { tag?: string; format?: string };
    return !NOT_GO.has(tag ?? "") && format !== "TIME";
  }).map(withMantissaDigit),
] as Tags;
const PARSE_OPTIONS = { version: "1.1", customTags: withoutTimestamps, uniqueKeys: true, maxAliasCount: 50, prettyErrors: true, strict: true } as const;
/** What Go's YAML (strconv.ParseInt and ParseFloat with base prefixes and `_`) reads as a number. */
const GO_NUMBER = /^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9_]+)?|\.[0-9][0-9_]*([eE][-+]?[0-9_]+)?|\.(inf|Inf|INF|nan|NaN|NAN))$/;
// Flow collections as people type them (`[a, b]`); kops itself writes none but `{}` and `[]`.
const STRINGIFY_OPTIONS = { indentSeq: false, lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false } as const;

/**
 * Parses one YAML document for reading only: plain values, no comments or positions. Several times
 * faster than `parseYaml` on first use (a listing of a thousand clusters parses a thousand configs
 * in a fresh process), so listings take it; anything that edits or writes takes `parseYaml`.
 * Timestamps stay strings, as there; duplicate keys are an error, as there.
 */
export function parseYamlValues(text: string, source: string): unknown {
  checkSize(text, source);
  // Loaded on first use: commands that edit never need it.
  const jsYaml = require("js-yaml") as typeof import("js-yaml");
  try {
    return jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, filename: source });
  } catch (cause) {
    const e = cause as { reason?: string; mark?: { line: number; column: number } };
    const where = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : "";
    throw new ValidationError(`${source}: invalid YAML${where}: ${e.reason ?? (cause as Error).message}`, { problems: [{ path: "", message: e.reason ?? "invalid YAML" }], cause });
  }
}

function checkSize(text: string, source: string): void {
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) {
    throw new ValidationError(`${source}: larger than ${MAX_DOCUMENT_BYTES} bytes; kops documents are a few KiB`, {
      problems: [{ path: "", message: "document too large" }],
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) {
    throw new ValidationError(`${source}: not a text document (it holds binary data)`, { problems: [{ path: "", message: "binary data" }] });
  }
}

function firstError(doc: Document, source: string): ValidationError | undefined {
  const e = doc.errors[0] ?? doc.warnings.find((w) => w.code === "TAG_RESOLVE_FAILED");
  if (!e) return undefined;
  const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
  // The parser's message repeats the place (" at line L, column C:") before its code frame.
  const reason = e.code === "MULTIPLE_DOCS"
    ? "more than one document (a kops file holds one)"
    : e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  return new ValidationError(`${source}: invalid YAML${where}: ${reason}`, {
    problems: [{ path: "", message: reason }],
    cause: e,
  });
}

/** A map key Go's YAML cannot take (null, or a list or map), as a `ValidationError`. */
function badKey(doc: Document, source: string, text: string): ValidationError | undefined {
  let found: ValidationError | undefined;
  visit(doc, {
    Pair(_key, pair) {
      const key = pair.key as Node | null;
      const bad = key === null || !isScalar(key) ? (key === null ? "an empty key" : "a list or map as a key") : key.value === null ? "a null key" : undefined;
      if (!bad) return undefined;
      const line = key?.range ? text.slice(0, key.range[0]).split("\n").length : undefined;
      found = new ValidationError(`${source}: ${bad}${line ? ` at line ${line}` : ""}; kops's map keys are strings`, { problems: [{ path: "", message: bad }] });
      return visit.BREAK;
    },
  });
  return found;
}

/** Parses one YAML document, keeping comments and key order. Bad input is a `ValidationError` naming `source`. */
export function parseYaml(text: string, source: string): Document {
  checkSize(text, source);
  const doc = parseDocument(text, PARSE_OPTIONS);
  const error = firstError(doc, source) ?? badKey(doc, source, text);
  if (error) throw error;
  // Expanding aliases here makes alias bombs fail now, not later.
  try {
    doc.toJS({ maxAliasCount: 50 });
  } catch (cause) {
    throw new ValidationError(`${source}: ${(cause as Error).message}`, { problems: [{ path: "", message: "too many aliases" }], cause });
  }
  return doc;
}

/**
 * Parses a stream given to be stored, the way `kops create -f` splits it: at each line that is
 * `---` alone (so a block scalar just before it loses its final newline there too), each part then
 * parsed as YAML.
 */
export function parseKopsStream(text: string, source: string): Document[] {
  checkSize(text, source);
  return text.replace(/\r\n/g, "\n").split("\n---\n").flatMap((section) => {
    const docs = parseYamlStream(section, source);
    // Go's reader ends a block scalar that ends the input without a line break with none.
    if (!section.endsWith("\n")) {
      for (const doc of docs) {
        visit(doc, {
          Scalar(_key, node) {
            const block = node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED";
            if (block && node.range && node.range[2] >= section.length && typeof node.value === "string" && node.value.endsWith("\n")) node.value = node.value.slice(0, -1);
          },
        });
      }
    }
    return docs;
  });
}

/** Parses a stream of `---`-separated documents (as `kops get all -o yaml` prints). */
export function parseYamlStream(text: string, source: string): Document[] {
  checkSize(text, source);
  const docs = parseAllDocuments(text, PARSE_OPTIONS);
  if (!Array.isArray(docs)) throw new ValidationError(`${source}: invalid YAML`, { problems: [{ path: "", message: "invalid YAML" }] });
  for (const doc of docs) {
    const error = firstError(doc, source) ?? badKey(doc, source, text);
    if (error) throw error;
    try {
      doc.toJS({ maxAliasCount: 50 });
    } catch (cause) {
      throw new ValidationError(`${source}: ${(cause as Error).message}`, { problems: [{ path: "", message: "too many or unresolved aliases" }], cause });
    }
  }
  return docs.filter((d) => d.contents !== null);
}

const TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2}([Tt ]|$)/;

export function stringifyYaml(doc: Document): string {
  // Go's YAML reads an unquoted timestamp as a time, and Go's number forms (`0o10`, `0X1F`,
  // `1e1_0`) as numbers, where YAML 1.1 sees strings: quote them, as kops does.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && (TIMESTAMP.test(node.value) || GO_NUMBER.test(node.value)) && !node.type?.startsWith("QUOTE")) node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString(STRINGIFY_OPTIONS);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

/** A new document for a plain value, keys sorted as kops writes them. */
export function newDocument(value: unknown): Document {
  return new Document(sortKeys(value), { version: "1.1", customTags: withoutTimestamps });
}

function keyOf(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

/** Adds a key to a map: in sorted place when the map's keys are sorted (as kops writes them), else last. */
function addKey(doc: Document, map: YAMLMap, key: string, node: unknown): void {
  const pair = new Pair(new Scalar(key), node);
  const keys = map.items.map(keyOf);
  const sorted = keys.every((k, i) => i === 0 || keys[i - 1]! <= k);
  const at = sorted ? keys.findIndex((k) => k > key) : -1;
  if (at < 0) map.items.push(pair);
  else map.items.splice(at, 0, pair);
  void doc;
}

export function toPlain(doc: Document): unknown {
  return doc.toJS({ maxAliasCount: 50 });
}

/** The YAML node a segment leads to from `node`, or undefined. */
function child(node: unknown, seg: Segment): unknown {
  if (typeof seg === "string") return isMap(node) ? node.get(seg, true) : undefined;
  if (!isSeq(node)) return undefined;
  return node.items.find((item) => isMap(item) && item.get("name") === seg.name);
}

export function getNode(doc: Document, path: FieldPath): unknown {
  let node: unknown = doc.contents;
  for (const seg of path) {
    node = child(node, seg);
    if (node === undefined) return undefined;
  }
  return node;
}

/** The plain value at `path`, or undefined. */
export function getIn(doc: Document, path: FieldPath): unknown {
  const node = getNode(doc, path);
  if (node === undefined) return undefined;
  return isScalar(node) ? node.value : (node as Node).toJSON();
}

export function hasIn(doc: Document, path: FieldPath): boolean {
  return getNode(doc, path) !== undefined;
}

/**
 * Sets `path` to `value`, creating maps (and named list items) on the way. Untouched nodes keep
 * their comments and order. A scalar is replaced in place, so its comment stays with it.
 */
export function setIn(doc: Document, path: FieldPath, value: unknown): void {
  if (path.length === 0) throw new ValidationError("setIn: empty path");
  if (!isMap(doc.contents)) doc.contents = new YAMLMap();
  let node = doc.contents as YAMLMap | YAMLSeq;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    if (typeof seg !== "string") {
      // A named item of a list: always a map holding `name`.
      let item = child(node, seg) as YAMLMap | undefined;
      if (!item) {
        item = doc.createNode({ name: seg.name }) as YAMLMap;
        (node as YAMLSeq).items.push(item);
      }
      node = item;
      continue;
    }
    const wantSeq = typeof path[i + 1] !== "string";
    let next: unknown = (node as YAMLMap).get(seg, true);
    if (wantSeq ? !isSeq(next) : !isMap(next)) {
      const created = wantSeq ? new YAMLSeq() : new YAMLMap();
      if (next === undefined) addKey(doc, node as YAMLMap, seg, created);
      else (node as YAMLMap).set(seg, created);
      next = created;
    }
    node = next as YAMLMap | YAMLSeq;
  }
  const last = path[path.length - 1]!;
  if (typeof last !== "string") {
    const seq = node as YAMLSeq;
    const index = seq.items.findIndex((item) => isMap(item) && item.get("name") === last.name);
    const created = doc.createNode(sortKeys({ name: last.name, ...(value as object) }));
    if (index >= 0) seq.items[index] = keepLook(seq.items[index], created);
    else seq.items.push(created);
    return;
  }
  const map = node as YAMLMap;
  const existing: unknown = map.get(last, true);
  if (isScalar(existing) && (value === null || typeof value !== "object")) {
    existing.value = value; // in place: the comment stays with it
    return;
  }
  if (existing === undefined) {
    addKey(doc, map, last, doc.createNode(sortKeys(value)));
    return;
  }
  const replacement = keepLook(existing, doc.createNode(sortKeys(value)));
  map.set(last, replacement);
  // A line comment (`key: value  # why`) on a value now written as a block list or map: on the
  // key's line, where it was, not after the block.
  const lineComment = isScalar(existing) || (isCollection(existing) && existing.flow === true);
  const key = map.items.find((p) => keyOf(p) === last)?.key;
  if (lineComment && (isSeq(replacement) || isMap(replacement)) && !replacement.flow && replacement.comment && isScalar(key)) {
    key.comment = replacement.comment;
    delete replacement.comment;
  }
}

/**
 * `replacement` with what a person wrote around the node it replaces: its comments (on the line
 * and above it) and, for a list replaced by a list or a map by a map, its flow style (`[a, b]`).
 */
function keepLook(old: unknown, replacement: Node): Node {
  if (!isNode(old)) return replacement;
  if (old.comment) replacement.comment = old.comment;
  if (old.commentBefore) replacement.commentBefore = old.commentBefore;
  if (old.spaceBefore) replacement.spaceBefore = true;
  if ((isSeq(old) && isSeq(replacement)) || (isMap(old) && isMap(replacement))) replacement.flow = old.flow === true;
  return replacement;
}

/** Removes `path` (a key, or a named list item). Absent paths are left alone. */
export function deleteIn(doc: Document, path: FieldPath): void {
  if (path.length === 0) return;
  const parent = getNode(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (typeof last === "string") {
    if (isMap(parent)) parent.delete(last);
    return;
  }
  if (isSeq(parent)) {
    const index = parent.items.findIndex((item) => isMap(item) && item.get("name") === last.name);
    if (index >= 0) parent.items.splice(index, 1);
  }
}

/** True when the node at `path` is a map with no keys (or a named item with only its name). */
export function isEmptyAt(doc: Document, path: FieldPath): boolean {
  const node = getNode(doc, path);
  if (isMap(node)) {
    const keys = node.items.map((p) => (isScalar(p.key) ? p.key.value : p.key));
    const last = path[path.length - 1];
    return keys.length === 0 || (last !== undefined && typeof last !== "string" && keys.length === 1 && keys[0] === "name");
  }
  return isSeq(node) && node.items.length === 0;
}
