/**
 * Build subnet capacity: Image Builder needs a /28 or larger subnet with at least 4 free addresses
 * (load balancer, proxy VM NIC, Private Link NIC, Packer VM NIC). Azure reserves 5 addresses per subnet.
 */

export const AZURE_RESERVED_ADDRESSES = 5;
export const REQUIRED_FREE_ADDRESSES = 4;
export const MAX_PREFIX_LENGTH = 28;

export interface SubnetCapacity {
  /** IPv4 prefixes of the subnet. */
  readonly prefixes: readonly string[];
  /** Smallest (most specific) prefix length among them. */
  readonly largestPrefixLength: number;
  readonly totalAddresses: number;
  readonly usableAddresses: number;
  readonly usedAddresses: number;
  readonly freeAddresses: number;
}

/** Capacity of a subnet from its prefixes and the number of IP configurations in it. */
export function subnetCapacity(prefixes: readonly string[], ipConfigurationCount: number): SubnetCapacity {
  const v4 = prefixes.filter((p) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(p.trim()));
  if (v4.length === 0) {
    throw new RangeError(`the subnet has no IPv4 address prefix (got ${JSON.stringify(prefixes)})`);
  }
  let total = 0;
  let largestPrefixLength = 0;
  for (const p of v4) {
    const len = Number(p.split('/')[1]);
    if (len > 32) throw new RangeError(`invalid prefix length in "${p}"`);
    total += 2 ** (32 - len);
    largestPrefixLength = Math.max(largestPrefixLength, len);
  }
  const usable = Math.max(0, total - AZURE_RESERVED_ADDRESSES * v4.length);
  const used = Math.max(0, Math.floor(ipConfigurationCount));
  return {
    prefixes: v4,
    largestPrefixLength,
    totalAddresses: total,
    usableAddresses: usable,
    usedAddresses: used,
    freeAddresses: Math.max(0, usable - used),
  };
}

/** Problems with the capacity (empty = enough room). */
export function capacityProblems(c: SubnetCapacity): string[] {
  const problems: string[] = [];
  if (c.largestPrefixLength > MAX_PREFIX_LENGTH) {
    problems.push(
      `prefix ${c.prefixes.join(', ')} is smaller than /${MAX_PREFIX_LENGTH}; use a /${MAX_PREFIX_LENGTH} or larger subnet`,
    );
  }
  if (c.freeAddresses < REQUIRED_FREE_ADDRESSES) {
    problems.push(
      `has ${c.freeAddresses} free addresses (${c.totalAddresses} total, ${AZURE_RESERVED_ADDRESSES} reserved by Azure per prefix, ${c.usedAddresses} in use); Image Builder needs ${REQUIRED_FREE_ADDRESSES}: free addresses or use a larger subnet`,
    );
  }
  return problems;
}
