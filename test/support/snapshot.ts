import { createHash } from "node:crypto";
import type { VfsPath } from "../../src/vfs";

/** Every file below `root` with the SHA-256 of its bytes, to show a store did not change. */
export async function snapshot(root: VfsPath): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await root.listTree()) {
    out[f.path] = createHash("sha256").update((await root.join(f.path).read()).data).digest("hex");
  }
  return out;
}
