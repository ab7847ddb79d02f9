/**
 * A store's recorded client-side encryption policy (`kstate encryption set`) binds every writer:
 * each command that writes, run without the key, is refused naming it and leaves the store
 * byte-identical; with the key it writes ciphertext where the policy says; plaintext written
 * before the policy still reads; `encryption clear` lifts it. On file:// and on MinIO (versioned,
 * so rollback runs too).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { POLICY_FILE } from "../../src/store/encryption-policy";
import { isEnvelope } from "../../src/vfs";
import { kstate } from "../support/cli";
import { openWith, versionedStores } from "../support/cli-stores";
import { snapshot } from "../support/snapshot";

const NAME = "policy.k8s.example.com";
const OTHER = "other.k8s.example.com";
const PASSPHRASE = "policy test passphrase 5521";
const EDITOR = `${process.execPath} ${path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "editor.js")}`;
const MISSING_KEY = /store \S+ keeps secrets\/\*\*, pki\/private\/\*\* encrypted with a passphrase \(recorded in \.kstate\/encryption\.json\); give the passphrase with --passphrase-file FILE or KSTATE_PASSPHRASE; nothing was written/;

const stores: Record<string, () => Promise<{ url: string; env: Record<string, string>; versioned: boolean }>> = {
  "file://": async () => ({ url: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-policy-"))}`, env: {}, versioned: false }),
  "s3 (MinIO, versioned)": async () => ({ ...(await versionedStores["s3 (MinIO, versioned)"]!()), versioned: true }),
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`store encryption policy through the CLI (${kind})`, function () {
    this.timeout(120_000);

    it("every writing command without the key is refused, naming it, store byte-identical; with the key, ciphertext; old plaintext reads; clear lifts it", async function () {
      const { url, env: cloud, versioned } = await make();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-policy-cli-"));
      const passFile = path.join(dir, "pass");
      fs.writeFileSync(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
      const env = { ...cloud, KOPS_STATE_STORE: url, KSTATE_EDITOR: EDITOR, EDIT_COUNTER: path.join(dir, "counter") };
      const withKey = { ...env, KSTATE_PASSPHRASE: PASSPHRASE };
      const ok = async (argv: string[], e: Record<string, string> = env) => {
        const r = await kstate(argv, { env: e });
        assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
        return r;
      };
      const root = openWith(url, cloud);
      // Before any policy: a cluster, a plaintext secret, an export for apply -f, a second revision.
      await ok(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"]);
      await ok(["create", "secret", "pre", "--name", NAME, "--from-literal", "pre-policy-value"]);
      assert.equal((await root.join(NAME, "secrets", "pre").read()).data.toString(), JSON.stringify({ Data: Buffer.from("pre-policy-value").toString("base64") }));
      // A migration source: another store holding a cluster with a plaintext secret.
      const source = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-policy-src-"))}`;
      await ok(["create", "cluster", OTHER, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", source]);
      await ok(["create", "secret", "s", "--name", OTHER, "--from-literal", "plain-in-source", "--state", source]);
      let oldRevision: string | undefined;
      if (versioned) {
        fs.writeFileSync(env.EDIT_COUNTER, "0");
        await ok(["edit", "cluster", NAME], { ...env, EDIT_STEPS: JSON.stringify([{ replace: ["kubernetesVersion: v1.30.2", "kubernetesVersion: v1.30.3"] }]) });
        const rows = (await ok(["history", NAME, "--file", "config"])).stdout.trim().split("\n").slice(1);
        oldRevision = rows[rows.length - 1]!.split(/\s+/)[0];
      }
      const exported = path.join(dir, "export");
      await ok(["export", NAME, "--to", exported]);
      fs.writeFileSync(path.join(exported, "config"), fs.readFileSync(path.join(exported, "config"), "utf8").replace(/kubernetesVersion: v1\.30\.\d/, "kubernetesVersion: v1.30.4"));

      // No policy yet; `set` needs the key, records its kind and patterns, never the key.
      assert.equal((await kstate(["encryption", "show"], { env })).code, 4);
      assert.equal((await kstate(["encryption", "set"], { env })).code, 2, "set without a key is a usage error");
      const set = await ok(["encryption", "set", "--passphrase-file", passFile]);
      assert.match(set.stdout, /Recorded .*secrets\/\*\*, pki\/private\/\*\* encrypted with a passphrase/);
      const recorded = (await root.join(...POLICY_FILE.split("/")).read()).data.toString();
      assert.deepEqual(JSON.parse(recorded), { version: 1, keyProvider: "passphrase", patterns: ["secrets/**", "pki/private/**"], allowEncryptingKopsReads: false });
      assert.ok(!recorded.includes(PASSPHRASE));
      assert.equal((await ok(["encryption", "show"])).stdout, recorded);
      assert.equal((await kstate(["encryption", "set", "--passphrase-file", passFile], { env })).code, 4, "the same policy again: nothing to do");
      const listed = (await ok(["get", "clusters"])).stdout;
      assert.ok(listed.includes(NAME) && !listed.includes(".kstate"), `the policy's folder is no cluster: ${listed}`);

      // Every command that writes, without the key: refused, naming it; nothing written.
      const before = await snapshot(root);
      const refused: [string, string[], Record<string, string>?][] = [
        ["create cluster (new)", ["create", "cluster", "new.k8s.example.com", "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"]],
        ["create cluster (merge)", ["create", "cluster", NAME, "--node-count", "3"]],
        ["create secret", ["create", "secret", "post", "--name", NAME, "--from-literal", "post-policy-value"]],
        ["create ig", ["create", "ig", "extra", "--name", NAME, "--subnet", "us-east-1a"]],
        ["edit", ["edit", "cluster", NAME], { EDIT_STEPS: JSON.stringify([{ replace: ["kubernetesVersion: v1.30", "kubernetesVersion: v1.31"] }]) }],
        ["apply -f", ["apply", "-f", exported, "--yes"]],
        ...(versioned ? [["rollback", ["rollback", NAME, "--to", oldRevision!, "--yes"]] as [string, string[]]] : []),
      ];
      for (const [what, argv, extra] of refused) {
        fs.writeFileSync(env.EDIT_COUNTER, "0");
        const r = await kstate(argv, { env: { ...env, ...extra } });
        assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, MISSING_KEY, what);
        assert.deepEqual(await snapshot(root), before, `${what}: the store is byte-identical`);
      }
      // A migration into the store: the source's plaintext secret would arrive as it is.
      const moved = await kstate(["migrate", OTHER, "--from", source, "--to", url, "--yes"], { env });
      assert.equal(moved.code, 1, moved.stderr);
      assert.match(moved.stderr, /keeps secrets\/\*\*, pki\/private\/\*\* encrypted with a passphrase \(recorded in \.kstate\/encryption\.json\), and this file is plaintext in \S+ \(secrets\/s\); nothing was copied/);
      assert.deepEqual(await snapshot(root), before, "migrate: the store is byte-identical");
      // Reads need no key.
      assert.equal((await ok(["get", "cluster", NAME, "-o", "yaml"])).code, 0);

      // With the key: ciphertext where the policy says; the plaintext from before still reads.
      await ok(["create", "secret", "post", "--name", NAME, "--from-literal", "post-policy-value"], withKey);
      const sealed = (await root.join(NAME, "secrets", "post").read()).data;
      assert.ok(isEnvelope(sealed) && !sealed.includes(Buffer.from("post-policy-value")) && !sealed.includes(Buffer.from(Buffer.from("post-policy-value").toString("base64"))));
      const revealed = JSON.parse((await ok(["get", "secrets", "--name", NAME, "--reveal", "-o", "json"], withKey)).stdout) as { name: string; value: string }[];
      assert.deepEqual(revealed.map((s) => [s.name, s.value]).sort(), [["post", "post-policy-value"], ["pre", "pre-policy-value"]]);
      await ok(["create", "ig", "extra", "--name", NAME, "--subnet", "us-east-1a"], withKey);
      assert.ok(!isEnvelope((await root.join(NAME, "instancegroup", "extra").read()).data), "instance groups stay plaintext for kops");
      // The policy's patterns decide, not the writer's own: a writer asking for other patterns seals secrets/** still.
      await ok(["create", "secret", "third", "--name", NAME, "--from-literal", "third-value"], { ...withKey, KSTATE_ENCRYPT_PATTERNS: "manifests/**" });
      assert.ok(isEnvelope((await root.join(NAME, "secrets", "third").read()).data));

      // Clear lifts the policy: a writer without the key may write plaintext again.
      await ok(["encryption", "clear"]);
      assert.equal((await kstate(["encryption", "clear"], { env })).code, 4);
      await ok(["create", "secret", "after", "--name", NAME, "--from-literal", "after-value"]);
      assert.ok(!isEnvelope((await root.join(NAME, "secrets", "after").read()).data));
    });

    it("migrate takes the source store's policy to a store of its own, shown before it is written, and refuses a store of other clusters that records none", async function () {
      const { url: source, env: cloud } = await make();
      const { url: destination } = await make();
      const { url: crowded } = await make();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstate-policy-carry-"));
      const passFile = path.join(dir, "pass");
      fs.writeFileSync(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
      const env = { ...cloud, KOPS_STATE_STORE: source };
      const withKey = { ...env, KSTATE_PASSPHRASE: PASSPHRASE };
      const ok = async (argv: string[], e: Record<string, string> = env) => {
        const r = await kstate(argv, { env: e });
        assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
        return r;
      };
      await ok(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"]);
      await ok(["encryption", "set", "--passphrase-file", passFile]);
      await ok(["create", "secret", "sealed", "--name", NAME, "--from-literal", "sealed-value"], withKey);
      // A mistyped passphrase does not open what is sealed: refused before it seals anything.
      const typoBefore = await snapshot(openWith(source, cloud));
      const typo = await kstate(["create", "secret", "other", "--name", NAME, "--from-literal", "other-value"], { env: { ...env, KSTATE_PASSPHRASE: `${PASSPHRASE}x` } });
      assert.equal(typo.code, 1, typo.stderr);
      assert.match(typo.stderr, /the passphrase given does not open \S+\/secrets\/sealed, which the cluster keeps sealed with a passphrase \(cannot decrypt: wrong passphrase or key.*\)[^]*Nothing was written/);
      assert.deepEqual(await snapshot(openWith(source, cloud)), typoBefore);
      await ok(["create", "cluster", OTHER, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws", "--state", crowded]);
      const recorded = (await openWith(source, cloud).join(...POLICY_FILE.split("/")).read()).data.toString();
      const before = { destination: await snapshot(openWith(destination, cloud)), crowded: await snapshot(openWith(crowded, cloud)) };

      const dry = await ok(["migrate", NAME, "--to", destination, "--dry-run"]);
      assert.ok(dry.stdout.includes(`record the source store's encryption policy (the destination keeps none): secrets/**, pki/private/** encrypted with a passphrase, in ${destination}/${POLICY_FILE}`), dry.stdout);
      assert.deepEqual(await snapshot(openWith(destination, cloud)), before.destination, "a dry run writes nothing");

      const refused = await kstate(["migrate", NAME, "--to", crowded, "--yes"], { env });
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /the source store keeps secrets\/\*\*, pki\/private\/\*\* encrypted with a passphrase \(recorded in \.kstate\/encryption\.json\), and the destination store records no policy while it holds other clusters \(other\.k8s\.example\.com\); nothing was copied\. .*kstate encryption set --state /);
      assert.deepEqual(await snapshot(openWith(crowded, cloud)), before.crowded, "the refused move left the store byte-identical");

      const moved = await ok(["migrate", NAME, "--to", destination, "--yes"]);
      assert.match(moved.stdout, /the source store's encryption policy recorded there/);
      assert.equal((await ok(["encryption", "show", "--state", destination])).stdout, recorded);
      // The policy binds the moved cluster's writers at the new store as it did at the old.
      const atNew = { ...env, KOPS_STATE_STORE: destination };
      const keyless = await kstate(["create", "secret", "later", "--name", NAME, "--from-literal", "later-value"], { env: atNew });
      assert.equal(keyless.code, 1);
      assert.match(keyless.stderr, MISSING_KEY);
      await ok(["create", "secret", "later", "--name", NAME, "--from-literal", "later-value"], { ...atNew, KSTATE_PASSPHRASE: PASSPHRASE });
      assert.ok(isEnvelope((await openWith(destination, cloud).join(NAME, "secrets", "later").read()).data));
      const revealed = JSON.parse((await ok(["get", "secrets", "--name", NAME, "--reveal", "-o", "json"], { ...atNew, KSTATE_PASSPHRASE: PASSPHRASE })).stdout) as { name: string; value: string }[];
      assert.deepEqual(revealed.map((x) => [x.name, x.value]).sort(), [["later", "later-value"], ["sealed", "sealed-value"]]);
      // Again: the policy is there, the files too: nothing to do.
      assert.equal((await kstate(["migrate", NAME, "--to", destination, "--yes"], { env })).code, 4);
      // A deletion writes no bytes, so it needs no key.
      await ok(["delete", "secret", "later", "--name", NAME, "--yes"], atNew);
      await assert.rejects(openWith(destination, cloud).join(NAME, "secrets", "later").read());
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
}
