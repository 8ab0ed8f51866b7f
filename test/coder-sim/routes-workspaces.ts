/**
 * Workspaces, as far as deprovisioning needs them (coderd/workspaces.go, coderd/workspacebuilds.go): list by
 * owner, the stop build, and the member's workspace quota (enterprise/coderd/workspacequota.go).
 * Builds complete at once (a real build goes pending -> running -> succeeded); workspaces cost 0 credits.
 */
import { Ctx, orgParam, requireOwner, userParam } from './context';
import { ApiResult, err, goTime, ok, resourceNotFound } from './errors';
import { newId, parseUuid, uuidError } from './ids';
import { State, WorkspaceRec } from './state';
import { decodeBody, validationFailed } from './validation';

const TRANSITIONS = ['start', 'stop', 'delete'];

function buildJson(s: State, w: WorkspaceRec, b: WorkspaceRec['builds'][number]) {
  const owner = s.users.get(w.owner_id)!;
  return {
    id: b.id,
    created_at: goTime(b.created_at),
    workspace_id: w.id,
    workspace_name: w.name,
    workspace_owner_id: w.owner_id,
    workspace_owner_name: owner.username,
    build_number: b.build_number,
    transition: b.transition,
    status: b.transition === 'start' ? 'running' : b.transition === 'stop' ? 'stopped' : 'deleted',
    job: { status: 'succeeded' },
  };
}

function workspaceJson(s: State, w: WorkspaceRec) {
  const owner = s.users.get(w.owner_id)!;
  const template = s.templates.get(w.template_id);
  return {
    id: w.id,
    created_at: goTime(w.created_at),
    owner_id: w.owner_id,
    owner_name: owner.username,
    organization_id: w.organization_id,
    template_id: w.template_id,
    template_name: template?.name ?? '',
    name: w.name,
    latest_build: buildJson(s, w, w.builds[w.builds.length - 1]),
  };
}

/** GET /workspaces?q=owner:<username> — other search keys are not simulated (400). */
export function listWorkspaces(ctx: Ctx): ApiResult {
  const q = (ctx.query.get('q') ?? '').trim().toLowerCase();
  let owner: string | undefined;
  for (const term of q.split(/\s+/).filter(Boolean)) {
    const [key, value] = term.split(':');
    if (key !== 'owner' || !value) return err(400, 'Invalid workspace search query.', undefined, [{ field: key, detail: `Query param "${key}" is not simulated` }]);
    owner = value === 'me' ? ctx.actor?.username.toLowerCase() : value;
  }
  const rows = [...ctx.state.workspaces.values()].filter((w) => {
    const u = ctx.state.users.get(w.owner_id)!;
    return !u.deleted && (owner === undefined || u.username.toLowerCase() === owner) && w.builds[w.builds.length - 1].transition !== 'delete';
  });
  return ok({ workspaces: rows.map((w) => workspaceJson(ctx.state, w)), count: rows.length });
}

/** POST /workspaces/{workspace}/builds `{"transition":"stop"}` — 201 WorkspaceBuild. */
export function postWorkspaceBuild(ctx: Ctx): ApiResult {
  const raw = ctx.params.workspace ?? '';
  const id = parseUuid(raw);
  if (!id) return err(400, `Invalid UUID "${raw}".`, uuidError(raw));
  const w = ctx.state.workspaces.get(id);
  if (!w) return resourceNotFound();
  const d = decodeBody(ctx.body, 'CreateWorkspaceBuildRequest', [{ json: 'transition', type: 'string' }]);
  if ('error' in d) return d.error;
  const transition = (d.value.transition as string) ?? '';
  if (!TRANSITIONS.includes(transition)) {
    // validate:"oneof=start stop delete,required": oneof is checked first, so an empty value fails it too.
    return validationFailed([{ field: 'transition', detail: `Validation failed for tag "oneof" with value: "${transition}"` }]);
  }
  const denied = requireOwner(ctx);
  if (denied) return denied;
  const build = { id: newId(), build_number: w.builds.length + 1, transition: transition as 'start' | 'stop' | 'delete', created_at: ctx.state.now() };
  w.builds.push(build);
  if (transition === 'delete') ctx.state.users.get(w.owner_id)!.workspaces--;
  return ok(buildJson(ctx.state, w, build), 201);
}

/** GET /organizations/{org}/members/{user}/workspace-quota — budget = sum of the member's groups' quota_allowance. */
export function getWorkspaceQuota(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const u = userParam(ctx, true);
  if (u.e) return u.e;
  let budget = 0;
  for (const g of ctx.state.groups.values()) if (g.organization_id === o.v.id && g.members.has(u.v.id)) budget += g.quota_allowance;
  return ok({ credits_consumed: 0, budget });
}
