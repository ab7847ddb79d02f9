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
