/** /api/v2/users routes (coderd/users.go). */
import { Ctx, canSeeUser, requireOwner, userParam } from './context';
import { ApiResult, err, ok } from './errors';
import { NIL_UUID } from './ids';
import { ilikeContains, parsePagination, parseUserQuery } from './query';
import { userJson } from './serialize';
import { UserRec } from './state';
import type { SimUserStatus } from './types';
import { decodeBody, passwordStrength, validateTags, validationFailed } from './validation';

const USER_STATUSES = ['active', 'dormant', 'suspended'];

/** POST /users — CreateUserRequestWithOrgs, checks in the order of coderd postUser. */
export function postUser(ctx: Ctx): ApiResult {
  const d = decodeBody(ctx.body, 'CreateUserRequestWithOrgs', [
    { json: 'email', type: 'string' },
    { json: 'username', type: 'string' },
    { json: 'name', type: 'string' },
    { json: 'password', type: 'string' },
    { json: 'login_type', type: 'string' },
    { json: 'user_status', type: 'string' },
    { json: 'organization_ids', type: 'uuid[]' },
    { json: 'organization_id', type: 'uuid' },
  ]);
  if ('error' in d) return d.error;
  const b = d.value;
  const email = (b.email as string) ?? '';
  const username = (b.username as string) ?? '';
  const name = (b.name as string) ?? '';
  const password = (b.password as string) ?? '';
  const orgIds = [...((b.organization_ids as string[]) ?? [])];
  if (b.organization_id !== undefined) orgIds.push(b.organization_id as string);

  const v = validateTags([
    ['email', email, ['required', 'email']],
    ['username', username, ['required', 'username']],
    ['name', name, ['user_real_name']],
  ]);
  if (v.length > 0) return validationFailed(v);

  const loginType = (b.login_type as string) || 'password';
  if (loginType !== 'password' && password !== '') {
    return err(400, `Password cannot be set for non-password ("${loginType}") authentication.`);
  }
  if (orgIds.length === 0) {
    return err(
      400,
      'No organization specified to place the user as a member of. It is required to specify at least one organization id to place the user in.',
      "required at least 1 value for the array 'organization_ids'",
      [{ field: 'organization_ids', detail: 'Missing values, this cannot be empty' }],
    );
  }
  if (ctx.state.findByUsernameOrEmail(username, email)) return err(409, 'User already exists.');
  const resolved: string[] = [];
  for (const id of orgIds) {
    const real = id === NIL_UUID ? ctx.state.defaultOrgId : id;
    if (!ctx.state.orgs.has(real)) return err(404, `Organization does not exist with the provided id "${id}".`);
    resolved.push(real);
  }
  switch (loginType) {
    case 'none':
    case 'oidc': // OIDC is treated as configured
    case 'github': // GitHub OAuth2 is treated as configured
      break;
    case 'password': {
      const reason = passwordStrength(password);
      if (reason) return err(400, 'Password not strong enough!', undefined, [{ field: 'password', detail: reason }]);
      break;
    }
    default:
      return err(400, `Unsupported login type "${loginType}" for manually creating new users.`);
  }
  if (!ctx.isOwner) return err(403, 'You are not authorized to create users.');
  const statusRaw = (b.user_status as string | undefined) ?? '';
  if (statusRaw !== '' && !USER_STATUSES.includes(statusRaw)) {
    return err(500, 'Internal error creating user.', `create user: pq: invalid input value for enum user_status: "${statusRaw}"`);
  }
  if (new Set(resolved).size !== resolved.length) {
    return err(
      500,
      'Internal error creating user.',
      'create user: insert organization member: pq: duplicate key value violates unique constraint "organization_members_pkey"',
    );
  }
  const u = ctx.state.createUser({
    username,
    email,
    name: name.trim().slice(0, 128),
    status: (statusRaw || 'dormant') as SimUserStatus,
    login_type: loginType,
    orgIds: resolved,
  });
  return ok(userJson(ctx.state, u, resolved), 201);
}

/** GET /users — q search, pagination, order lower(username), count = total matches. */
export function listUsers(ctx: Ctx): ApiResult {
  const f = parseUserQuery(ctx.query.get('q') ?? '');
  if (Array.isArray(f)) return err(400, 'Invalid user search query.', undefined, f);
  const p = parsePagination(ctx.query);
  if (Array.isArray(p)) return err(400, 'Query parameters have invalid values.', undefined, p);

  const search = ilikeContains(f.search);
  const nameMatch = ilikeContains(f.name);
  const roleAll = f.roles.includes('member');
  let cursor: string | undefined;
  if (p.afterId) {
    const c = ctx.state.users.get(p.afterId); // the cursor subquery has no deleted filter
    cursor = c ? c.username.toLowerCase() : undefined;
  }
  const rows: UserRec[] = [];
  if (!p.afterId || cursor !== undefined) {
    const all = ctx.state.sortedUsers();
    for (let i = cursor !== undefined ? ctx.state.sortedIndexAfter(cursor) : 0; i < all.length; i++) {
      const u = all[i];
      if (f.search && !(search(u.email) || search(u.username))) continue;
      if (f.name && !nameMatch(u.name)) continue;
      if (f.status.length > 0 && !f.status.includes(u.status)) continue;
      if (f.roles.length > 0 && !roleAll && !u.roles.some((r) => f.roles.includes(r))) continue;
      if (f.loginTypes.length > 0 && !f.loginTypes.includes(u.login_type)) continue;
      if (f.lastSeenBefore !== undefined && !(u.last_seen_at <= f.lastSeenBefore)) continue;
      if (f.lastSeenAfter !== undefined && !(u.last_seen_at >= f.lastSeenAfter)) continue;
      if (f.createdBefore !== undefined && !(u.created_at <= f.createdBefore)) continue;
      if (f.createdAfter !== undefined && !(u.created_at >= f.createdAfter)) continue;
      if (f.githubComUserId !== 0) continue; // no simulated user has a GitHub id
      if (!canSeeUser(ctx, u)) continue;
      rows.push(u);
    }
  }
  const page = rows.slice(p.offset, p.limit > 0 ? p.offset + p.limit : undefined);
  return ok({ users: page.map((u) => userJson(ctx.state, u)), count: rows.length });
}

/** GET /users/{user} */
export function getUser(ctx: Ctx): ApiResult {
  const u = userParam(ctx);
  if (u.e) return u.e;
  return ok(userJson(ctx.state, u.v));
}

/** GET /users/{user}/roles */
export function getUserRoles(ctx: Ctx): ApiResult {
  const u = userParam(ctx);
  if (u.e) return u.e;
  const organization_roles: Record<string, string[]> = {};
  for (const id of ctx.state.userOrgIds(u.v.id)) organization_roles[id] = [...(ctx.state.orgs.get(id)!.members.get(u.v.id)!.roles)];
  return ok({ roles: u.v.roles, organization_roles });
}

/** PUT /users/{user}/profile — username required; name optional; email kept. */
export function putProfile(ctx: Ctx): ApiResult {
  const u = userParam(ctx);
  if (u.e) return u.e;
  const d = decodeBody(ctx.body, 'UpdateUserProfileRequest', [
    { json: 'username', type: 'string' },
    { json: 'name', type: 'string' },
  ]);
  if ('error' in d) return d.error;
  const username = (d.value.username as string) ?? '';
  const name = (d.value.name as string) ?? '';
  const v = validateTags([
    ['username', username, ['required', 'username']],
    ['name', name, ['user_real_name']],
  ]);
  if (v.length > 0) return validationFailed(v);
  const other = ctx.state.findByUsernameOrEmail(username, '');
  if (other && other.id !== u.v.id) {
    return err(409, 'A user with this username already exists.', undefined, [
      { field: 'username', detail: 'This username is already in use.' },
    ]);
  }
  if (!ctx.isOwner && ctx.actor?.id !== u.v.id) return requireOwner(ctx)!;
  if (u.v.username !== username) ctx.state.renameUser(u.v, username);
  u.v.name = name;
  u.v.updated_at = ctx.state.now();
  return ok(userJson(ctx.state, u.v));
}

/** PUT /users/{user}/status/suspend|activate — idempotent. */
export function putStatus(status: 'suspended' | 'active') {
  return (ctx: Ctx): ApiResult => {
    const u = userParam(ctx);
    if (u.e) return u.e;
    if (status === 'suspended') {
      if (ctx.actor && u.v.id === ctx.actor.id) return err(400, 'You cannot suspend yourself.');
      if (u.v.roles.includes('owner')) {
        return err(400, 'You cannot suspend a user with the "owner" role. You must remove the role first.');
      }
    }
    const denied = requireOwner(ctx);
    if (denied) return denied;
    u.v.status = status;
    u.v.updated_at = ctx.state.now();
    return ok(userJson(ctx.state, u.v));
  };
}

/** DELETE /users/{user} — soft delete. */
export function deleteUser(ctx: Ctx): ApiResult {
  const u = userParam(ctx);
  if (u.e) return u.e;
  if (ctx.actor && u.v.id === ctx.actor.id) return err(403, 'You cannot delete yourself!');
  if (u.v.workspaces > 0) {
    return err(417, 'You cannot delete a user that has workspaces. Delete their workspaces and try again!');
  }
  const denied = requireOwner(ctx);
  if (denied) return denied;
  ctx.state.softDeleteUser(u.v);
  return ok({ message: 'User has been deleted!' });
}
