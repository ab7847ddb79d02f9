/**
 * `kstate rekey` warns, as `create secret` and `create keypair` do, when the files it seals are
 * ones kops opens (secrets/, pki/): kops then cannot read them. Files it re-encrypts elsewhere, or
 * opens back to plaintext, bring no warning.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kstate } from "../support/cli";

const NAME = "rekey.k8s.example.com";
const PASSPHRASE = "a rekey test passphrase";

describe("kstate rekey", function () {
  this.timeout(60_000);

  it("warns naming the files kops opens that it sealed; none when nothing is sealed for kops", async function () {
    const state = `file://${fs.mkdtempSync(path.join(os.tmpdir(), "kstate-rekey-"))}`;
    const env = { KOPS_STATE_STORE: state };
    const ok = async (argv: string[], e: Record<string, string>, code = 0) => {
      const r = await kstate(argv, { env: e });
      assert.equal(r.code, code, `${argv.join(" ")}: ${r.stderr}`);
      return r;
    };
    await ok(["create", "cluster", NAME, "--zones", "us-east-1a", "--kubernetes-version", "v1.30.2", "--cloud", "aws"], env);
    await ok(["create", "secret", "plain-one", "--name", NAME, "--from-literal", "v1"], env);
    await ok(["create", "secret", "plain-two", "--name", NAME, "--from-literal", "v2"], env);

    const sealing = await ok(["rekey", NAME], { ...env, KSTATE_PASSPHRASE: PASSPHRASE });
    assert.match(sealing.stdout, /Rekeyed 2 of \d+ file\(s\)/);
    assert.match(sealing.stderr, /^warning: secrets\/plain-one, secrets\/plain-two are sealed by client-side encryption; kops cannot open them /);

    const again = await ok(["rekey", NAME], { ...env, KSTATE_PASSPHRASE: PASSPHRASE }, 4);
    assert.equal(again.stderr, "", "nothing rewritten, nothing to warn of");

    // Patterns that leave secrets/ out: rekey opens them back to plaintext, which kops reads.
    const opening = await ok(["rekey", NAME], { ...env, KSTATE_PASSPHRASE: PASSPHRASE, KSTATE_ENCRYPT_PATTERNS: "custom/**" });
    assert.match(opening.stdout, /Rekeyed 2 of/);
    assert.equal(opening.stderr, "");
    const revealed = await ok(["get", "secrets", "--name", NAME, "--reveal"], env);
    assert.match(revealed.stdout, /plain-one/);
  });
});
