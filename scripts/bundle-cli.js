#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli) into one file, dist/kstate.cjs, which bin/kstate.js
// loads: one file to read and compile instead of a hundred modules (the YAML library alone is
// ~80) takes about 25 ms off every command. The cloud SDKs stay outside and load only for the
// scheme in use.
"use strict";
const path = require("path");
const root = path.resolve(__dirname, "..");
require("esbuild").build({
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
    name: "kops-schema-outside",
    setup(build) {
      build.onResolve({ filter: /^\.\/kops-schema$/ }, () => ({ path: "./src/schema/kops-schema.js", external: true }));
    },
  }],
  logLevel: "warning",
}).catch(() => process.exit(1));
