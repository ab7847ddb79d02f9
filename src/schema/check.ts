/**
 * Checks a document against kops's API schema (`kops-<version>.json`, generated from kops's Go
 * types): every field one kops knows, with the type kops decodes it as. kops itself decodes
 * without complaint what it does not know and drops it, so a misspelt field would be lost without
 * a word; here it is a problem, with the name kops knows if one is close.
 *
 * The value checked is the document as parsed (YAML 1.1, as kops parses it): `null` is allowed
 * anywhere, as Go's JSON decoding takes it (it leaves the field unset).
 */
import { ValidationError } from "../vfs/errors";
import type { KopsSchema, RefNode, SchemaNode } from "./format";

export { KOPS_VERSION } from "./kops-types";

export interface SchemaProblem {
  /** The field path, e.g. `spec.kubelet.maxPods` or `spec.subnets[name=us-east-1a].cidr`. */
  path: string;
  message: string;
}

let loaded: KopsSchema | undefined;

/** The schema kstate checks against, loaded on first use (it is large, and reads never need it). */
export function kopsSchema(): KopsSchema {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= (require("./kops-schema") as { KOPS_SCHEMA: KopsSchema }).KOPS_SCHEMA);
}

/**
 * Loads the schema a little later, off the current turn: called when a plan's reads are sent, so
 * its few milliseconds of parsing happen while they are in flight, not after them, and do not
 * delay sending them.
 */
export function loadKopsSchemaSoon(): void {
  if (loaded === undefined) setTimeout(kopsSchema, 2).unref();
}

interface Walk {
  schema: KopsSchema;
  problems: SchemaProblem[];
  /** Whether missing required fields count (not for a part to be merged into a document). */
  required: boolean;
  /** Values not known yet (a Pulumi preview's unknowns): not checked. */
  skip?: (value: unknown) => boolean;
  /** Whether the document is written from its values (not its text), so numbers must be exact. */
  rewritten: boolean;
}

/** The problems with `doc` as a document of `kind` (`Cluster`, `InstanceGroup`, …). */
export function checkDocument(kind: string, doc: unknown, schema: KopsSchema = kopsSchema()): SchemaProblem[] {
  const w: Walk = { schema, problems: [], required: true, rewritten: true };
  walk(w, kindRoot(schema, kind), doc, "");
  return w.problems;
}

/**
 * The problems with `value` as the field at `at` (e.g. `spec`) of a document of `kind`, where
 * `value` is a part to be merged into the document: fields and types are checked, required
 * fields are not (the document may have them), and values `skip` says are not known yet are left
 * alone. Paths are given from the document's root. `rewritten: false` when the text is kept as
 * it is, so a number need not be one JavaScript holds exactly.
 */
export function checkPart(kind: string, at: string[], value: unknown, options: { skip?: (value: unknown) => boolean; rewritten?: boolean } = {}, schema: KopsSchema = kopsSchema()): SchemaProblem[] {
  let node: SchemaNode = kindRoot(schema, kind);
  for (const key of at) {
    const parent = resolve(schema, node);
    const child = "type" in parent && parent.type === "object" ? (parent.additionalProperties === false ? parent.properties[key] : parent.additionalProperties) : undefined;
    if (!child) throw new ValidationError(`the kops schema has no field ${at.join(".")} in ${kind}`, { problems: [{ path: at.join("."), message: "no such field" }] });
    node = child;
  }
  const w: Walk = { schema, problems: [], required: false, rewritten: options.rewritten ?? true, ...(options.skip ? { skip: options.skip } : {}) };
  walk(w, node, value, at.reduce(join, ""));
  return w.problems;
}

function kindRoot(schema: KopsSchema, kind: string): SchemaNode {
  const root = schema["x-kinds"][kind];
  if (!root) throw new ValidationError(`the kops schema has no kind ${JSON.stringify(kind)}`, { problems: [{ path: "kind", message: "no such kind" }] });
  return root;
}

type Resolved = Exclude<SchemaNode, RefNode>;

function resolve(schema: KopsSchema, node: SchemaNode): Resolved {
  while ("$ref" in node) {
    const target = schema.$defs[node.$ref.replace(/^#\/\$defs\//, "")];
    if (!target) throw new ValidationError(`the kops schema refers to ${node.$ref}, which it does not define`);
    node = target;
  }
  return node;
}

function join(path: string, key: string): string {
  return path === "" ? key : /^[A-Za-z_$][\w$-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A list item's path: by its name where it has one (kops's lists are mostly of named things). */
function itemPath(path: string, item: unknown, index: number): string {
  const name = typeof item === "object" && item !== null ? (item as Record<string, unknown>).name : undefined;
  return typeof name === "string" && name !== "" ? `${path}[name=${name}]` : `${path}[${index}]`;
}

function walk(w: Walk, at: SchemaNode, value: unknown, path: string): void {
  if (value === null || value === undefined || w.skip?.(value)) return;
  const node = resolve(w.schema, at);
  const problem = (message: string): void => void w.problems.push({ path, message });

  if ("x-kops-any" in node) return;
  if ("x-kops-type" in node) {
    const message = special(node["x-kops-type"], value);
    if (message) problem(message);
    return;
  }
  switch (node.type) {
    case "object": {
      if (!isMap(value)) return problem(`expected a map, found ${describe(value)}`);
      if (node.additionalProperties === false) {
        const known = node.properties;
        for (const [k, v] of Object.entries(value)) {
          if (Object.hasOwn(known, k)) walk(w, known[k]!, v, join(path, k));
          else w.problems.push({ path: join(path, k), message: unknownField(k, Object.keys(known)) });
        }
        for (const k of w.required ? (node.required ?? []) : []) {
          if (value[k] === undefined || value[k] === null) w.problems.push({ path: join(path, k), message: "required" });
        }
      } else {
        for (const [k, v] of Object.entries(value)) walk(w, node.additionalProperties, v, join(path, k));
      }
      return;
    }
    case "array":
      if (!Array.isArray(value)) return problem(`expected a list, found ${describe(value)}`);
      value.forEach((item, i) => walk(w, node.items, item, itemPath(path, item, i)));
      return;
    case "string":
      if (typeof value !== "string") return problem(`expected a string, found ${describe(value)}${typeof value === "number" || typeof value === "boolean" ? " (put the value in quotes as you wrote it)" : ""}`);
      if (UNREADABLE.test(value)) return problem(`holds a character kops's YAML reader refuses or changes (${JSON.stringify(UNREADABLE.exec(value)![0])})`);
      if (node.enum && !node.enum.includes(value)) return problem(`${JSON.stringify(value)} is not one of ${node.enum.map((v) => (v === "" ? '""' : v)).join(", ")}`);
      if (node.format === "byte" && !isBase64(value)) return problem("expected base64 data");
      if (node.format === "date-time" && !isRfc3339(value)) return problem(`${JSON.stringify(value)} is not a time like 2024-01-02T15:04:05Z`);
      return;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return problem(`expected a whole number (${node["x-go-type"]}), found ${describe(value)}`);
      if (value < node.minimum || value > node.maximum) return problem(`${value} is out of range for ${node["x-go-type"]} (${node.minimum} to ${node.maximum})`);
      // Beyond 2^53 a number is no longer kept exactly, so what would be written is not what was given.
      if (w.rewritten && !Number.isSafeInteger(value)) problem(`${value} is beyond what kstate keeps exactly (${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER})`);
      return;
    case "number":
      if (typeof value !== "number") problem(`expected a number, found ${describe(value)}`);
      return;
    case "boolean":
      if (typeof value !== "boolean") problem(`expected true or false, found ${describe(value)}`);
      return;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (isMap(v)) return "a map";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
  if (typeof v === "number") return `the number ${v}`;
  if (typeof v === "boolean") return `${v}`;
  return typeof v;
}

/** `resource.ParseQuantity`'s grammar: a signed decimal, then a binary or decimal SI suffix or an exponent. */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
/** `time.ParseDuration`'s grammar. */
const DURATION = /^[+-]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

function special(type: "quantity" | "duration" | "int-or-string", value: unknown): string | undefined {
  switch (type) {
    case "quantity":
      if (typeof value === "number" ? Number.isFinite(value) : typeof value === "string" && QUANTITY.test(value)) return undefined;
      return `expected a quantity such as 100Mi, 2 or 500m, found ${describe(value)}`;
    case "duration":
      if (typeof value === "string" && DURATION.test(value) && Math.abs(durationNanoseconds(value)) <= MAX_DURATION_NS) return undefined;
      if (typeof value === "string" && DURATION.test(value)) return `${JSON.stringify(value)} is longer than Go's longest duration (about 2562047h)`;
      return `expected a duration such as 30s or 1h30m, found ${describe(value)}`;
    case "int-or-string":
      if (typeof value === "string" || (typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1)) return undefined;
      return `expected a whole number or a string, found ${describe(value)}`;
  }
}

/** Go's time.Duration is an int64 of nanoseconds. */
const MAX_DURATION_NS = 9223372036854775807;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function durationNanoseconds(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(n) * UNIT_NS[unit!]!;
  return total;
}

/**
 * Characters Go's YAML reader refuses (C0 controls other than tab and newlines, DEL, U+FFFE and
 * U+FFFF) or reads as something else (C1 controls, U+2028, U+2029).
 */
// eslint-disable-next-line no-control-regex
const UNREADABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]/;

function isBase64(s: string): boolean {
  const t = s.replace(/[\r\n]/g, "");
  return t.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(t);
}

function isRfc3339(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));
}

function unknownField(key: string, known: string[]): string {
  const near = closest(key, known);
  return `unknown field${near ? `; did you mean ${near}?` : ` (kops would drop it: it knows ${known.length <= 12 ? known.join(", ") : `${known.slice(0, 12).join(", ")}, …`})`}`;
}

/** The known name `key` is most likely a slip for: same letters in another case, or a few edits away. */
export function closest(key: string, known: string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase) return sameCase;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(key.length / 4)));
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d <= bestDistance && (best === undefined || d < bestDistance)) (best = k), (bestDistance = d);
  }
  return best;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]![j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
