import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AlreadyExistsError, bucketAdmin, type BucketEncryption, openPath } from "../../src/vfs";
import { openOptions, uniqueName } from "../support/env";

const cases: { name: string; url: () => string; versioning: boolean; encryption: BucketEncryption }[] = [
  { name: "s3 (MinIO)", url: () => `s3://${uniqueName()}`, versioning: true, encryption: { type: "AES256" } },
  { name: "gcs (fake-gcs-server)", url: () => `gs://${uniqueName()}`, versioning: true, encryption: { type: "google-managed" } },
  { name: "file://", url: () => `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-bucket-"))}/store`, versioning: false, encryption: { type: "none" } },
];

for (const c of cases) {
  describe(`bucket admin: ${c.name}`, function () {
    it("creates, inspects, changes and deletes a bucket", async function () {
      const root = openPath(c.url(), openOptions());
      const admin = bucketAdmin(root);
      assert.equal((await admin.settings()).exists, false);
      await admin.create({ versioning: c.versioning, encryption: c.encryption });
      const created = await admin.settings();
      assert.deepEqual({ ...created, publicAccessBlocked: undefined, location: undefined }, { exists: true, versioning: c.versioning, encryption: c.encryption, publicAccessBlocked: undefined, location: undefined });
      if (c.name.startsWith("s3")) assert.equal(created.location, "us-east-1");
      await assert.rejects(admin.create({ versioning: c.versioning, encryption: c.encryption }), (e: unknown) => AlreadyExistsError.isInstance(e) && e.message.includes(admin.url));
      assert.equal(await admin.isEmpty(), true);
      if (c.versioning) {
        await admin.setVersioning(false);
        assert.equal((await admin.settings()).versioning, false);
        await admin.setVersioning(true);
      }
      await root.join("c.example.com", "config").write("one");
      await root.join("c.example.com", "config").write("two");
      await root.join("c.example.com", "config").remove();
      assert.equal(await admin.isEmpty(), !c.versioning, "old versions count as content");
      await root.join("c.example.com", "secrets", "kube").write("x");
      assert.equal(await admin.isEmpty(), false);
      await admin.delete({ force: true });
      assert.equal((await admin.settings()).exists, false);
    });
  });
}
