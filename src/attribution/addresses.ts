// Address normalisation: SPADE writes IPv6 fully expanded and IPv4 as dotted quads.

/** Folds IPv4-mapped IPv6 to IPv4, compresses IPv6, strips zone ids, lower-cases. */
export function normalizeAddress(address: string): string {
  let a = address.trim().toLowerCase();
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  if (!a.includes(':')) return a;
  const groups = expandIpv6(a);
  if (!groups) return a;
  // ::ffff:a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  return compressIpv6(groups);
}

function expandIpv6(a: string): number[] | undefined {
  let text = a;
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex groups first.
  const lastColon = text.lastIndexOf(':');
  const tailText = text.slice(lastColon + 1);
  if (tailText.includes('.')) {
    const parts = tailText.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    text = `${text.slice(0, lastColon + 1)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((h) => (/^[0-9a-f]{1,4}$/.test(h) ? parseInt(h, 16) : NaN)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if ([...head, ...rest].some(Number.isNaN)) return undefined;
  const known = head.length + rest.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest];
}

function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** "This host or pod": the any-address and loopback, in any spelling. */
export function isLocalAddress(normalized: string): boolean {
  return normalized === '0.0.0.0' || normalized === '::' || normalized === '::1' || normalized.startsWith('127.');
}
