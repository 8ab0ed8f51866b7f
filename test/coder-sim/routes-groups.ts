/** Group routes (enterprise/coderd/groups.go). Gated by template_rbac in the router. */
import { Ctx, groupParam, orgParam, requireOwner } from './context';
import { ApiResult, ValidationError, err, ok, resourceNotFound } from './errors';
import { parseUuid } from './ids';
import { groupJson } from './serialize';
import { EVERYONE, GroupRec, OrgRec } from './state';
import { decodeBody, validateTags, validationFailed } from './validation';

const PQ_DUP_MEMBER = 'pq: duplicate key value violates unique constraint "group_members_user_id_group_id_key"';

/** POST /organizations/{org}/groups */
export function createGroup(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const d = decodeBody(ctx.body, 'CreateGroupRequest', [
    { json: 'name', type: 'string' },
    { json: 'display_name', type: 'string' },
    { json: 'avatar_url', type: 'string' },
    { json: 'quota_allowance', type: 'int' },
  ]);
  if ('error' in d) return d.error;
  const name = (d.value.name as string) ?? '';
  const displayName = (d.value.display_name as string) ?? '';
  const v = validateTags([
    ['name', name, ['required', 'group_name']],
    ['display_name', displayName, ['omitempty', 'group_display_name']],
  ]);
  if (v.length > 0) return validationFailed(v);
  if (name === EVERYONE) {
    return err(400, 'Invalid group name.', undefined, [{ field: 'name', detail: '"Everyone" is a reserved group name' }]);
  }
  const denied = requireOwner(ctx);
  if (denied) return denied;
  if (ctx.state.findGroupByName(o.v.id, name)) {
    return err(409, `A group named "${name}" already exists.`, undefined, [{ field: 'name', detail: 'Group names must be unique' }]);
  }
  const g = ctx.state.createGroup({
    name,
    display_name: displayName,
    orgId: o.v.id,
    avatar_url: (d.value.avatar_url as string) ?? '',
    quota_allowance: (d.value.quota_allowance as number) ?? 0,
  });
  return ok(groupJson(ctx.state, o.v, g), 201);
}

/** Everyone first, then the org's groups in creation order. */
function orgGroups(ctx: Ctx, org: OrgRec): Array<GroupRec | undefined> {
  const out: Array<GroupRec | undefined> = [undefined];
  for (const g of ctx.state.groups.values()) if (g.organization_id === org.id) out.push(g);
  return out;
}

/** GET /organizations/{org}/groups (includes Everyone) */
export function listOrgGroups(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  return ok(orgGroups(ctx, o.v).map((g) => groupJson(ctx.state, o.v, g)));
}

/** GET /organizations/{org}/groups/{groupName} (exact, case-sensitive) */
export function getGroupByName(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const name = ctx.params.groupName ?? '';
  if (name === EVERYONE) return ok(groupJson(ctx.state, o.v));
  const g = ctx.state.findGroupByName(o.v.id, name);
  return g ? ok(groupJson(ctx.state, o.v, g)) : resourceNotFound();
}

/** GET /groups?organization=&has_member=&group_ids= */
export function listGroups(ctx: Ctx): ApiResult {
  const errors: ValidationError[] = [];
  const q = ctx.query;
  let orgFilter: string | undefined;
  let memberFilter: string | undefined;
  let idFilter: Set<string> | undefined;
  const orgQ = q.get('organization');
  if (orgQ) {
    const id = parseUuid(orgQ);
    if (id) orgFilter = id;
    else {
      const lq = orgQ.toLowerCase();
      const org = [...ctx.state.orgs.values()].find((o) => o.name.toLowerCase() === lq);
      if (org) orgFilter = org.id;
      else errors.push({ field: 'organization', detail: `Query param "organization" has invalid value: organization "${orgQ}" not found` });
    }
  }
  const memQ = q.get('has_member');
  if (memQ) {
    const id = parseUuid(memQ);
    if (id) memberFilter = id;
    else {
      const u = ctx.state.findByUsername(memQ);
      if (u) memberFilter = u.id;
      else errors.push({ field: 'has_member', detail: `Query param "has_member" has invalid value: user "${memQ}" not found` });
    }
  }
  const idsQ = q.get('group_ids');
  if (idsQ) {
    const parts = idsQ.split(',');
    const bad = parts.filter((p) => !parseUuid(p));
    if (bad.length > 0) errors.push({ field: 'group_ids', detail: `Query param "group_ids" has invalid values: ${bad.join(',')}` });
    else idFilter = new Set(parts.map((p) => parseUuid(p)!));
  }
  for (const k of new Set(q.keys())) {
    if (!['organization', 'has_member', 'group_ids'].includes(k)) {
      errors.push({ field: k, detail: `Query param "${k}" is not a valid query param` });
    }
  }
  if (errors.length > 0) return err(400, 'Query parameters have invalid values.', undefined, errors);
  const out = [];
  for (const org of ctx.state.orgs.values()) {
    if (orgFilter && org.id !== orgFilter) continue;
    if (!ctx.isOwner && !(ctx.actor && org.members.has(ctx.actor.id))) continue;
    for (const g of orgGroups(ctx, org)) {
      const id = g ? g.id : org.id;
      if (idFilter && !idFilter.has(id)) continue;
      if (memberFilter && !(g ? g.members.has(memberFilter) : org.members.has(memberFilter))) continue;
      out.push(groupJson(ctx.state, org, g));
    }
  }
  return ok(out);
}

/** GET /groups/{group} */
export function getGroup(ctx: Ctx): ApiResult {
  const gp = groupParam(ctx);
  if (gp.e) return gp.e;
  return ok(groupJson(ctx.state, gp.v.org, gp.v.group));
}

/** PATCH /groups/{group} — check order of enterprise patchGroup; one all-or-nothing transaction. */
export function patchGroup(ctx: Ctx): ApiResult {
  const gp = groupParam(ctx);
  if (gp.e) return gp.e;
  const { org, group } = gp.v;
  const d = decodeBody(ctx.body, 'PatchGroupRequest', [
    { json: 'add_users', type: 'string[]' },
    { json: 'remove_users', type: 'string[]' },
    { json: 'name', type: 'string' },
    { json: 'display_name', type: 'string' },
    { json: 'avatar_url', type: 'string' },
    { json: 'quota_allowance', type: 'int' },
  ]);
  if ('error' in d) return d.error;
  const b = d.value;
  const add = (b.add_users as string[]) ?? [];
  const remove = (b.remove_users as string[]) ?? [];
  const displayName = b.display_name as string | undefined;
  const v = validateTags([
    ['name', b.name as string | undefined, ['omitempty', 'group_name']],
    ['display_name', displayName, ['omitempty', 'group_display_name']],
  ]);
  if (v.length > 0) return validationFailed(v);

  const isEveryone = group === undefined;
  const currentName = group ? group.name : EVERYONE;
  let newName = (b.name as string) ?? '';
  if (newName === currentName) newName = '';
  if (isEveryone && newName !== '') return err(400, 'Cannot rename the "Everyone" group!');
  if (isEveryone && displayName !== undefined && displayName !== '') {
    return err(400, 'Cannot update the Display Name for the "Everyone" group!');
  }
  if (isEveryone && (add.length > 0 || remove.length > 0)) {
    return err(403, 'Cannot add or remove users from the "Everyone" group!');
  }
  if (newName === EVERYONE) return err(400, '"Everyone" is a reserved group name!');

  const addIds: string[] = [];
  const removeIds: string[] = [];
  const all = [...add.map((id) => [id, addIds] as const), ...remove.map((id) => [id, removeIds] as const)];
  for (const [raw, into] of all) {
    const id = parseUuid(raw);
    if (!id) return err(400, `ID "${raw}" must be a valid user UUID.`);
    if (!org.members.has(id)) return err(400, `User must be a member of organization "${currentName}"`);
    into.push(id);
  }
  if (newName !== '') {
    const clash = ctx.state.findGroupByName(org.id, newName);
    if (clash && clash !== group) return err(409, `A group with name "${newName}" already exists.`);
  }
  const denied = requireOwner(ctx);
  if (denied) return denied;

  // Transaction: nothing is applied if any INSERT violates the (user_id, group_id) unique constraint.
  if (group) {
    const members = new Set(group.members);
    for (const id of addIds) {
      if (members.has(id)) return err(400, 'Cannot add the same user to a group twice!', PQ_DUP_MEMBER);
      members.add(id);
    }
    for (const id of removeIds) members.delete(id);
    if (newName !== '') group.name = newName;
    if (displayName !== undefined) group.display_name = displayName;
    if (b.avatar_url !== undefined) group.avatar_url = b.avatar_url as string;
    if (b.quota_allowance !== undefined) group.quota_allowance = b.quota_allowance as number;
    group.members = members;
  }
  return ok(groupJson(ctx.state, org, group));
}

/** DELETE /groups/{group} */
export function deleteGroup(ctx: Ctx): ApiResult {
  const gp = groupParam(ctx);
  if (gp.e) return gp.e;
  if (!gp.v.group) return err(400, '"Everyone" is a reserved group and cannot be deleted!');
  const denied = requireOwner(ctx);
  if (denied) return denied;
  ctx.state.groups.delete(gp.v.group.id);
  return ok({ message: 'Successfully deleted group!' });
}
