import type { CoderClient } from '../coder/client';
import type { Organization } from '../coder/types';
import { ReconcileError } from './errors';

/** A name Coder did not know is asked about again at most this often (an organization created meanwhile is found). */
const MISS_REFRESH_MS = 30_000;

/**
 * Coder organizations by name, for the access policy (which names them). Read once, and again when a name is
 * missing; an organization the policy names and Coder lacks is a permanent failure naming it.
 */
export class OrgDirectory {
  private byName = new Map<string, Organization>();
  private byId = new Map<string, Organization>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly coder: Pick<CoderClient, 'organizations'>,
    readonly base: Organization,
    private readonly now: () => number = Date.now,
  ) {
    this.remember([base]);
  }

  /** The organization's id; throws a permanent ReconcileError when Coder has no organization of that name. */
  async idOf(name: string): Promise<string> {
    const known = await this.lookup(name);
    if (!known) {
      throw new ReconcileError(
        'unappliable',
        `organization "${name}" named by the access policy does not exist in Coder (create it, or fix ACCESS_POLICY_FILE; \`coder-scim-bridge policy check\` lists what is missing)`,
        true,
      );
    }
    return known;
  }

  /** The organization's id, or undefined when Coder has none of that name (one the bridge granted may since be gone). */
  async lookup(name: string): Promise<string | undefined> {
    return (this.byName.get(name) ?? (await this.refreshedLookup(name)))?.id;
  }

  /** The name of an organization the directory has seen (by id), if any. */
  nameOf(id: string): string | undefined {
    return this.byId.get(id)?.name;
  }

  private async refreshedLookup(name: string): Promise<Organization | undefined> {
    if (this.now() - this.loadedAt >= MISS_REFRESH_MS) {
      this.loading ??= this.coder
        .organizations()
        .then((orgs) => {
          this.byName = new Map();
          this.byId = new Map();
          this.remember([this.base, ...orgs]);
          this.loadedAt = this.now();
        })
        .finally(() => {
          this.loading = undefined;
        });
      await this.loading;
    }
    return this.byName.get(name);
  }

  private remember(orgs: Organization[]): void {
    for (const org of orgs) {
      this.byName.set(org.name, org);
      this.byId.set(org.id, org);
    }
  }
}
