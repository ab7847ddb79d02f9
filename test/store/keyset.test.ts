/**
 * Keyset documents as kops reads and writes them: what kstate serializes reads back the same, keys
 * come out oldest id first, and bad documents are refused naming the file and the field.
 */
import * as assert from "node:assert/strict";
import { findPrimary, idOlder, parseKeyset, serializeKeyset } from "../../src/store/keyset";
import { ValidationError } from "../../src/vfs/errors";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A keyset written the way kops 1.36 writes one (keys sorted, ids quoted, no creationTimestamp). */
const KOPS_TEXT = `apiVersion: kops.k8s.io/v1alpha2
kind: Keyset
metadata:
  name: kubernetes-ca
spec:
  keys:
  - distrustTimestamp: "2026-11-29T21:18:07Z"
    id: "7713705770540387252373653867"
    privateMaterial: ${b64(KEY)}
    publicMaterial: ${b64(CERT)}
  - id: "7713705789194175293585212740"
    privateMaterial: ${b64(KEY)}
    publicMaterial: ${b64(CERT)}
  primaryId: "7713705789194175293585212740"
  type: Keypair
`;

describe("keyset documents (pki/private/<keyset>/keyset.yaml)", function () {
  it("read and written back byte for byte as kops writes them, keys oldest first whatever order they are given in", function () {
    const keyset = parseKeyset(KOPS_TEXT, "s3://b/c/pki/private/kubernetes-ca/keyset.yaml");
    assert.equal(keyset.keys.length, 2);
    assert.equal(keyset.keys[0]!.privateMaterial, KEY);
    assert.equal(keyset.keys[0]!.distrustTimestamp, "2026-11-29T21:18:07Z");
    assert.equal(serializeKeyset(keyset), KOPS_TEXT);
    assert.equal(serializeKeyset({ ...keyset, keys: [...keyset.keys].reverse() }), KOPS_TEXT);
    assert.equal(findPrimary(keyset)?.id, "7713705789194175293585212740");
  });

  it("orders ids as kops does: integers by value, then other ids by text", function () {
    assert.ok(idOlder("9", "10"));
    assert.ok(!idOlder("10", "9"));
    assert.ok(idOlder("99999999999999999999999999", "abc"));
    assert.ok(idOlder("abc", "abd"));
  });

  it("finds the primary as kops does: primaryId when trusted, else the highest trusted integer id", function () {
    const keys = [{ id: "5" }, { id: "7", distrustTimestamp: "2026-01-01T00:00:00Z" }, { id: "6" }, { id: "x" }];
    assert.equal(findPrimary({ name: "k", keys, primaryId: "5" })?.id, "5");
    assert.equal(findPrimary({ name: "k", keys, primaryId: "7" })?.id, "6", "a distrusted primaryId is passed over");
    assert.equal(findPrimary({ name: "k", keys })?.id, "6");
  });

  const FILE = "file:///s/c/pki/private/x-ca/keyset.yaml";
  const cases: { name: string; text: string; message: RegExp }[] = [
    { name: "not YAML mapping", text: "- a\n", message: /keyset\.yaml: is not a Keyset document/ },
    { name: "another kind", text: KOPS_TEXT.replace("kind: Keyset", "kind: Secret"), message: /keyset\.yaml: kind must be Keyset \(found "Secret"\)/ },
    { name: "another apiVersion", text: KOPS_TEXT.replace("kops.k8s.io/v1alpha2", "v1"), message: /keyset\.yaml: apiVersion must be kops\.k8s\.io\/v1alpha2/ },
    { name: "no name", text: KOPS_TEXT.replace("  name: kubernetes-ca\n", ""), message: /keyset\.yaml: metadata\.name must be the keyset's name/ },
    { name: "bad material", text: KOPS_TEXT.replace(`publicMaterial: ${b64(CERT)}`, "publicMaterial: not*base64"), message: /keyset\.yaml: spec\.keys\[0\]\.publicMaterial is not base64/ },
    { name: "bad time", text: KOPS_TEXT.replace('"2026-11-29T21:18:07Z"', "yesterday"), message: /keyset\.yaml: spec\.keys\[0\]\.distrustTimestamp must be an RFC 3339 time/ },
    { name: "id twice", text: KOPS_TEXT.replace('id: "7713705789194175293585212740"', 'id: "7713705770540387252373653867"'), message: /keyset\.yaml: spec\.keys\[1\]\.id "7713705770540387252373653867" is given twice/ },
    { name: "another type", text: KOPS_TEXT.replace("type: Keypair", "type: Secret"), message: /keyset\.yaml: spec\.type must be Keypair/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming the file and field`, function () {
      assert.throws(() => parseKeyset(c.text, FILE), (e: unknown) => ValidationError.isInstance(e) && c.message.test(e.message) && e.message.startsWith(FILE));
    });
  }
});
