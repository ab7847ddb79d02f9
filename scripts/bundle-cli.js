#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli) into one file, dist/kstate.cjs, which bin/kstate.js
// loads: one file to read and compile instead of a hundred modules (the YAML library alone is
// ~80) takes about 25 ms off every command. The cloud SDKs stay outside and load only for the
// scheme in use.
"use strict";
const path = require("path");
const root = path.resolve(__dirname, "..");
const esbuild = require("esbuild");
// node-forge (a third of the code) is bundled on its own, dist/node-forge.cjs, and loaded only by
// the commands that sign certificates (src/ops/certificates.ts requires it on first use).
const forge = esbuild.build({
  entryPoints: [require.resolve("node-forge")],
  outfile: path.join(root, "dist", "node-forge.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
});
// Modules every command imports but few need before their first request, or at all: the YAML
// library (parsing a kops document for its values is js-yaml's job; the YAML library is for
// documents kstate edits) and node:crypto (requests are signed by src/vfs/s3/sha256.ts). Inside
// the bundle, each is an object of the module's export names that loads the module when one of
// them is first read (and keeps that value): about 2.5 ms off `get cluster`'s way to its request.
const ON_FIRST_USE = ["yaml", "node:crypto"];

/** The source of a stand-in for `name`, loading it when one of its exports is first read. */
function loadedOnFirstUse(name) {
  const real = require(name);
  return `"use strict";
let loaded;
const load = () => loaded ??= require(${JSON.stringify(name)});
for (const name of ${JSON.stringify(Object.keys(real))}) {
  Object.defineProperty(exports, name, {
    configurable: true, enumerable: true,
    get() {
      const value = load()[name];
      Object.defineProperty(exports, name, { value, enumerable: true });
      return value;
    },
  });
}
${real.__esModule ? `Object.defineProperty(exports, "__esModule", { value: true });\n` : ""}`;
}

const cli = esbuild.build({
  entryPoints: [path.join(root, "dist", "src", "cli", "index.js")],
  outfile: path.join(root, "dist", "kstate.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["@aws-sdk/*", "@smithy/*", "@google-cloud/*", "@pulumi/*"],
  // kops's API schema (300 KB of JSON) stays beside the bundle, in the compiled tree, and loads
  // only when a document is checked: inside the bundle every command would parse it at start.
  plugins: [{
    name: "loaded-on-demand",
    setup(build) {
      build.onResolve({ filter: /^\.\/kops-schema$/ }, () => ({ path: "./src/schema/kops-schema.js", external: true }));
      build.onResolve({ filter: /^node-forge$/ }, () => ({ path: "./node-forge.cjs", external: true }));
    },
  }, {
    name: "loaded-on-first-use",
    setup(build) {
      const names = new RegExp(`^(${ON_FIRST_USE.join("|")})$`);
      build.onResolve({ filter: names }, (args) => (args.namespace === "first-use" ? undefined : { path: args.path, namespace: "first-use" }));
      build.onLoad({ filter: /.*/, namespace: "first-use" }, (args) => ({ contents: loadedOnFirstUse(args.path), resolveDir: root, loader: "js" }));
    },
  }],
  // ASCII only, so bin/code-cache.js reads it as one-byte text without decoding UTF-8 (a few ms
  // at every start): esbuild escapes what strings, regular expressions and names hold, and the
  // comments it keeps get the same escapes here (inert in a comment, the same value anywhere else).
  charset: "ascii",
  write: false,
  logLevel: "warning",
}).then(({ outputFiles }) => {
  for (const f of outputFiles) {
    require("fs").writeFileSync(f.path, f.text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  }
});
Promise.all([forge, cli]).catch(() => process.exit(1));
