import { isIP } from 'node:net';

/**
 * TRUST_PROXY: which X-Forwarded-* hops to believe, in the forms Express accepts except those that believe any
 * sender. A hop count ("1": the ingress in front) or the proxies' addresses and subnets ("10.0.0.0/8, loopback").
 * Never `true` or a /0: X-Forwarded-For is written by the client, so believing every hop would let a client pick
 * its own address (unlimited token guessing, or a lockout aimed at someone else's address).
 */

export type TrustProxy = number | string;

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const HOW = 'give the number of proxies in front of the bridge (e.g. 1) or their addresses/subnets (e.g. 10.0.0.0/8)';

export function parseTrustProxy(text: string): { value: TrustProxy | undefined } | { problem: string } {
  const setting = text.trim();
  if (setting === 'false' || setting === '0') return { value: undefined };
  if (setting === 'true') return { problem: `TRUST_PROXY=true would believe any client's X-Forwarded-For: ${HOW}` };
  if (/^\d+$/.test(setting)) return { value: Number(setting) };
  const entries = setting.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const problem = entryProblem(entry);
    if (problem) return { problem: `TRUST_PROXY: ${problem}; ${HOW}` };
  }
  return { value: entries.join(', ') };
}

function entryProblem(entry: string): string | undefined {
  if (NAMED_RANGES.has(entry)) return undefined;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return `"${entry}" is neither an address, a subnet nor loopback/linklocal/uniquelocal`;
  if (prefix === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefix) || Number(prefix) > bits) return `"${entry}" has an invalid prefix length`;
  if (Number(prefix) === 0) return `"${entry}" trusts every address, like true`;
  return undefined;
}
