/** The parts of a stored envelope (src/vfs/envelope.ts), for tests that damage or inspect one. */
import * as assert from "node:assert/strict";
import type { VfsPath } from "../../src/vfs";

export interface EnvelopeLayout {
  providerId: string;
  /** The wrapped key's bytes (the provider's own format). */
  wrappedKey: Buffer;
  /** Where the wrapped key starts, and where nonce | ciphertext | tag start. */
  wrappedAt: number;
  bodyAt: number;
  /** One position in each part every envelope has. */
  positions: Record<string, number>;
}

export function envelopeLayout(bytes: Buffer): EnvelopeLayout {
  const idLength = bytes[11]!;
  const wrappedAt = 12 + idLength + 2;
  const bodyAt = wrappedAt + bytes.readUInt16BE(12 + idLength);
  return {
    providerId: bytes.subarray(12, 12 + idLength).toString(),
    wrappedKey: bytes.subarray(wrappedAt, bodyAt),
    wrappedAt,
    bodyAt,
    positions: { marker: 3, version: 10, providerId: 12, wrappedLength: 12 + idLength + 1, nonce: bodyAt + 3, ciphertext: bodyAt + 20, tag: bytes.length - 4 },
  };
}

/**
 * Flips one byte at each position of the stored `bytes` (written raw at `raw`) and checks that
 * reading `file` through the encryption fails with an error naming `name`; then puts the bytes back.
 */
export async function assertEveryFlipFails(raw: VfsPath, file: VfsPath, bytes: Buffer, positions: Record<string, number>, name: string): Promise<void> {
  for (const [part, at] of Object.entries(positions)) {
    const damaged = Buffer.from(bytes);
    damaged[at] = damaged[at]! ^ 0x01;
    await raw.write(damaged);
    await assert.rejects(file.read(), (e: Error) => e.message.includes(name), `flipping the ${part} byte must fail`);
  }
  await raw.write(bytes);
}
