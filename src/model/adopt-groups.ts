/** ADOPT_GROUPS: the existing Coder groups the bridge may take over, by exact name, or every group (see reconcile/adoption-rules.ts). */
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
