/**
 * `kstate delete cluster`: it lists what it deletes (counted by folder) and says what it does not
 * (the cloud resources, and what that means for running nodes), then needs --yes or a "yes" on a
 * terminal; without either it refuses (exit 2) and the store stays byte for byte as it was. Files
 * kops does not know stop it before anything is deleted.
 */
import * as assert from "node:assert/strict";
import { recordFailedUpdate } from "../../src/ops/failed-update";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { kops, kopsEnv } from "../support/kops";
import { storesOf } from "../support/stores";
import { snapshot } from "../support/snapshot";

const NAME = "delete.k8s.example.com";
const OTHER = "other.k8s.example.com";

const stores = storesOf("file", "s3");

for (const [kind, make] of Object.entries(stores)) {
  describe(`kstate delete cluster (${kind})`, function () {
    this.timeout(120_000);
    it("lists the files by folder and what stays; refuses without --yes or a terminal, changing nothing; deletes on --yes or \"y\"", async function () {
      const { url, env: cloud } = await make();
      const env = { ...cloud, KOPS_STATE_STORE: url };
      for (const name of [NAME, OTHER]) {
        const r = await kstate(["create", "cluster", name, "--zones", "us-east-1a,us-east-1b", "--cloud", "aws", "--kubernetes-version", "v1.30.2"], { env });
        assert.equal(r.code, 0, r.stderr);
      }
      assert.equal((await kstate(["create", "secret", "token", "--name", NAME, "--from-literal", "s3cr3t-value"], { env })).code, 0);
      await openWith(url, cloud).join(NAME, "pki", "private", "ca", "keyset.yaml").write("kind: Keyset\n");
      const store = openWith(url, cloud);
      const before = await snapshot(store);

      const preview = [
        `Deleting cluster "${NAME}" deletes 6 files from ${url}/${NAME}:`,
        "  config          1 file",
        "  instancegroup/  3 files",
        "  pki/            1 file",
        "  secrets/        1 file",
        "",
        "Not deleted: the cluster's cloud resources. Its instances, volumes, load balancers and",
        "DNS records stay, and running nodes keep running; but nodes read their configuration from this",
        "store, so afterwards they cannot boot or be repaired. To delete the cloud resources too, run",
        `\`kops delete cluster ${NAME} --yes\` instead: it deletes these files as well.`,
        "",
        "",
      ].join("\n");

      // No --yes and no terminal: the preview, a refusal, exit 2, and not one byte changed.
      for (const argv of [["delete", "cluster", NAME], ["delete", "cluster", "--name", NAME]]) {
        const refused = await kstate(argv, { env });
        assert.equal(refused.code, 2, refused.stderr);
        assert.equal(refused.stdout, preview);
        assert.equal(refused.stderr, "kstate delete: refusing to delete cluster without confirmation: pass --yes (stdin is not a terminal)\nRun `kstate delete cluster --help` for its options.\n");
        assert.deepEqual(await snapshot(store), before, "the store is byte for byte as it was");
      }

      // On a terminal, anything but y or yes keeps everything.
      const declined = await kstate(["delete", "cluster", NAME], { env: { ...env, NO_COLOR: "1" }, tty: true, input: "n\n" });
      assert.equal(declined.code, 1);
      assert.equal(declined.stdout, `${preview}Delete these 6 files of cluster ${NAME}? [y/N] Cancelled: nothing was written.\n`);
      assert.deepEqual(await snapshot(store), before);

      const confirmed = await kstate(["delete", "cluster", NAME], { env: { ...env, NO_COLOR: "1" }, tty: true, input: "y\n" });
      assert.equal(confirmed.code, 0, confirmed.stderr);
      assert.match(confirmed.stdout, new RegExp(`\\? \\[y/N\\] Deleted cluster: "${NAME.replace(/\./g, "\\.")}" \\(6 files\\)\\.\\n$`));
      const after = await snapshot(store);
      assert.deepEqual(Object.keys(after).filter((f) => f.startsWith(`${NAME}/`)), []);
      assert.deepEqual(after, Object.fromEntries(Object.entries(before).filter(([f]) => !f.startsWith(`${NAME}/`))), "the other cluster untouched");
      // kops sees the one cluster left.
      assert.match((await kops(["get", "clusters", "--state", url], kopsEnv())).stdout, new RegExp(`^NAME\\t+CLOUD\\tZONES\\n${OTHER.replace(/\./g, "\\.")}\\t`));

      const withYes = await kstate(["delete", "cluster", OTHER, "--yes"], { env });
      assert.equal(withYes.code, 0, withYes.stderr);
      assert.match(withYes.stdout, new RegExp(`^Deleting cluster "${OTHER.replace(/\./g, "\\.")}" deletes 4 files from [\\s\\S]*\\n\\nDeleted cluster: "${OTHER.replace(/\./g, "\\.")}" \\(4 files\\)\\.\\n$`));
      assert.deepEqual(await store.listTree(), []);
    });

    it("a failed update kstate recorded for the cluster is listed and deleted with it; another cluster's record stays", async function () {
      const { url, env: cloud } = await make();
      const env = { ...cloud, KOPS_STATE_STORE: url };
      for (const name of [NAME, OTHER]) {
        assert.equal((await kstate(["create", "cluster", name, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2"], { env })).code, 0);
      }
      const store = openWith(url, cloud);
      for (const name of [NAME, OTHER]) await recordFailedUpdate(store, name, { failedAt: "2026-11-30T00:00:00Z", kopsVersion: "1.36.2", outcome: "exit 1" });
      const record = `${url}/.kstate/failed-updates/${NAME}.json`;
      const refused = await kstate(["delete", "cluster", NAME], { env });
      assert.equal(refused.code, 2);
      assert.ok(refused.stdout.includes(`Also deleted: kstate's record of the cluster's failed update, ${record}.\n`), refused.stdout);
      const deleted = await kstate(["delete", "cluster", NAME, "--yes"], { env });
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.deepEqual((await store.listTree()).map((f) => f.path).filter((f) => !f.startsWith(`${OTHER}/`)), [`.kstate/failed-updates/${OTHER}.json`]);

      // The other cluster deleted by kops (which leaves kstate's record): delete cluster removes what is left.
      await kops(["delete", "cluster", OTHER, "--unregister", "--yes", "--state", url], kopsEnv());
      assert.deepEqual((await store.listTree()).map((f) => f.path), [`.kstate/failed-updates/${OTHER}.json`]);
      const leftover = await kstate(["delete", "cluster", OTHER, "--yes"], { env });
      assert.equal(leftover.code, 0, leftover.stderr);
      assert.equal(leftover.stdout, `Cluster "${OTHER}" is not in ${url}; left of it: kstate's record of its failed update, ${url}/.kstate/failed-updates/${OTHER}.json.\nDeleted the record of ${OTHER}'s failed update.\n`);
      assert.deepEqual(await store.listTree(), []);
      const none = await kstate(["delete", "cluster", OTHER, "--yes"], { env });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /not found/);
    });

    it("names the stores kops would delete beside the folder (spec.secretStore, spec.keyStore) and leaves them; kops reads the config it deletes", async function () {
      const { url, env: cloud } = await make();
      const env = { ...cloud, KOPS_STATE_STORE: url };
      assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2"], { env })).code, 0);
      const config = openWith(url, cloud).join(NAME, "config");
      await config.write((await config.read()).data.toString().replace(/^spec:\n/m, "spec:\n  keyStore: s3://keys-elsewhere/pki\n  secretStore: s3://secrets-elsewhere/secrets\n"));
      const read = await kops(["get", "cluster", NAME, "--state", url, "-o", "yaml"], kopsEnv(cloud));
      assert.match(read.stdout, /keyStore: s3:\/\/keys-elsewhere\/pki/, "kops takes the fields as written");
      const deleted = await kstate(["delete", "cluster", NAME, "--yes"], { env });
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /Not deleted either \(kops would delete them\): secrets in s3:\/\/secrets-elsewhere\/secrets; keys in s3:\/\/keys-elsewhere\/pki\./);
    });

    it("a file kops does not know stops it before anything is deleted, even with --yes", async function () {
      const { url, env: cloud } = await make();
      const env = { ...cloud, KOPS_STATE_STORE: url };
      assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--cloud", "aws", "--kubernetes-version", "v1.30.2"], { env })).code, 0);
      await openWith(url, cloud).join(NAME, "notes.txt").write("mine");
      const before = await snapshot(openWith(url, cloud));
      const refused = await kstate(["delete", "cluster", NAME, "--yes"], { env });
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, "");
      assert.match(refused.stderr, /files kops does not know:\n {2}notes\.txt\nMove them away first; nothing was deleted\./);
      assert.deepEqual(await snapshot(openWith(url, cloud)), before);
    });
  });
}
