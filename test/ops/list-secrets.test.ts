// A secrets listing marks each file it could not open and lists the rest: a read that fails says
// nothing of whether the file is sealed, so the listing does not claim it is not.
import * as assert from "node:assert/strict";
import { listSecrets } from "../../src/ops/list-secrets";
import { encodeSecret } from "../../src/store/secrets";
import { BackendError, openPath, resetMemoryStore, type VfsPath } from "../../src/vfs";
import { ForwardingPath } from "../../src/vfs/forwarding-path";

/** A folder whose file `failing` cannot be read (the store answers with an error). */
class FailingRead extends ForwardingPath {
  constructor(inner: VfsPath, private readonly failing: string) {
    super(inner);
  }

  join(...names: string[]): VfsPath {
    return new FailingRead(this.inner.join(...names), this.failing);
  }

  override read() {
    if (this.base === this.failing) return Promise.reject(new BackendError(`read ${this.url}: 503 Slow Down`, { url: this.url }));
    return super.read();
  }
}

describe("listSecrets", function () {
  after(() => resetMemoryStore("list-secrets"));

  it("a file that could not be read is listed with its problem and no claim about its sealing", async function () {
    const folder = openPath("memfs://list-secrets/c.example.com/secrets");
    await folder.join("ok").write(encodeSecret("a value"));
    await folder.join("down").write(encodeSecret("another"));
    const rows = await listSecrets(folder, new FailingRead(folder, "down"));
    assert.deepEqual(rows.map((r) => [r.name, r.encrypted, r.problem !== undefined]), [["down", undefined, true], ["ok", false, false]]);
    assert.match(rows[0]!.problem!, /read memfs:\/\/list-secrets\/c\.example\.com\/secrets\/down: 503 Slow Down/);
  });
});
