/**
 * What the tests of programs in other languages (YAML, Go, Python) share: the files a program wrote
 * to a local store, and the TypeScript example run with the same settings to compare them with.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { snapshot } from "./snapshot";
import { openPath } from "../../src/vfs";
import { inlineStack } from "./pulumi";

const EXAMPLE = path.resolve(__dirname, "..", "..", "..", "dist", "examples", "local", "index.js");

/** Every file of a local store as text, with the time of writing and the store's own place (in spec.configBase) made alike. */
export function comparableFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const at = path.join(f.parentPath, f.name);
    files.set(path.relative(dir, at), fs.readFileSync(at, "utf8").replace(/creationTimestamp: "?[\dT:Z-]+"?/g, "creationTimestamp: T").split(dir).join("STORE"));
  }
  return files;
}

/**
 * Asserts that the program's store `dir` holds what examples/local (TypeScript, run inline) writes
 * under the same project and stack names, so the owner recorded is the same.
 */
export async function assertSameAsTypescript(dir: string, project: string, stackName: string): Promise<void> {
  const tsStore = `${dir}-typescript`;
  const stack = await inlineStack(project, stackName, async () => (require(EXAMPLE) as () => Promise<Record<string, unknown>>)());
  await stack.setConfig(`${project}:storeUrl`, { value: `file://${tsStore}` });
  assert.equal((await stack.up()).summary.result, "succeeded");
  const written = comparableFiles(dir);
  assert.ok(written.size >= 4, [...written.keys()].join(", "));
  assert.deepEqual(comparableFiles(tsStore), written);
}

/** A local store's files and the hashes of their bytes (none when it is not there). */
export async function storeSnapshot(dir: string): Promise<Record<string, string>> {
  return fs.existsSync(dir) ? snapshot(openPath(`file://${dir}`)) : {};
}

/** The files whose bytes differ between two snapshots. */
export function changedFiles(before: Record<string, string>, after: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => before[f] !== after[f]).sort();
}
