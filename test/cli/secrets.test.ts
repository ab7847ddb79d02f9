import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { secretHash } from "../../src/store/secrets";
import { isEnvelope } from "../../src/vfs";
import { kstate } from "../support/cli";
import { openWith } from "../support/cli-stores";
import { makeS3Bucket } from "../support/env";
import { snapshot } from "../support/snapshot";
import { s3Env } from "../support/stores";

const NAME = "secrets.k8s.example.com";
const VALUE = "s3cr3t-token-value-42";
const B64 = Buffer.from(VALUE).toString("base64");

const stores: Record<string, () => Promise<{ url: string; env: Record<string, string>; cloud: Record<string, string> }>> = {
  "file://, plaintext": async () => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-secrets-"))}`, env: {}, cloud: {} }),
  "file://, encrypted": async () => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-secrets-"))}`, env: { KSTATE_PASSPHRASE: "secrets test passphrase" }, cloud: {} }),
  "s3 (MinIO), encrypted": async () => ({
    url: `s3://${await makeS3Bucket()}`,
    env: { KSTATE_PASSPHRASE: "secrets test passphrase" },
    cloud: s3Env(),
  }),
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`kstate create secret / get secrets (${kind})`, function () {
    this.timeout(60_000);
    it("stores kops's format (encrypted when the store is), lists hashes, reveals only on request, never overwrites by accident", async function () {
      const { url, env: extra, cloud } = await make();
      const env = { ...cloud, KSTATE_STATE_STORE: url, ...extra };
      const encrypted = extra.KSTATE_PASSPHRASE !== undefined;
      assert.equal((await kstate(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], { env })).code, 0);
      const made = await kstate(["create", "secret", "system:dns", "--name", NAME, "--from-literal", VALUE], { env });
      assert.equal(made.code, 0, made.stderr);
      const raw = (await openWith(url, cloud).join(NAME, "secrets", "system:dns").read()).data;
      if (encrypted) {
        assert.ok(isEnvelope(raw));
        assert.ok(!raw.includes(Buffer.from(B64)) && !raw.includes(Buffer.from(VALUE)));
      } else assert.equal(raw.toString(), JSON.stringify({ Data: B64 }));

      const listed = await kstate(["get", "secrets", "--name", NAME], { env });
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout, `NAME\t\tSHA256\t\t\tENCRYPTED\nsystem:dns\t${secretHash(Buffer.from(VALUE))}\t${encrypted ? "yes" : "no"}\n`, "a table as kops prints its tables");
      assert.ok(!listed.stdout.includes(VALUE));
      const revealed = await kstate(["get", "secrets", "--name", NAME, "--reveal", "-o", "json"], { env });
      assert.equal((JSON.parse(revealed.stdout) as { value: string }[])[0]!.value, VALUE);

      assert.equal((await kstate(["create", "secret", "system:dns", "--name", NAME, "--from-literal", VALUE], { env })).code, 4, "same value: nothing to do");
      const before = await snapshot(openWith(url, cloud));
      const clash = await kstate(["create", "secret", "system:dns", "--name", NAME, "--from-literal", "another value"], { env });
      assert.equal(clash.code, 3);
      assert.match(clash.stderr, /holds a different value; pass --replace/);
      assert.deepEqual(await snapshot(openWith(url, cloud)), before, "nothing written");
      const replaced = await kstate(["create", "secret", "system:dns", "--name", NAME, "--from-literal", "another value", "--replace"], { env });
      assert.equal(replaced.code, 0, replaced.stderr);
      const again = await kstate(["get", "secrets", "--name", NAME, "--reveal", "-o", "json"], { env });
      assert.equal((JSON.parse(again.stdout) as { value: string }[])[0]!.value, "another value");

      for (const [argv, pattern] of [
        [["create", "secret", "bad/name", "--name", NAME, "--from-literal", "x"], /use letters, digits and \. _ - : only/],
        [["create", "secret", "ok", "--name", NAME], /exactly one of --from-literal VALUE or --from-file PATH/],
        [["create", "secret", "ok", "--name", NAME, "--from-file", "/no/such/file"], /--from-file \/no\/such\/file: no such file/],
      ] as const) {
        const r = await kstate([...argv], { env });
        assert.equal(r.code, 2, argv.join(" "));
        assert.match(r.stderr, pattern);
      }
      assert.deepEqual((await openWith(url, cloud).join(NAME, "secrets").list()).map((f) => f.path), ["system:dns"], "bad input wrote nothing");
      assert.equal((await kstate(["get", "secrets", "--name", "missing.example.com"], { env })).code, 1);

      // The cluster is named as on every command: --name, else KOPS_CLUSTER_NAME; --cluster,
      // which these commands once took, still works, with a warning.
      const byEnv = await kstate(["get", "secrets"], { env: { ...env, KOPS_CLUSTER_NAME: NAME } });
      assert.equal(byEnv.stdout, listed.stdout.replace(/\t[0-9a-f]{16}\t/, `\t${secretHash(Buffer.from("another value"))}\t`));
      for (const command of [["get", "secrets"], ["create", "secret", "other", "--from-literal", "x"]]) {
        const unnamed = await kstate(command, { env });
        assert.equal(unnamed.code, 2);
        assert.match(unnamed.stderr, new RegExp(`^kstate ${command[0]}: ${command.slice(0, 2).join(" ")} needs a cluster name: --name NAME or KOPS_CLUSTER_NAME\nRun \`kstate ${command.slice(0, 2).join(" ")} --help\``));
      }
      const old = await kstate(["get", "secrets", "--cluster", NAME], { env });
      assert.equal(old.code, 0, old.stderr);
      assert.equal(old.stdout, byEnv.stdout);
      assert.equal(old.stderr, "warning: --cluster is deprecated; name the cluster with --name, as for every other command\n");
    });
  });
}

describe("client-side encryption flags", function () {
  it("--passphrase-file and --encrypt-patterns stand for their variables on any command; a missing file is a usage error naming it", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-enc-flags-"));
    const keyFile = path.join(dir, "key");
    fs.writeFileSync(keyFile, "a passphrase kept in a file 42\n", { mode: 0o600 });
    const state = `file://${dir}/store`;
    const created = await kstate(["create", "cluster", "flags.k8s.example.com", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", state]);
    assert.equal(created.code, 0, created.stderr);
    const secret = await kstate(["create", "secret", "admin", "--name", "flags.k8s.example.com", "--from-literal", "flag-sealed-value", "--state", state, "--passphrase-file", keyFile]);
    assert.equal(secret.code, 0, secret.stderr);
    const raw = fs.readFileSync(path.join(dir, "store", "flags.k8s.example.com", "secrets", "admin"));
    assert.ok(isEnvelope(raw), "sealed with the passphrase from the file");
    const revealed = await kstate(["get", "secrets", "--name", "flags.k8s.example.com", "--reveal", `--passphrase-file=${keyFile}`, "--state", state]);
    assert.equal(revealed.code, 0, revealed.stderr);
    assert.match(revealed.stdout, /flag-sealed-value/);
    const same = await kstate(["get", "secrets", "--name", "flags.k8s.example.com", "--reveal", "--state", state], { env: { KSTATE_PASSPHRASE: "a passphrase kept in a file 42" } });
    assert.match(same.stdout, /flag-sealed-value/, "the file's last newline is not part of the key");

    const warned = await kstate(["get", "clusters", "--state", state, "--passphrase-file", keyFile, "--encrypt-patterns", "**"]);
    assert.match(warned.stderr, /warning: KSTATE_ENCRYPT_PATTERNS encrypts config and instance groups/);
    const missing = await kstate(["get", "clusters", "--state", state, "--passphrase-file", path.join(dir, "nope")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--passphrase-file: cannot read .*nope \(ENOENT\)/);
    assert.equal((await kstate(["get", "clusters", "--state", state, "--kms-key-id"])).code, 2, "a flag without its value");
  });
});
