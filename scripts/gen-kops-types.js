#!/usr/bin/env node
// Writes src/schema/kops-types.ts, the TypeScript types of kops's API, from the schema
// tools/kops-schema generates (src/schema/kops-<version>.json, in the form src/schema/format.ts
// describes): one interface or type alias per `$defs` entry. The output depends on the schema's
// content only (sorted, no dates), so scripts/schema.sh can regenerate both files and compare
// them byte for byte.
//
//   node scripts/gen-kops-types.js [schema.json [out.ts]]
//
// Without arguments: the one src/schema/kops-v*.json, into src/schema/kops-types.ts.
"use strict";
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const SCHEMA_DIR = path.join(ROOT, "src", "schema");
/** Comments are wrapped to fit this many columns. */
const WIDTH = 100;
/** What the convenience names stand for: the `spec` of these kinds. */
const SPECS = { ClusterSpec: "Cluster", InstanceGroupSpec: "InstanceGroup" };

/** Code-unit order, the same on every machine (localeCompare depends on the ICU data). */
const byCodeUnit = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The TypeScript name of a `$defs` entry: `v1.ObjectMeta` -> `V1ObjectMeta`. */
function typeName(def) {
  if (IDENTIFIER.test(def)) return def;
  const name = def.split(/[^A-Za-z0-9_$]+/).filter(Boolean).map((p) => p[0].toUpperCase() + p.slice(1)).join("");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function propertyName(key) {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

/** A JSDoc comment at `indent`, wrapped; `*\/` and a line-leading `@` kept from ending it or reading as a tag. */
function doc(description, indent) {
  if (description === undefined || description.trim() === "") return "";
  const lines = [];
  for (const raw of description.trim().split("\n")) {
    for (const line of wrap(raw.replace(/\s+$/, "").replace(/\*\//g, "*\\/"), WIDTH - indent.length - 3)) lines.push(line.replace(/^(\s*)@/, "$1\\@"));
  }
  if (lines.length === 1 && indent.length + lines[0].length + 7 <= WIDTH) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => (l === "" ? `${indent} *\n` : `${indent} * ${l}\n`)).join("")}${indent} */\n`;
}

function wrap(line, width) {
  const out = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(" ", width);
    if (cut <= 0) break;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
  }
  out.push(rest);
  return out;
}

/** What a field's TypeScript type does not say: the form of its string. */
function formatNote(node) {
  switch (node["x-kops-type"] ?? node.format) {
    case "quantity":
      return 'A quantity such as "100Mi", "500m" or 2.';
    case "duration":
      return 'A duration such as "30s" or "1h30m".';
    case "byte":
      return "Base64.";
    case "date-time":
      return 'An RFC 3339 time such as "2024-01-02T15:04:05Z".';
  }
  return undefined;
}

function joinLines(...parts) {
  const present = parts.filter((p) => p !== undefined && p.trim() !== "");
  return present.length === 0 ? undefined : present.join("\n");
}

function union(members) {
  return members.join(" | ");
}

/** `head type;`, or a union too long for one line as one member a line. */
function declaration(head, members, indent) {
  const line = `${head} ${union(members)};`;
  if (line.length <= WIDTH || members.length < 2 || members.some((m) => m.includes("\n"))) return line;
  return `${head}\n${members.map((m) => `${indent}  | ${m}`).join("\n")};`;
}

class Generator {
  constructor(schema) {
    this.schema = schema;
    this.names = new Map();
    const taken = new Map();
    for (const def of Object.keys(schema.$defs).sort(byCodeUnit)) {
      const name = typeName(def);
      if (name === "KOPS_VERSION" || taken.has(name)) throw new Error(`$defs ${JSON.stringify(def)} and ${JSON.stringify(taken.get(name) ?? name)} would both be the type ${name}`);
      taken.set(name, def);
      this.names.set(def, name);
    }
    this.taken = taken;
  }

  /** The `$defs` entry a `$ref` names. */
  target(ref, at) {
    const m = /^#\/\$defs\/(.+)$/.exec(ref);
    if (!m || !Object.hasOwn(this.schema.$defs, m[1])) throw new Error(`${at}: $ref ${JSON.stringify(ref)} names no $defs entry`);
    return m[1];
  }

  /**
   * A node's type, as the members of a union (one for most). `at` is where the node is in the
   * schema, for errors; `indent` is the indentation of the line the type starts on, for inline
   * structs.
   */
  type(node, at, indent) {
    const is = (key) => Object.hasOwn(node, key);
    if (is("$ref")) return [this.names.get(this.target(node.$ref, at))];
    if (is("x-kops-any")) return ["unknown"];
    if (is("x-kops-type")) {
      switch (node["x-kops-type"]) {
        case "quantity": // "100Mi", "0.5", or a number
        case "int-or-string":
          return ["string", "number"];
        case "duration":
          return ["string"];
      }
      throw new Error(`${at}: unknown x-kops-type ${JSON.stringify(node["x-kops-type"])}`);
    }
    switch (node.type) {
      case "object":
        if (node.additionalProperties === false) return [this.struct(node, at, indent)];
        if (typeof node.additionalProperties !== "object" || node.additionalProperties === null) break;
        // A key set to null is removed, as a field is.
        return [`{ [key: string]: ${union(this.field(this.type(node.additionalProperties, `${at}.*`, indent), true))} }`];
      case "array": {
        const item = this.type(node.items, `${at}[]`, indent);
        return [item.length > 1 ? `(${union(item)})[]` : `${item[0]}[]`];
      }
      case "string": {
        const literals = (values) => values.map((v) => JSON.stringify(v));
        if (Array.isArray(node.enum)) return literals(node.enum);
        // Completion for the values kops names, yet any string (kops accepts others).
        if (Array.isArray(node["x-kops-values"])) return [...literals(node["x-kops-values"]), "(string & {})"];
        return ["string"];
      }
      case "integer":
      case "number":
        return ["number"];
      case "boolean":
        return ["boolean"];
    }
    throw new Error(`${at}: a node of no form src/schema/format.ts describes: ${JSON.stringify(node).slice(0, 200)}`);
  }

  /** A field's type; one that may be left out also takes `null` (kstate's merge removes the field). */
  field(members, nullable) {
    return nullable && !members.includes("unknown") ? [...members, "null"] : members;
  }

  /** A struct's body, closed: an empty one takes no property at all. */
  struct(node, at, indent) {
    const inner = `${indent}  `;
    const keys = Object.keys(node.properties).sort(byCodeUnit);
    const required = new Set(node.required ?? []);
    for (const r of required) if (!keys.includes(r)) throw new Error(`${at}: required field ${JSON.stringify(r)} is not a property`);
    if (keys.length === 0) return `{\n${inner}[key: string]: never;\n${indent}}`;
    const lines = keys.map((k) => {
      const child = node.properties[k];
      const optional = !required.has(k);
      const members = this.field(this.type(child, `${at}.${k}`, inner), optional);
      const head = `${inner}${propertyName(k)}${optional ? "?" : ""}:`;
      return `${doc(joinLines(child.description, formatNote(child)), inner)}${declaration(head, members, inner)}\n`;
    });
    return `{\n${lines.join("")}${indent}}`;
  }

  /** The spec def of a kind: what `x-kinds[kind]` has as `spec`. */
  specOf(kind) {
    const ref = this.schema["x-kinds"]?.[kind];
    if (!ref) throw new Error(`x-kinds has no ${kind}`);
    const root = this.schema.$defs[this.target(ref.$ref, `x-kinds.${kind}`)];
    const spec = root?.properties?.spec;
    if (!spec || !Object.hasOwn(spec, "$ref")) throw new Error(`${kind} has no spec that names a $defs entry`);
    return this.target(spec.$ref, `${kind}.spec`);
  }

  generate() {
    const version = this.schema["x-kops-version"];
    if (typeof version !== "string" || !/^v\d+\.\d+\.\d+/.test(version)) throw new Error(`x-kops-version ${JSON.stringify(version)} is not a kops version`);
    let out = `// Generated by scripts/gen-kops-types.js from src/schema/kops-${version}.json (kops ${version}'s API,
// in the form src/schema/format.ts describes). Do not edit: scripts/schema.sh write regenerates it.
//
// Types of whole documents: the fields kops requires are required (ClusterConfig takes any part
// of a spec, as PartInput). Fields that may be left out, and map values, also take null, which
// kstate's merge reads as "remove this field". A string kops has named values for is those values
// | (string & {}): completion for them, yet any string, as kops takes others.

/** The kops version whose API these types describe. */
export const KOPS_VERSION = ${JSON.stringify(version)};
`;
    const aliases = [];
    for (const [alias, kind] of Object.entries(SPECS)) {
      const def = this.specOf(kind);
      const name = this.names.get(def);
      if (name === alias) continue;
      if (this.taken.has(alias)) throw new Error(`${kind}'s spec is ${def}, yet another $defs entry is named ${alias}`);
      aliases.push(`\n/** A ${kind}'s \`spec\`. */\nexport type ${alias} = ${name};\n`);
    }
    out += aliases.join("");
    for (const def of [...this.names.keys()]) {
      const node = this.schema.$defs[def];
      const name = this.names.get(def);
      const isStruct = node.type === "object" && node.additionalProperties === false;
      const members = this.type(node, def, "");
      out += `\n${doc(node.description, "")}${isStruct ? `export interface ${name} ${members[0]}` : declaration(`export type ${name} =`, members, "")}\n`;
    }
    return out;
  }
}

/** The TypeScript source for a schema. */
function generate(schema) {
  return new Generator(schema).generate();
}

function defaultSchema() {
  const found = fs.readdirSync(SCHEMA_DIR).filter((f) => /^kops-v.+\.json$/.test(f)).sort(byCodeUnit);
  if (found.length !== 1) throw new Error(`expected one kops-v*.json in ${SCHEMA_DIR}, found ${found.length === 0 ? "none" : found.join(", ")}: name the schema`);
  return path.join(SCHEMA_DIR, found[0]);
}

function main(argv) {
  const input = argv[0] ?? defaultSchema();
  const output = argv[1] ?? path.join(SCHEMA_DIR, "kops-types.ts");
  let text;
  try {
    text = generate(JSON.parse(fs.readFileSync(input, "utf8")));
  } catch (e) {
    throw new Error(`${input}: ${e.message}`, { cause: e });
  }
  if (!fs.existsSync(output) || fs.readFileSync(output, "utf8") !== text) fs.writeFileSync(output, text);
}

module.exports = { generate };

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`gen-kops-types: ${e.message}\n`);
    process.exitCode = 1;
  }
}
