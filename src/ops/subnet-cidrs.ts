/**
 * Subnet CIDRs as kops assigns them (AWS, OpenStack and Azure; upup/pkg/fi/cloudup/subnets.go):
 * the network CIDR is cut into 1, 2, 4 or 8 equal blocks, enough for every zonal subnet plus one
 * block for all utility subnets; blocks that overlap a subnet already holding a CIDR are skipped;
 * the first free block is cut in eight for the utility subnets, the rest go to zonal subnets in
 * zone order. Subnets that have a CIDR keep it. kops refuses when the blocks run out, and so does
 * this: adding a zone to a network already filled by its subnets has no room.
 */
import { type Block, contains, formatCidr as format, overlaps as overlap, parseCidr as parse, split } from "./ipv4";

export interface SubnetSlot {
  name: string;
  type: string;
  zone?: string;
  cidr?: string;
}

const ZONAL = new Set(["Public", "Private", "DualStack"]);

/**
 * The CIDR of every subnet after assignment (by name), or the reason there is none to give.
 * Subnets are taken as kops takes them: those with a CIDR outside the network are left alone.
 */
export function assignSubnetCidrs(networkCidr: string, subnets: readonly SubnetSlot[]): { cidrs: Map<string, string> } | { error: string } {
  const network = parse(networkCidr);
  if (!network) return { error: `the network CIDR ${JSON.stringify(networkCidr)} is not an IPv4 CIDR` };
  const cidrs = new Map<string, string>();
  const big: SubnetSlot[] = [];
  const little: SubnetSlot[] = [];
  const reserved: Block[] = [];
  for (const s of subnets) {
    if (s.cidr) {
      cidrs.set(s.name, s.cidr);
      const own = parse(s.cidr);
      if (!own) return { error: `subnet ${s.name} has a CIDR that is not IPv4: ${JSON.stringify(s.cidr)}` };
      if (!contains(network, own.base)) continue;
      reserved.push(own);
    }
    if (ZONAL.has(s.type)) big.push(s);
    else if (s.type === "Utility") little.push(s);
    else return { error: `subnet ${s.name} has unknown type ${JSON.stringify(s.type)}` };
  }
  if (subnets.every((s) => s.cidr)) return { cidrs };
  const byZone = (a: SubnetSlot, b: SubnetSlot) => ((a.zone ?? "") < (b.zone ?? "") ? -1 : (a.zone ?? "") > (b.zone ?? "") ? 1 : 0);
  big.sort(byZone);
  little.sort(byZone);

  const count = big.length + (little.length > 0 ? 1 : 0);
  const extra = count <= 1 ? 0 : count <= 2 ? 1 : count <= 4 ? 2 : 3;
  let blocks = split(network, extra).filter((b) => !reserved.some((r) => overlap(r, b)));
  if (blocks.length === 0) return { error: `no block of the network CIDR ${networkCidr} is free of the existing subnets, so no CIDR can be given to a new one` };
  if (little.length > 0) {
    const smalls = split(blocks[0]!, 3);
    blocks = blocks.slice(1);
    for (const s of little) {
      if (s.cidr) continue;
      const next = smalls.shift();
      if (!next) return { error: `no utility CIDR is left in ${networkCidr} for subnet ${s.name}` };
      cidrs.set(s.name, format(next));
    }
  }
  for (const s of big) {
    if (s.cidr) continue;
    const next = blocks.shift();
    if (!next) return { error: `the network CIDR ${networkCidr} has no free block left for subnet ${s.name} (kops cuts it in at most 8)` };
    cidrs.set(s.name, format(next));
  }
  return { cidrs };
}
