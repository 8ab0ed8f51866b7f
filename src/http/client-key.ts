import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key failed authentications are counted under. An IPv6 client holds a whole /64 (it can pick any of
 * 2^64 addresses at no cost), so IPv6 addresses are grouped by their /64 prefix; an IPv4-mapped IPv6 address
 * counts as the IPv4 address it carries. Anything else (a unix socket, an unparsable value) is one key.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return 'unknown';
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros (`::` expanded; a zone id dropped). */
function expandIPv6(address: string): string[] {
  const [withoutZone] = address.split('%');
  const [head, tail] = withoutZone.includes('::') ? withoutZone.split('::') : [withoutZone, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const headGroups = groups(head);
  const tailGroups = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4 is handled above; 64:ff9b::1.2.3.4 is not) fills two groups.
  const tailCount = tailGroups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailCount).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => (group.includes('.') ? group : Number.parseInt(group, 16).toString(16)));
}
