/** The IAM documents a StateStore hands out: the KMS statements each kind of key needs. */
import * as assert from "node:assert/strict";
import { s3ReadPolicy, s3WritePolicy, type StoreKmsKeys } from "../../src/resources/policies";

const cases: { name: string; keys: StoreKmsKeys; read: unknown[]; write: unknown[] }[] = [
  { name: "no KMS key: the bucket statements alone", keys: {}, read: [], write: [] },
  {
    name: "SSE-KMS with a key ARN",
    keys: { sse: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
    read: [{ Sid: "DecryptStateStoreSse", Effect: "Allow", Action: ["kms:Decrypt"], Resource: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }],
    write: [{ Sid: "EncryptStateStoreSse", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }],
  },
  {
    name: "SSE-KMS with a bare key id: any region and account",
    keys: { sse: "1234abcd-12ab-34cd-56ef-1234567890ab" },
    read: [{ Sid: "DecryptStateStoreSse", Effect: "Allow", Action: ["kms:Decrypt"], Resource: "arn:aws:kms:*:*:key/1234abcd-12ab-34cd-56ef-1234567890ab" }],
    write: [{ Sid: "EncryptStateStoreSse", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: "arn:aws:kms:*:*:key/1234abcd-12ab-34cd-56ef-1234567890ab" }],
  },
  {
    name: "client-side AWS KMS by alias: any key with that alias",
    keys: { clientSide: "alias/kops-state" },
    read: [{ Sid: "DecryptStateStoreClientSide", Effect: "Allow", Action: ["kms:Decrypt"], Resource: "arn:aws:kms:*:*:key/*", Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/kops-state" } } }],
    write: [{ Sid: "EncryptStateStoreClientSide", Effect: "Allow", Action: ["kms:Encrypt"], Resource: "arn:aws:kms:*:*:key/*", Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/kops-state" } } }],
  },
];

describe("StateStore IAM policies", function () {
  for (const c of cases) {
    it(c.name, function () {
      const read = s3ReadPolicy("acme-state", c.keys);
      const write = s3WritePolicy("acme-state", c.keys);
      assert.deepEqual(read.Statement.slice(2), c.read);
      assert.deepEqual(read.Statement.slice(0, 2).map((s) => s.Sid), ["ListStateStore", "ReadStateStore"]);
      // Writers read too: the read statements come first, then the bucket's write statements, then the keys'.
      assert.deepEqual(write.Statement.slice(0, read.Statement.length), read.Statement);
      assert.deepEqual(write.Statement.slice(read.Statement.length + 2), c.write);
    });
  }
});
