/**
 * OpenSSH public keys made from a seed, so a failing case can be made again: an ed25519 key is 32
 * bytes, an RSA key an odd exponent and a modulus (kops's parser checks no more of a public key).
 */
import { createHash } from "node:crypto";
import { Rng } from "./kops-documents";

function frame(parts: Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    return [len, p];
  }));
}

function bytes(rng: Rng, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => rng.int(0, 255)));
}

export interface TestKey {
  /** The .pub file's text (one line, a newline at the end). */
  text: string;
  /** `aa:bb:…`, the MD5 of the key's wire encoding, as kops and `ssh-keygen -l -E md5` show it. */
  md5: string;
}

export function seededKey(seed: number, type: "ssh-ed25519" | "ssh-rsa", comment: string): TestKey {
  const rng = new Rng(seed);
  let blob: Buffer;
  if (type === "ssh-ed25519") blob = frame([Buffer.from(type), bytes(rng, 32)]);
  else {
    const n = bytes(rng, 256);
    n[0] = n[0]! | 0x80;
    n[255] = n[255]! | 1;
    blob = frame([Buffer.from(type), Buffer.from([1, 0, 1]), Buffer.concat([Buffer.from([0]), n])]);
  }
  return {
    text: `${type} ${blob.toString("base64")}${comment ? ` ${comment}` : ""}\n`,
    md5: createHash("md5").update(blob).digest("hex").match(/../g)!.join(":"),
  };
}
