/**
 * Mutations drawn from kops's API schema (src/schema/kops-v1.36.2.json, generated from kops's Go
 * types): a value of the wrong type in any field of a Cluster's or an InstanceGroup's spec, down
 * to three levels, and a misspelling of any field name. The schema only says where to aim; the
 * verdict is still the real kops's, so a field the schema gets wrong shows up as a disagreement.
 */
import type { SchemaNode } from "../../src/schema/format";
import { KOPS_SCHEMA } from "../../src/schema/kops-schema";
import type { Base, Doc, Mutation, Rng } from "./kops-documents";

interface Field {
  /** From the document's root: `["spec", "kubelet", "maxPods"]`. */
  path: string[];
  node: SchemaNode;
}

function resolve(node: SchemaNode): SchemaNode {
  let n = node;
  while ("$ref" in n) n = KOPS_SCHEMA.$defs[n.$ref.replace("#/$defs/", "")]!;
  return n;
}

function properties(node: SchemaNode): Record<string, SchemaNode> | undefined {
  const n = resolve(node);
  return "properties" in n ? n.properties : undefined;
}

/** Every field of `node` down to `depth` levels, through structs (not into lists or maps). */
function fieldsOf(node: SchemaNode, path: string[], depth: number, out: Field[] = []): Field[] {
  for (const [name, child] of Object.entries(properties(node) ?? {})) {
    const n = resolve(child);
    if ("x-kops-any" in n) continue;
    out.push({ path: [...path, name], node: n });
    if (depth > 1) fieldsOf(n, [...path, name], depth - 1, out);
  }
  return out;
}

const specOf = (kind: "Cluster" | "InstanceGroup") => properties(KOPS_SCHEMA["x-kinds"][kind]!)!.spec!;
let cache: { Cluster: Field[]; InstanceGroup: Field[] } | undefined;
function fields(kind: "Cluster" | "InstanceGroup"): Field[] {
  cache ??= { Cluster: fieldsOf(specOf("Cluster"), ["spec"], 3), InstanceGroup: fieldsOf(specOf("InstanceGroup"), ["spec"], 3) };
  return cache[kind];
}

/** A value kops's decoder refuses for a field of this type. */
function wrongValue(node: SchemaNode, rng: Rng): unknown {
  if ("x-kops-type" in node) return node["x-kops-type"] === "duration" ? rng.pick([30, true, { s: 30 }]) : rng.pick([{ v: 1 }, ["1"], true]);
  if ("properties" in node) return rng.pick(["text", 7, ["x"]]);
  if ("additionalProperties" in node) return rng.pick(["text", ["x"]]);
  if ("items" in node) return rng.pick(["text", { k: "v" }]);
  switch ((node as { type?: string }).type) {
    case "string":
      return rng.pick([42, true, { k: "v" }, ["x"]]);
    case "integer":
      return rng.pick(["12", "many", true, 1.5, { n: 1 }]);
    case "number":
      return rng.pick(["fast", true, ["1"]]);
    case "boolean":
      return rng.pick(["maybe", 1, "true", ["yes"]]);
    default:
      return { unexpected: true };
  }
}

/** A misspelling of `name` that is not another field of the same struct. */
function misspell(name: string, siblings: Set<string>, rng: Rng): string | undefined {
  const i = rng.int(0, name.length - 1);
  const variants = [
    name.slice(0, i) + name.slice(i + 1),
    name.slice(0, i) + name[i] + name.slice(i),
    i + 1 < name.length ? name.slice(0, i) + name[i + 1] + name[i] + name.slice(i + 2) : `${name}s`,
    name[0] === name[0]!.toUpperCase() ? name[0]!.toLowerCase() + name.slice(1) : name[0]!.toUpperCase() + name.slice(1),
  ].filter((v) => v !== "" && v !== name && !siblings.has(v));
  return variants.length ? rng.pick(variants) : undefined;
}

function target(b: Base, rng: Rng): { file: string; doc: Doc; kind: "Cluster" | "InstanceGroup" } {
  if (rng.chance(0.6)) return { file: "config", doc: b.cluster, kind: "Cluster" };
  const g = rng.pick(b.groups);
  return { file: `instancegroup/${String((g.metadata as Doc).name)}`, doc: g, kind: "InstanceGroup" };
}

/** Sets `path`, making maps on the way (and replacing what is not a map there). */
function put(doc: Doc, path: string[], value: unknown): void {
  let at = doc;
  for (const k of path.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== "object" || next === null || Array.isArray(next)) at[k] = {};
    at = at[k] as Doc;
  }
  at[path[path.length - 1]!] = value;
}

export const SCHEMA_MUTATIONS: readonly Mutation[] = [
  {
    label: "schema:wrong-type",
    apply(b, rng) {
      const t = target(b, rng);
      const f = rng.pick(fields(t.kind));
      put(t.doc, f.path, wrongValue(f.node, rng));
      return `${t.file}:${f.path.join(".")}`;
    },
  },
  {
    label: "schema:misspelt-field",
    apply(b, rng) {
      const t = target(b, rng);
      const structs = [{ path: ["spec"], node: resolve(specOf(t.kind)) }, ...fields(t.kind).filter((f) => "properties" in f.node && Object.keys(f.node.properties).length > 0)];
      const s = rng.pick(structs);
      const names = Object.keys(properties(s.node)!);
      const name = rng.pick(names);
      const wrong = misspell(name, new Set(names), rng) ?? `${name}Typo`;
      const real = resolve(properties(s.node)![name]!);
      const value = (real as { type?: string }).type === "integer" ? 3 : (real as { type?: string }).type === "boolean" ? true : "properties" in real || "additionalProperties" in real ? {} : "x";
      put(t.doc, [...s.path, wrong], value);
      return `${t.file}:${[...s.path, wrong].join(".")}`;
    },
  },
];
