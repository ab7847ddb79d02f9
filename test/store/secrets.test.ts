import * as assert from "node:assert/strict";
import { checkInputs } from "../../src/providers/cluster-config";
import { checkStateStore } from "../../src/providers/state-store";
import { encryptionProblems } from "../../src/store/secrets";

describe("client-side encryption settings as resource inputs", function () {
  it("each problem names the field it concerns, the fallback's own included; nothing is contacted", function () {
    const long = "a passphrase long enough";
    assert.deepEqual(encryptionProblems({ passphrase: long }), []);
    assert.deepEqual(encryptionProblems({ passphrase: "short" }).map((p) => p.property), ["clientSideEncryption.passphrase"]);
    assert.deepEqual(encryptionProblems({ passphrase: long, fallback: { passphrase: "short" } }).map((p) => p.property), ["clientSideEncryption.fallback.passphrase"]);
    assert.deepEqual(encryptionProblems({ passphrase: long, fallback: { passphrase: long, awsKmsKeyId: "alias/x" } }).map((p) => p.property), ["clientSideEncryption.fallback.awsKmsKeyId"]);
    assert.deepEqual(encryptionProblems({}).map((p) => p.property), ["clientSideEncryption.passphrase"]);
    assert.deepEqual(encryptionProblems({ awsKmsKeyId: " " }).map((p) => p.property), ["clientSideEncryption.awsKmsKeyId"]);
    assert.deepEqual(encryptionProblems({ passphrase: long, patterns: [""] }).map((p) => p.property), ["clientSideEncryption.patterns"]);
    assert.deepEqual(encryptionProblems("a string").map((p) => p.property), ["clientSideEncryption"]);
    // Patterns that would match no file (so what they name would be stored in plaintext).
    for (const pattern of ["./secrets/**", "/secrets/**", "{secrets,x}/**", "[s]ecrets/**", "secrets//x", "../secrets/**"]) {
      const problems = encryptionProblems({ passphrase: long, patterns: [pattern] });
      assert.deepEqual(problems.map((p) => p.property), ["clientSideEncryption.patterns"], pattern);
      assert.match(problems[0]!.reason, /would match no file/, pattern);
    }
    assert.deepEqual(encryptionProblems({ passphrase: long, patterns: ["secrets/*", "secret?/**", "pki/private/**"] }), []);
  });

  it("ClusterConfig and StateStore report them under their own property", function () {
    const bad = { passphrase: "a passphrase long enough", fallback: { passphrase: "short" } };
    assert.ok(checkInputs({ store: "file:///tmp/x", name: "a.example.com", clientSideEncryption: bad }).some((f) => f.property === "clientSideEncryption.fallback.passphrase"));
    assert.ok(checkStateStore({ url: "file:///tmp/x", versioning: false, clientSideEncryption: bad }).failures.some((f) => f.property === "clientSideEncryption.fallback.passphrase"));
  });
});
