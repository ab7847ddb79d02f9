/**
 * Files kstate keeps on the user's machine (an export's record and base copies, the group names
 * it read last), written whole or not at all.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as nodePath from "node:path";

/** Names of the temporary files beside a file being written; folders' listings skip them. */
export const TEMP_PREFIX = ".kstate-tmp-";

/** Temp file beside the target, then rename: readers see the old bytes or the new. Files 0600, folders 0700. */
export function writeAtomic(file: string, data: Buffer | string): void {
  fs.mkdirSync(nodePath.dirname(file), { recursive: true, mode: 0o700 });
  const temp = nodePath.join(nodePath.dirname(file), `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
  try {
    fs.writeFileSync(temp, data, { mode: 0o600, flag: "wx" });
    fs.renameSync(temp, file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}
