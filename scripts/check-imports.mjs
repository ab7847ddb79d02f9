#!/usr/bin/env node
// The import graph of src/: no circles, and no arrow from a lower layer to a higher one.
//
//   node scripts/check-imports.mjs [src-dir]
//
// Layers, lowest first (a file may import its own layer and the layers below it, never one
// beside or above it): vfs -> schema (kops's API; it uses vfs's errors only) -> store -> ops -> providers and cli
// (each on its own) -> resources -> plugin (the provider plugin for other languages) -> the files at the top of src/ (index.ts). Every relative
// import counts, type-only ones too: `import`, `export ... from`, `import(...)`, `require(...)`.
// Prints each circle and each wrong arrow; exits 1 if there is any.
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), "..", "src"));

/** Rank of each layer (the first folder under src/); files at the top of src/ are above all. */
const LAYERS = { vfs: 0, schema: 1, store: 2, ops: 3, providers: 4, cli: 4, resources: 5, plugin: 6 };
const TOP = Math.max(...Object.values(LAYERS)) + 1;

function layerOf(file) {
  const rel = path.relative(root, file).split(path.sep);
  return rel.length === 1 ? { name: "(top)", rank: TOP } : { name: rel[0], rank: LAYERS[rel[0]] ?? -1 };
}

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

const IMPORT = /(?:^|[;\s])(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?["']([^"']+)["']|\b(?:import|require)\(\s*["']([^"']+)["']\s*\)/g;

/** The relative imports of a file: [{ to, typeOnly }], resolved to files under src/. */
function importsOf(file) {
  const text = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[2] ?? m[3];
    if (!spec.startsWith(".")) continue;
    const base = path.resolve(path.dirname(file), spec);
    if (path.relative(root, base).startsWith("..")) continue; // outside src/ (package.json, read from dist/ at run time)
    const to = [base, `${base}.ts`, path.join(base, "index.ts")].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
    if (!to) throw new Error(`${path.relative(root, file)}: cannot resolve ${JSON.stringify(spec)}`);
    if (to.endsWith(".ts")) out.push({ to, typeOnly: Boolean(m[1]) });
  }
  return out;
}

const files = sourceFiles(root);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f) => path.relative(root, f);
const problems = [];

// Arrows between layers.
for (const [from, edges] of graph) {
  const a = layerOf(from);
  for (const { to, typeOnly } of edges) {
    const b = layerOf(to);
    if (a.rank < 0 || b.rank < 0) problems.push(`unknown layer: ${rel(from)} -> ${rel(to)}`);
    else if (b.rank > a.rank || (b.rank === a.rank && b.name !== a.name)) {
      problems.push(`arrow ${b.rank > a.rank ? "up" : "sideways"}: ${rel(from)} (${a.name}) -> ${rel(to)} (${b.name})${typeOnly ? " [type only]" : ""}`);
    }
  }
}

// Circles: the strongly connected components of more than one file (Tarjan), each shown as one cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
function strongConnect(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const { to: w } of graph.get(v)) {
    if (!idx.has(w)) {
      strongConnect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v).some((e) => e.to === v)) components.push(component);
  }
}
for (const f of files) if (!idx.has(f)) strongConnect(f);

/** A shortest cycle through `start` inside `members` (breadth first), as a list of files. */
function cycleThrough(start, members) {
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const { to: w } of graph.get(v)) {
      if (!members.has(w)) continue;
      if (w === start) {
        const cycle = [v];
        for (let p = previous.get(v); p !== null; p = previous.get(p)) cycle.unshift(p);
        return cycle;
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}
for (const component of components) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const cycle = cycleThrough(start, members);
  const typeOnly = cycle.every((f, i) => graph.get(f).filter((e) => e.to === cycle[(i + 1) % cycle.length]).every((e) => e.typeOnly));
  const extra = component.length > cycle.length ? ` (${component.length} files in this knot: ${component.map(rel).sort().join(", ")})` : "";
  problems.push(`circle: ${[...cycle, cycle[0]].map(rel).join(" -> ")}${typeOnly ? " [type only]" : ""}${extra}`);
}

const edges = [...graph.values()].reduce((n, e) => n + e.length, 0);
if (problems.length === 0) {
  console.log(`check-imports: ${files.length} files, ${edges} imports: no circles, no arrow from a lower layer to a higher one`);
} else {
  for (const p of problems.sort()) console.log(p);
  console.log(`check-imports: ${problems.length} problem(s) in ${files.length} files, ${edges} imports`);
  process.exit(1);
}
