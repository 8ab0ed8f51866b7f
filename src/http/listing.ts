import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { compileFilter, type CompiledFilter } from '../scim/filter';
import type { DesiredStore, Page } from '../store/types';
import type { StoredResource } from '../model/resource';
import type { ListQuery } from './list-query';

export type ResourceName = 'User' | 'Group';

/**
 * Resources examined per store round trip when a filter has no indexed lookup and must scan. Small enough that
 * one batch costs a few milliseconds of CPU: between batches the scan yields to every other request.
 */
const SCAN_BATCH = 200;

/** Candidates an index may name for one request: read at once, they would hold the event loop as a scan does not. */
const MAX_INDEXED_CANDIDATES = 1_000;

/** Runs a scan or refuses it (the per-token bound of scan-gate.ts); by default scans run unbounded. */
export type ScanRunner = <T>(scan: () => Promise<T>) => Promise<T>;

const UNBOUNDED: ScanRunner = (scan) => scan();

export interface Selection {
  total: number;
  resources: StoredResource[];
}

/** One resource type's reads, as listing needs them. */
interface ListSource {
  list(start: number, count: number): Promise<Page>;
  get(ids: string[]): Promise<(StoredResource | null)[]>;
  /** Ids from an index, or undefined (now or once resolved) when no index of this resource can answer. */
  find(lookup: NonNullable<CompiledFilter['lookup']>): Promise<string[] | undefined> | undefined;
}

function sourceFor(store: DesiredStore, resource: ResourceName): ListSource {
  if (resource === 'User') {
    return {
      list: (start, count) => store.listUsers(start, count),
      get: (ids) => store.getUsers(ids),
      find: ({ attribute, value }) => (attribute === 'id' ? Promise.resolve([value]) : store.findUsers(attribute, value)),
    };
  }
  return {
    list: (start, count) => store.listGroups(start, count),
    get: (ids) => store.getGroups(ids),
    find: ({ attribute, value }) => {
      if (attribute === 'id') return Promise.resolve([value]);
      if (attribute === 'displayName' || attribute === 'externalId') return store.findGroups(attribute, value);
      return undefined;
    },
  };
}

/** Creation order, the order unfiltered lists use, so a result is stable across pages and requests. */
function byCreation(a: StoredResource, b: StoredResource): number {
  return a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function present(resource: StoredResource | null): resource is StoredResource {
  return resource !== null;
}

/**
 * The page of resources a list query asks for, and how many match in all. An equality on an indexed attribute
 * is answered from the index (then `match` checks the rest of the filter); any other filter scans in batches.
 * `matchable` turns a stored resource into what the filter is evaluated against (its rendered form, so
 * `meta.created` and `id` can be filtered on).
 */
export async function selectPage(
  store: DesiredStore,
  resource: ResourceName,
  query: ListQuery,
  matchable: (stored: StoredResource) => Record<string, unknown>,
  runScan: ScanRunner = UNBOUNDED,
): Promise<Selection> {
  const source = sourceFor(store, resource);
  const start = query.startIndex - 1;
  if (!query.filter) {
    const page = await source.list(start, query.count);
    return { total: page.total, resources: (await source.get(page.ids)).filter(present) };
  }
  const filter = compileFilter(query.filter, resource);
  const ids = filter.lookup && (await source.find(filter.lookup));
  // A prefix such as `sw "a"` can name most users: then the bounded, yielding scan reads them instead.
  if (ids && ids.length <= MAX_INDEXED_CANDIDATES) {
    const candidates = (await source.get([...new Set(ids)])).filter(present);
    const matches = candidates.filter((stored) => filter.match(matchable(stored))).sort(byCreation);
    return { total: matches.length, resources: matches.slice(start, start + query.count) };
  }
  return runScan(() => scan(source, filter, start, query.count, matchable));
}

async function scan(
  source: ListSource,
  filter: CompiledFilter,
  start: number,
  count: number,
  matchable: (stored: StoredResource) => Record<string, unknown>,
): Promise<Selection> {
  const resources: StoredResource[] = [];
  let total = 0;
  for (let offset = 0; ; offset += SCAN_BATCH) {
    const page = await source.list(offset, SCAN_BATCH);
    for (const stored of (await source.get(page.ids)).filter(present)) {
      if (!filter.match(matchable(stored))) continue;
      if (total >= start && resources.length < count) resources.push(stored);
      total += 1;
    }
    if (page.ids.length < SCAN_BATCH || offset + SCAN_BATCH >= page.total) return { total, resources };
    // Redis replies can arrive back to back: without this, concurrent scans take turns ahead of /healthz.
    await yieldToEventLoop();
  }
}
