#!/usr/bin/env node
"use strict";
const { run } = require("../dist/src/cli");

run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env })
  .then((code) => { process.exitCode = code; });
