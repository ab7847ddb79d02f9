/** The record an exported folder keeps of what it was exported from: store, cluster and each document's revision. */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { ValidationError } from "../vfs/errors";

/** In an exported folder: the store, cluster and revision of each document as exported. */
export const BASE_FILE = ".kstate-export.json";

export interface ExportBase {
  store: string;
  cluster: string;
  revisions: Record<string, string>;
}

export function readBase(dir: string, cluster: string, store: string): ExportBase | undefined {
  const file = nodePath.join(dir, BASE_FILE);
  if (!fs.existsSync(file)) return undefined;
  let base: ExportBase;
  try {
    base = JSON.parse(fs.readFileSync(file, "utf8")) as ExportBase;
  } catch {
    throw new ValidationError(`${file}: not the record kstate export writes (remove it, or export again)`);
  }
  // A record of another store or cluster says nothing about this one's revisions.
  return base.store === store && base.cluster === cluster && typeof base.revisions === "object" ? base : undefined;
}

export function writeBase(dir: string, base: ExportBase): void {
  // Temp file and rename: a command killed mid-write leaves the old record or the new, never a torn one.
  const temp = nodePath.join(dir, `${BASE_FILE}.${process.pid}.tmp`);
  fs.writeFileSync(temp, `${JSON.stringify(base, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, nodePath.join(dir, BASE_FILE));
}

