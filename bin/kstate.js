#!/usr/bin/env node
"use strict";
// A migration streams thousands of files through buffers of 64 KiB and more, each freed only
// when the young generation is next collected; glibc then keeps them in its heap and seldom gives
// the memory back (bench/README.md measured it). So `migrate` starts itself again, in place
// (process.execve, Node.js 22.15 and later: the same process id, signals and exit code), with
// MALLOC_MMAP_THRESHOLD_ set (such buffers are mapped and unmapped one by one; glibc reads it only
// when a process starts) and a young generation of 4 MiB semi-spaces (buffers collected sooner).
// When a store is not s3://, every file's bytes pass through the process (S3 to S3 copies on the
// server): V8 then also sizes its heap for memory (--optimize-for-size), collecting the buffers
// it has promoted before they pile up (MinIO to fake-gcs-server: peak 200-300 MiB down to about
// 140; bench/README.md). Elsewhere (older Node.js, other systems, the variable already set)
// nothing changes, and a --max-semi-space-size the user gave wins.
if (process.argv[2] === "migrate" && process.platform === "linux" && typeof process.execve === "function" && process.env.MALLOC_MMAP_THRESHOLD_ === undefined) {
  const nodeOptions = [...process.execArgv, process.env.NODE_OPTIONS ?? ""];
  const given = (flag) => nodeOptions.some((a) => a.includes(flag));
  const flags = [...process.execArgv, ...(given("--max-semi-space-size") ? [] : ["--max-semi-space-size=4"]),
    ...(bytesPassThrough(process.argv.slice(3), process.env) && !given("--optimize-for-size") ? ["--optimize-for-size"] : [])];
  process.execve(process.execPath, [process.execPath, ...flags, __filename, ...process.argv.slice(2)], { ...process.env, MALLOC_MMAP_THRESHOLD_: "65536" });
}

/**
 * Whether a migration's file bytes pass through this process: unless both stores, as the command
 * line (or the environment, for the source) names them, are s3://; one it cannot tell here (named
 * only in ~/.kops.yaml) counts as not.
 */
function bytesPassThrough(args, env) {
  const value = (names) => {
    let found;
    args.forEach((a, i) => {
      for (const n of names) {
        if (a === n) found = args[i + 1];
        else if (a.startsWith(`${n}=`)) found = a.slice(n.length + 1);
      }
    });
    return found;
  };
  const stores = [value(["--from", "--state"]) || env.KSTATE_STATE_STORE || env.KOPS_STATE_STORE, value(["--to"])];
  return stores.some((s) => typeof s !== "string" || !/^s3:\/\//i.test(s));
}

// The bundle's compiled code is kept on disk (in the temporary folder, or NODE_COMPILE_CACHE;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a run starts without compiling 1.6 MB of
// JavaScript again: by Node.js itself from 22.1, by code-cache.js before (one cache per command).
require("node:module").enableCompileCache?.();
// dist/kstate.cjs is the CLI bundled into one file by `npm run build` (scripts/bundle-cli.js).
const { run } = require("./code-cache").requireCached(require("node:path").join(__dirname, "..", "dist", "kstate.cjs"), process.argv[2]);

// The AWS SDK's notice about future Node versions is noise for kstate's users, who do not pick
// it; the SDK reads this switch from the environment only.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// process.stdin, stdout and stderr are each made on first use (a few milliseconds for stdin, one
// for stdout): a command makes only those it uses, and none before its first request.
const io = { get stdin() { return process.stdin; }, get stdout() { return process.stdout; }, get stderr() { return process.stderr; }, env: process.env };
run(process.argv.slice(2), io)
  .then((code) => { process.exitCode = code; });
