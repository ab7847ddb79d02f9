/** IPv4 CIDR blocks as numbers: parsing, printing, containment, overlap and even splits. */

export interface Block {
  /** The network address, host bits cleared. */
  base: number;
  bits: number;
}

export function parseCidr(cidr: string): Block | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const [a, b, c, d, bits] = m.slice(1).map(Number) as [number, number, number, number, number];
  if ([a, b, c, d].some((o) => o > 255) || bits > 32) return undefined;
  return { base: ((((a << 24) | (b << 16) | (c << 8) | d) >>> 0) & mask(bits)) >>> 0, bits };
}

export function formatCidr(b: Block): string {
  return `${b.base >>> 24}.${(b.base >>> 16) & 255}.${(b.base >>> 8) & 255}.${b.base & 255}/${b.bits}`;
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Whether an address lies in a block. */
export function contains(outer: Block, ip: number): boolean {
  return ((ip & mask(outer.bits)) >>> 0) === outer.base;
}

export function overlaps(x: Block, y: Block): boolean {
  return contains(x, y.base) || contains(y, x.base);
}

/** `parent` cut into 2^extra equal blocks, in order. */
export function split(parent: Block, extra: number): Block[] {
  const bits = parent.bits + extra;
  if (bits > 32) return [];
  return Array.from({ length: 2 ** extra }, (_, i) => ({ base: (parent.base + i * 2 ** (32 - bits)) >>> 0, bits }));
}
