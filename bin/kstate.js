#!/usr/bin/env node
"use strict";
// dist/kstate.cjs is the CLI bundled into one file by `npm run build` (scripts/bundle-cli.js).
const { run } = require("../dist/kstate.cjs");

run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env })
  .then((code) => { process.exitCode = code; });
