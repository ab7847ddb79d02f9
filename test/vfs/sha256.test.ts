/**
 * The request signer's SHA-256 and HMAC-SHA256 (src/vfs/s3/sha256.ts) give node:crypto's digests:
 * for the published test vectors, and for seeded random inputs of every length around the block
 * and padding boundaries (KSTATE_SHA256_SEED picks another base seed).
 */
import * as assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { hmacSha256, sha256 } from "../../src/vfs/s3/sha256";
import { Rng } from "../support/kops-documents";

const BASE_SEED = Number(process.env.KSTATE_SHA256_SEED ?? 20261201);

const nodeSha = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const nodeHmac = (key: Uint8Array | string, data: Uint8Array | string) => createHmac("sha256", key).update(data).digest("hex");

function bytes(r: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r.int(0, 255);
  return b;
}

describe("SHA-256 and HMAC-SHA256 for request signatures", function () {
  it("gives FIPS 180-4's digests for its examples", function () {
    assert.equal(sha256("").toString("hex"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(sha256("abc").toString("hex"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").toString("hex"), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert.equal(sha256("a".repeat(1_000_000)).toString("hex"), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("gives RFC 4231's HMACs", function () {
    assert.equal(hmacSha256(Buffer.alloc(20, 0x0b), "Hi There").toString("hex"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert.equal(hmacSha256("Jefe", "what do ya want for nothing?").toString("hex"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // A key longer than a block is hashed first.
    assert.equal(hmacSha256(Buffer.alloc(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First").toString("hex"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  });

  it("agrees with node:crypto on every length from 0 to 300 bytes and on random strings and keys", function () {
    const r = new Rng(BASE_SEED);
    for (let n = 0; n <= 300; n++) {
      const data = bytes(r, n);
      assert.equal(sha256(data).toString("hex"), nodeSha(data), `seed ${BASE_SEED}: ${n} bytes`);
    }
    for (let i = 0; i < 200; i++) {
      const data = bytes(r, r.int(0, 5000));
      const key = bytes(r, r.int(0, 200));
      assert.equal(hmacSha256(key, data).toString("hex"), nodeHmac(key, data), `seed ${BASE_SEED}, trial ${i}: key ${key.length} bytes, data ${data.length}`);
      // Text is hashed as UTF-8, as SigV4 signs it.
      const text = Array.from({ length: r.int(0, 80) }, () => String.fromCodePoint(r.pick([0x41, 0x7a, 0xe9, 0x20ac, 0x1f600]) + r.int(0, 5))).join("");
      assert.equal(sha256(text).toString("hex"), nodeSha(Buffer.from(text, "utf8")), `seed ${BASE_SEED}, trial ${i}: ${JSON.stringify(text)}`);
      assert.equal(hmacSha256(text, text).toString("hex"), nodeHmac(Buffer.from(text, "utf8"), Buffer.from(text, "utf8")));
    }
  });
});
