/**
 * Globs of the policy file: `*` matches any run of characters, `?` exactly one; everything else is literal.
 * Compiled once, when the policy is loaded. Matching is the two-pointer wildcard walk, at most
 * O(pattern × value) steps: a regex of several `.*` can backtrack far worse on a long group name.
 */

export interface Glob {
  readonly source: string;
  test(value: string): boolean;
}

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Strings index by UTF-16 unit: fine (and allocation-free) unless a character lies outside the BMP. */
function wildcardMatch(pattern: ArrayLike<string>, value: ArrayLike<string>): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

export function compileGlob(pattern: string, { caseInsensitive = false } = {}): Glob {
  const fold = (s: string) => (caseInsensitive ? s.toLowerCase() : s);
  const wanted = fold(pattern);
  if (!isGlob(pattern)) return { source: pattern, test: (value) => fold(value) === wanted };
  // Code points when needed, so that `?` is one character even outside the BMP.
  const chars = Array.from(wanted);
  return {
    source: pattern,
    test: (value) => {
      const folded = fold(value);
      return SURROGATE.test(folded) ? wildcardMatch(chars, Array.from(folded)) : wildcardMatch(chars, folded);
    },
  };
}
