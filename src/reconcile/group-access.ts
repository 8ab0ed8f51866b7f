import type { CoderClient } from '../coder/client';
import { CoderApiError, isNotFound, isTransient } from '../coder/errors';
import type { CompiledPolicy } from '../policy/compile';
import {
  EMPTY_GROUP_GRANTS,
  planGroupAccess,
  planGroupChange,
  planTemplateAcl,
  type CoderGroupAccess,
  type GroupAccess,
  type GroupAccessChange,
  type GroupGrantRecord,
} from '../policy/plan';
import type { TemplateAccess } from '../policy/schema';
import type { DesiredGroup } from './mapping';
import type { AppliedGroupState } from './plan';
import type { AccessContext, Progress } from './reconcile-resource';

/**
 * The access policy applied to one group: where its Coder group lives, the display name it shows, and the grants
 * the bridge gives it (quota, avatar, template ACL entries). The planning is src/policy/plan.ts; this file reads
 * only what a change needs from Coder and records each grant as soon as Coder took it.
 */

/** What the policy makes of one SCIM group. */
export interface GroupPolicyView {
  /** The organization the Coder group lives in. */
  orgId: string;
  /** The SCIM group, mapped: what the policy matches (by displayName). */
  scim: DesiredGroup;
  /** The SCIM group as Coder should show it: a display_name the policy sets wins over the SCIM mapping's. */
  desired: DesiredGroup;
  /** Undefined without a policy: the bridge grants nothing, and takes nothing back. */
  access?: GroupAccess;
  /** Fingerprint of what the policy asks (see accessKey). */
  key?: string;
}

/** `scim` is the SCIM group mapped; throws a permanent ReconcileError for an organization Coder lacks. */
export async function viewGroup(context: AccessContext | undefined, baseOrgId: string, scim: DesiredGroup): Promise<GroupPolicyView> {
  const policy = context?.policy.current();
  if (!context || !policy) return { orgId: baseOrgId, scim, desired: scim };
  const access = planGroupAccess(policy, scim.displayName);
  const orgId = await context.orgs.idOf(access.organization);
  const desired = access.displayName === undefined ? scim : { ...scim, displayName: access.displayName };
  return { orgId, scim, desired, access, key: accessKey(orgId, access) };
}

/**
 * What the grant step reads Coder for, in one string: the same ask as last applied costs no Coder call. The display
 * name is not part of it (it rides on the member PATCH, see viewGroup); templates are matched by name in Coder, so
 * a template created later under a granted glob is found by the next resync (its policy preview reads each
 * organization's templates and queues the groups whose ACL would change).
 */
export function accessKey(orgId: string, access: GroupAccess): string {
  const templates = access.templates.map((grant) => [grant.glob.source, grant.access]);
  return JSON.stringify([orgId, access.quotaAllowance ?? null, access.avatarUrl ?? null, templates]);
}

const affectsUsers = new WeakMap<CompiledPolicy, boolean>();

/**
 * Whether a user's access can depend on the groups the user is in: a rule matching groups grants site roles or
 * organizations, or places a group outside the default organization (its members must join that one).
 */
export function groupsAffectUsers(policy: CompiledPolicy): boolean {
  let known = affectsUsers.get(policy);
  if (known === undefined) {
    const byGroups = new Set([...policy.byGroup.values()].flat().concat(policy.groupGlobs.map(({ rule }) => rule)));
    known = [...byGroups].some((index) => {
      const rule = policy.rules[index];
      const placed = rule.group?.organization;
      return rule.siteRoles.length > 0 || rule.organizations.length > 0 || (placed !== undefined && placed !== policy.defaultOrganization);
    });
    affectsUsers.set(policy, known);
  }
  return known;
}

/** The SCIM displayName the policy last matched the group by (the Coder display name, unless the policy replaced it). */
export function matchedName(applied: AppliedGroupState): string {
  return applied.scimDisplayName ?? applied.displayName;
}

/** The applied record's name fields once `view` is what Coder shows. */
export function withScimName(applied: AppliedGroupState, view: GroupPolicyView): AppliedGroupState {
  const { scimDisplayName: _previous, ...rest } = applied;
  return applied.displayName === view.scim.displayName ? rest : { ...rest, scimDisplayName: view.scim.displayName };
}

/** The create body's policy fields: a new group gets its quota and avatar in the create call itself. */
export function createFields(access: GroupAccess | undefined): { quota_allowance?: number; avatar_url?: string } {
  return {
    ...(access?.quotaAllowance === undefined ? {} : { quota_allowance: access.quotaAllowance }),
    ...(access?.avatarUrl === undefined ? {} : { avatar_url: access.avatarUrl }),
  };
}

/** The record of a group just created with `createFields(access)`: the bridge set those fields. */
export function createdGrants(access: GroupAccess | undefined): GroupGrantRecord | undefined {
  if (access?.quotaAllowance === undefined && access?.avatarUrl === undefined) return undefined;
  return {
    templates: {},
    ...(access.quotaAllowance === undefined ? {} : { quotaAllowance: access.quotaAllowance }),
    ...(access.avatarUrl === undefined ? {} : { avatarUrl: access.avatarUrl }),
  };
}

export type GrantStep = 'done' | 'gone';

export function hasGrants(record: GroupGrantRecord): boolean {
  return record.quotaAllowance !== undefined || record.avatarUrl !== undefined || record.displayName !== undefined || Object.keys(record.templates).length > 0;
}

/** What a group is granted by no rule: applying it takes back whatever the bridge granted. */
export const NO_GROUP_ACCESS: GroupAccess = Object.freeze({ organization: '', templates: [] }) as unknown as GroupAccess;

/** What planning reads of Coder (a resync's preview passes reads that remember templates and ACLs across groups). */
export type GrantReads = Pick<CoderClient, 'groupSummary' | 'templates' | 'templateAcl'>;
type GrantCoder = GrantReads & Pick<CoderClient, 'patchGroup' | 'patchTemplateAcl'>;

/** The grant step of a group reconcile (display name excepted: see viewGroup). */
export class GroupGrants {
  constructor(private readonly coder: GrantCoder) {}

  /**
   * Reads what the change needs (the group's fields only if the policy sets or set quota or avatar; the template
   * list and the ACLs of the templates granted now or before only if there are any), then one PATCH for the group
   * fields and one per changed ACL entry, each recorded in `progress` once Coder took it.
   * 'gone': the Coder group was deleted outside the bridge.
   */
  async apply(view: { orgId: string; access: GroupAccess; key: string }, progress: Progress<AppliedGroupState>): Promise<GrantStep> {
    const applied = progress.applied!;
    const granted = applied.access ?? EMPTY_GROUP_GRANTS;
    const change = await planGroupGrants(this.coder, view.access, view.orgId, applied);
    if (!change) return 'gone';
    let record: GroupGrantRecord = { ...granted, templates: { ...granted.templates } };
    const save = () => {
      progress.applied = { ...progress.applied!, access: record };
    };
    const created = entriesCreated(change, granted);
    if (created.length > 0) {
      // Written before the calls, for the reason recordBeforeCalls gives for users: an entry Coder lacked is the bridge's.
      for (const [templateId, access] of created) record = withTemplate(record, templateId, access);
      save();
      await progress.checkpoint?.();
    }
    if (Object.keys(change.patch).length > 0) {
      progress.operations.push('patchGroupAccess');
      try {
        await this.coder.patchGroup(applied.coderId, change.patch);
      } catch (err) {
        if (isNotFound(err)) return 'gone';
        throw err;
      }
      record = withScalars(record, change);
      save();
    }
    for (const [templateId, access] of Object.entries(change.acl)) {
      progress.operations.push('patchTemplateAcl');
      try {
        await this.coder.patchTemplateAcl(templateId, { group_perms: { [applied.coderId]: access } });
      } catch (err) {
        // A template deleted meanwhile holds no entry of the group's: nothing left to grant or take back.
        if (!isNotFound(err)) {
          // Refused outright: the entry written ahead for it is not the bridge's after all.
          if (err instanceof CoderApiError && !isTransient(err) && granted.templates[templateId] === undefined) {
            record = withTemplate(record, templateId, '');
            save();
          }
          throw err;
        }
      }
      record = withTemplate(record, templateId, access);
      save();
    }
    progress.applied = { ...progress.applied!, access: change.next, accessKey: view.key };
    return 'done';
  }
}

/**
 * The change the policy's grants need, read from Coder as the grant step reads it; null when the Coder group is
 * gone. Shared by the grant step and the resync's preview (`resync --dry-run`).
 */
export async function planGroupGrants(reads: GrantReads, access: GroupAccess, orgId: string, applied: AppliedGroupState): Promise<GroupAccessChange | null> {
  const granted = applied.access ?? EMPTY_GROUP_GRANTS;
  // The display name is the SCIM mapping's business here (see viewGroup): planned as neither set nor granted.
  const desired: GroupAccess = { ...access, displayName: undefined };
  const actual = await readActual(reads, applied.coderId, orgId, desired, granted);
  if (!actual) return null;
  return planGroupChange(desired, actual.desiredAcl, { ...granted, displayName: undefined }, actual.coder, '');
}

async function readActual(
  reads: GrantReads,
  coderId: string,
  orgId: string,
  desired: GroupAccess,
  granted: GroupGrantRecord,
): Promise<{ coder: CoderGroupAccess; desiredAcl: Record<string, TemplateAccess> } | null> {
  const coder: CoderGroupAccess = { quotaAllowance: 0, displayName: '', avatarUrl: '', templates: {} };
  const fields = [desired.quotaAllowance, desired.avatarUrl, granted.quotaAllowance, granted.avatarUrl];
  if (fields.some((value) => value !== undefined)) {
    const group = await reads.groupSummary(coderId);
    if (!group) return null;
    coder.quotaAllowance = group.quota_allowance;
    coder.avatarUrl = group.avatar_url;
  }
  let desiredAcl: Record<string, TemplateAccess> = {};
  if (desired.templates.length > 0 || Object.keys(granted.templates).length > 0) {
    const templates = await reads.templates(orgId);
    desiredAcl = planTemplateAcl(desired, templates);
    const existing = new Set(templates.map((template) => template.id));
    const relevant = [...new Set([...Object.keys(desiredAcl), ...Object.keys(granted.templates)])].filter((id) => existing.has(id));
    for (const templateId of relevant) {
      const entry = await entryOf(reads, templateId, coderId);
      if (entry !== undefined) coder.templates[templateId] = entry;
    }
  }
  return { coder, desiredAcl };
}

async function entryOf(reads: GrantReads, templateId: string, groupId: string): Promise<TemplateAccess | undefined> {
  try {
    return (await reads.templateAcl(templateId)).group.find((entry) => entry.id === groupId)?.role;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** ACL entries the change creates: absent in Coder, and not the bridge's before (a changed owned entry stays as it was until its call is recorded). */
function entriesCreated(change: GroupAccessChange, granted: GroupGrantRecord): [string, TemplateAccess][] {
  return Object.entries(change.acl).flatMap(([templateId, access]) => (access !== '' && granted.templates[templateId] === undefined ? [[templateId, access] as [string, TemplateAccess]] : []));
}

function withScalars(record: GroupGrantRecord, change: GroupAccessChange): GroupGrantRecord {
  const { quotaAllowance: _quota, avatarUrl: _avatar, ...rest } = record;
  return {
    ...rest,
    ...(change.next.quotaAllowance === undefined ? {} : { quotaAllowance: change.next.quotaAllowance }),
    ...(change.next.avatarUrl === undefined ? {} : { avatarUrl: change.next.avatarUrl }),
  };
}

function withTemplate(record: GroupGrantRecord, templateId: string, access: TemplateAccess | ''): GroupGrantRecord {
  const templates = { ...record.templates };
  if (access === '') delete templates[templateId];
  else templates[templateId] = access;
  return { ...record, templates };
}
