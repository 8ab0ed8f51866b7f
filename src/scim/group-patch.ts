import type { MembershipChange } from '../model/resource';
import { GROUP_MODEL, resolvePath } from './catalog';
import { badRequest } from './errors';
import { parsePatchPath, type FilterAst } from './filter-parser';
import { memberDisplaysOf, memberIdsOf, notAUserId, validateGroup } from './group';
import { normaliseResource } from './normalise';
import { isIssuedId, type Json } from '../model/resource';
import { applyOperation } from './patch-engine';
import { readOperations, type PatchOpName } from './patch-ops';

/**
 * A group PATCH split in two: attribute changes (displayName, externalId) produce a new document, and
 * membership changes become set operations for the store, so that adding one member to a 5,000-member
 * group never loads the other 4,999. Handles Okta's no-path `{id, displayName, members: []}` replace,
 * Entra's multi-member add and both of its remove forms, and `remove members` with no value (clear).
 */

export interface GroupPatchPlan {
  /** The new document, only when an attribute changed. */
  doc?: Record<string, unknown>;
  /** In order; a `replace` discards the steps before it. */
  membership: MembershipChange[];
}

function isMembersPath(path: string): boolean {
  const open = path.indexOf('[');
  const resolved = resolvePath(GROUP_MODEL, open < 0 ? path : path.slice(0, open));
  return resolved?.attribute.name === 'members';
}

/** `value eq "a"`, or several joined by `or`: the only member filters a set operation can express. */
function memberIdsInFilter(filter: FilterAst): string[] {
  if (filter.kind === 'or') return [...memberIdsInFilter(filter.left), ...memberIdsInFilter(filter.right)];
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.toLowerCase() === 'value' && typeof filter.value === 'string') {
    if (!isIssuedId(filter.value)) throw notAUserId('members[value eq ...]', filter.value);
    return [filter.value];
  }
  throw badRequest('invalidFilter', 'members can be selected only by value eq "<user id>" (optionally joined by or)');
}

function withDisplays(step: MembershipChange, value: unknown): MembershipChange {
  const displays = memberDisplaysOf(value);
  return Object.keys(displays).length > 0 ? { ...step, displays } : step;
}

function membershipStep(op: PatchOpName, path: string | undefined, value: unknown): MembershipChange {
  if (path === undefined || !path.includes('[')) {
    if (path !== undefined && resolvePath(GROUP_MODEL, path)?.sub) {
      throw badRequest('invalidPath', `"${path}": members are changed as a whole, not by sub-attribute`);
    }
    if (op === 'replace') return withDisplays({ replace: memberIdsOf(value) }, value);
    if (op === 'add') return withDisplays({ add: memberIdsOf(value) }, value);
    // Entra (without aadOptscim062020) removes by a value array; no value at all empties the group.
    return value === undefined || value === null ? { replace: [] } : { remove: memberIdsOf(value) };
  }
  const parsed = parsePatchPath(path);
  const ids = memberIdsInFilter(parsed.filter as FilterAst);
  if (op !== 'remove' || parsed.sub !== undefined) {
    throw badRequest('invalidPath', `"${path}": a filtered members path can only be removed`);
  }
  return { remove: ids };
}

function addStep(steps: MembershipChange[], step: MembershipChange): void {
  if (step.add?.length === 0 || step.remove?.length === 0) return;
  if (step.replace) {
    steps.length = 0;
    steps.push(step);
    return;
  }
  const last = steps[steps.length - 1];
  // Appended in place and made unique once at the end (`unique`): merging afresh per operation is quadratic.
  if (step.add && last?.add && !last.remove) {
    for (const id of step.add) last.add.push(id);
    if (step.displays) last.displays = Object.assign(last.displays ?? {}, step.displays);
  } else if (step.remove && last?.remove && !last.add) {
    for (const id of step.remove) last.remove.push(id);
  } else steps.push(step);
}

function unique(step: MembershipChange): MembershipChange {
  const out: MembershipChange = { ...step };
  if (step.add) out.add = [...new Set(step.add)];
  if (step.remove) out.remove = [...new Set(step.remove)];
  return out;
}

export function planGroupPatch(doc: Record<string, unknown>, body: unknown): GroupPatchPlan {
  const operations = readOperations(body);
  const { id, members: _members, ...attributes } = doc;
  const working: Json = structuredClone(attributes);
  const membership: MembershipChange[] = [];
  for (const { op, path, value } of operations) {
    if (path !== undefined && isMembersPath(path)) {
      addStep(membership, membershipStep(op, path, value));
    } else if (path === undefined && op !== 'remove' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const { members, ...rest } = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k.toLowerCase() === 'members' ? 'members' : k, v]),
      );
      if (members !== undefined) addStep(membership, membershipStep(op, undefined, members));
      applyOperation(GROUP_MODEL, working, op, undefined, rest);
    } else {
      applyOperation(GROUP_MODEL, working, op, path, value);
    }
  }
  const before = normaliseResource(GROUP_MODEL, attributes);
  const after = normaliseResource(GROUP_MODEL, working);
  validateGroup(after);
  const steps = membership.map(unique);
  if (JSON.stringify(before) === JSON.stringify(after)) return { membership: steps };
  return { doc: id === undefined ? after : { ...after, id }, membership: steps };
}
