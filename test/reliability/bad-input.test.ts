/**
 * The bad-input corpus (test/fixtures/bad-input/, see its README): every case must be refused
 * with a clear message (naming the file or field, no stack trace) and a non-zero exit code, and
 * the store must be byte-identical afterwards (every object hashed before and after, through a
 * plain openPath listing, not through kstate's own reading code).
 */
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openPath } from "../../src/vfs";
import { kstate } from "../support/cli";
import { makeS3Bucket, openOptions } from "../support/env";
import { record } from "./report";
import { s3Env } from "../support/stores";

const CORPUS = path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "bad-input");
const NAME = "bad.k8s.example.com";
const MIN_CASES = 60;

interface Case {
  name: string;
  /** The category: the part of the name before the first `-` (alias, flag, ig, …). */
  category: string;
  /** What the message must match (case-insensitive). */
  expect: RegExp;
  /** apply -f this file (written at test time), or run these arguments. */
  file?: Buffer;
  argv?: string[];
}

/** A small deterministic generator, so "random bytes" are the same bytes on every run. */
function pseudoRandom(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

interface Generate {
  kind: "oversize" | "repeat" | "bytes" | "random" | "utf16le" | "text";
  bytes?: number;
  times?: number;
  insert?: string;
  at?: number;
  replace?: [string, string];
  seed?: number;
  text?: string;
}

function generate(g: Generate, valid: string): Buffer {
  switch (g.kind) {
    case "oversize": {
      const pad = Math.max(0, g.bytes! - Buffer.byteLength(valid));
      const line = `# ${"x".repeat(78)}\n`;
      const padding = line.repeat(Math.ceil(pad / line.length));
      return Buffer.from(valid + padding);
    }
    case "repeat":
      return Buffer.from(Array(g.times!).fill(valid).join("---\n"));
    case "bytes": {
      let b = Buffer.from(valid);
      if (g.insert !== undefined) b = Buffer.concat([b.subarray(0, g.at), Buffer.from(g.insert, "hex"), b.subarray(g.at)]);
      if (g.replace) {
        const at = b.indexOf(g.replace[0]);
        assert.ok(at >= 0, `replace: ${g.replace[0]} not in the valid stream`);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(g.replace[1], "hex"), b.subarray(at + g.replace[0].length)]);
      }
      return b;
    }
    case "random":
      return pseudoRandom(g.bytes!, g.seed ?? 1);
    case "utf16le":
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid, "utf16le")]);
    case "text":
      return Buffer.from(g.text!);
  }
}

/** Reads the corpus: `<case>.yaml` (first line `# expect: REGEX`), `<case>.gen.json`, `<case>.argv.json`. */
export function loadCorpus(): { cases: Case[]; valid: string } {
  const valid = fs.readFileSync(path.join(CORPUS, "_control-valid.yaml"), "utf8");
  const cases: Case[] = [];
  for (const f of fs.readdirSync(CORPUS).sort()) {
    if (f.startsWith("_") || f === "README.md") continue;
    const full = path.join(CORPUS, f);
    const m = /^(.+?)\.(yaml|gen\.json|argv\.json)$/.exec(f);
    assert.ok(m, `${f}: not a case file (<case>.yaml, <case>.gen.json or <case>.argv.json)`);
    const name = m[1]!;
    const category = name.split("-")[0]!;
    if (m[2] === "yaml") {
      const text = fs.readFileSync(full);
      const first = /^# expect: (.+)\n/.exec(text.toString("utf8"));
      assert.ok(first, `${f}: the first line must be "# expect: REGEX"`);
      cases.push({ name, category, expect: new RegExp(first[1]!, "i"), file: text });
    } else {
      const spec = JSON.parse(fs.readFileSync(full, "utf8")) as { expect: string; generate?: Generate; argv?: string[] };
      assert.ok(typeof spec.expect === "string" && spec.expect !== "", `${f}: needs "expect"`);
      if (m[2] === "gen.json") cases.push({ name, category, expect: new RegExp(spec.expect, "i"), file: generate(spec.generate!, valid) });
      else cases.push({ name, category, expect: new RegExp(spec.expect, "i"), argv: spec.argv! });
    }
  }
  return { cases, valid };
}

/** Every object below the store root, by path, with the SHA-256 of its raw bytes. */
async function hashStore(url: string): Promise<Map<string, string>> {
  const root = openPath(url, openOptions());
  const out = new Map<string, string>();
  for (const f of await root.listTree()) out.set(f.path, createHash("sha256").update((await root.join(f.path).read()).data).digest("hex"));
  return out;
}

function changedObjects(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

const STACK_LINE = /^\s+at .+\(?.+:\d+:\d+\)?$/m;

interface StoreSetup {
  url: () => Promise<string>;
  env: () => Record<string, string>;
}

const stores: Record<string, StoreSetup> = {
  "file://": {
    url: async () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bad-input-"))}`,
    env: () => ({}),
  },
  "s3:// (MinIO)": {
    url: async () => `s3://${await makeS3Bucket()}`,
    env: () => (s3Env()),
  },
};

describe("bad input: every case refused, the store byte-identical", function () {
  this.timeout(300_000);
  const { cases } = loadCorpus();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bad-input-cases-"));
  const controlFile = path.join(CORPUS, "_control-valid.yaml");

  it(`the corpus holds at least ${MIN_CASES} cases, in every required category`, function () {
    assert.ok(cases.length >= MIN_CASES, `only ${cases.length} cases`);
    record("bad input", { corpusCases: cases.length, categories: new Set(cases.map((c) => c.category)).size, stores: Object.keys(stores).join(", ") });
    const categories = new Set(cases.map((c) => c.category));
    for (const c of ["alias", "oversize", "duplicate", "binary", "non", "empty", "only", "wrong", "cluster", "ig", "type", "etcd", "flag", "state", "create"]) {
      assert.ok(categories.has(c), `no ${c}-* case`);
    }
  });

  for (const [storeName, setup] of Object.entries(stores)) {
    it(`${storeName}: all cases refused with a clear message and a non-zero exit; every object unchanged`, async function () {
      const url = await setup.url();
      const env = { ...setup.env(), KOPS_STATE_STORE: url };
      const created = await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env });
      assert.equal(created.code, 0, created.stderr);
      await openPath(url, openOptions()).join(NAME, "secrets", "admin").write('{"Data":"c2VjcmV0"}');
      await openPath(url, openOptions()).join(NAME, "pki", "private", "ca", "1.key").write("-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n");

      // The control: the corpus's valid stream is accepted, so each case fails for its flaw.
      const control = await kstate(["apply", "-f", controlFile, "--dry-run"], { env });
      assert.equal(control.code, 0, `the control document must be accepted: ${control.stderr}`);

      const failures: string[] = [];
      let rejected = 0;
      let unchanged = 0;
      let changed = 0;
      for (const c of cases) {
        const before = await hashStore(url);
        let argv: string[];
        if (c.file) {
          const file = path.join(work, `${c.name}.yaml`);
          fs.writeFileSync(file, c.file);
          argv = ["apply", "-f", file, "--yes"];
        } else {
          const tmp = fs.mkdtempSync(path.join(work, "tmp-"));
          argv = c.argv!.map((a) => a.replaceAll("$NAME", NAME).replaceAll("$BASE", controlFile).replaceAll("$TMP", tmp));
        }
        const r = await kstate(argv, { env });
        const after = await hashStore(url);
        const diff = changedObjects(before, after);
        const problems: string[] = [];
        if (r.code === 0) problems.push("exit 0 (accepted)");
        else rejected++;
        if (!c.expect.test(r.stderr)) problems.push(`stderr does not match /${c.expect.source}/i`);
        // A document case names the file it read, or the stored document and field it concerns.
        if (c.file && !r.stderr.includes(argv[2]!) && !/(config|instancegroup[^:\n]*): (spec|metadata|kind|apiVersion)/.test(r.stderr)) problems.push("stderr names neither the file nor a field");
        if (STACK_LINE.test(r.stderr) || STACK_LINE.test(r.stdout)) problems.push("a stack trace was printed");
        if (/(?<![-\w])undefined(?![-\w.])/.test(r.stderr)) problems.push("stderr says \"undefined\" (a value missing from the message)");
        if (r.stderr.trim() === "") problems.push("no message on stderr");
        if (diff.length > 0) {
          problems.push(`store changed: ${diff.join(", ")}`);
          changed += diff.length;
        } else unchanged++;
        if (problems.length > 0) failures.push(`${c.name}: ${problems.join("; ")}\n    exit ${r.code}; stderr: ${r.stderr.trim().slice(0, 400)}`);
      }
      record("bad input", { trials: cases.length, lostFiles: 0, corruptFiles: changed, lostUpdates: 0, rejected, storeUnchanged: unchanged });
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases on ${storeName}:\n${failures.join("\n")}`);
    });
  }
});
