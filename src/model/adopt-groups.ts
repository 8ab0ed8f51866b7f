/** Which existing Coder groups the operator lets the bridge take over (see reconcile/adoption-rules.ts). */

/** ADOPT_GROUPS: exact Coder group names, or every group. */
export interface AdoptGroups {
  all: boolean;
  names: ReadonlySet<string>;
}

/** "a, b" -> those names; "*" -> all. Empty entries are dropped. */
export function parseAdoptGroups(text: string | undefined): AdoptGroups {
  const names = (text ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return { all: names.includes('*'), names: new Set(names.filter((name) => name !== '*')) };
}
