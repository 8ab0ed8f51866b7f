/** Route table of the simulated /api/v2 and a small segment matcher. */
import { Handler } from './context';
import { buildInfo, entitlements } from './routes-misc';
import { createGroup, deleteGroup, getGroup, getGroupByName, listGroups, listOrgGroups, patchGroup } from './routes-groups';
import { addMember, getOrg, listMembers, listMembersPaginated, listOrgs, removeMember } from './routes-orgs';
import { deleteUser, getUser, getUserRoles, listUsers, postUser, putProfile, putStatus } from './routes-users';
import { getGroupSync, getDeploymentConfig, getOrganizationSync, getRoleSync, patchGroupSync, patchOrganizationSync, patchRoleSync } from './routes-idpsync';
import { deleteOrgRole, listOrgRoles, putMemberRoles, putUserRoles, upsertOrgRole } from './routes-roles';
import { getTemplate, getTemplateAcl, listOrgTemplates, patchTemplateAcl } from './routes-templates';
import { getWorkspaceQuota, listWorkspaces, postWorkspaceBuild } from './routes-workspaces';

/**
 * auth: 'none' = public; 'required' = API key middleware.
 * gate: template_rbac check 'before-auth' (/groups*) or 'after-auth' (/organizations/{org}/groups*).
 */
export interface Route {
  method: string;
  template: string;
  auth: 'none' | 'required';
  gate?: 'before-auth' | 'after-auth';
  handler: Handler;
  segs: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export function buildRoutes(urlBase: () => string): Route[] {
  const r = (method: string, path: string, handler: Handler, auth: Route['auth'] = 'required', gate?: Route['gate']): Route => ({
    method,
    template: `${method} /api/v2${path}`,
    auth,
    gate,
    handler,
    segs: path.split('/').slice(1),
  });
  return [
    r('GET', '/buildinfo', () => buildInfo(urlBase())(), 'none'),
    r('GET', '/entitlements', entitlements, 'none'),
    r('GET', '/users', listUsers),
    r('POST', '/users', postUser),
    r('GET', '/users/{user}', getUser),
    r('DELETE', '/users/{user}', deleteUser),
    r('GET', '/users/{user}/roles', getUserRoles),
    r('PUT', '/users/{user}/profile', putProfile),
    r('PUT', '/users/{user}/status/suspend', putStatus('suspended')),
    r('PUT', '/users/{user}/status/activate', putStatus('active')),
    r('PUT', '/users/{user}/roles', putUserRoles),
    r('GET', '/organizations', listOrgs),
    r('GET', '/organizations/{org}', getOrg),
    r('GET', '/organizations/{org}/members', listMembers),
    r('GET', '/organizations/{org}/paginated-members', listMembersPaginated),
    // members/roles before members/{user}: the first matching route wins, as chi's static segment does.
    r('GET', '/organizations/{org}/members/roles', listOrgRoles),
    r('POST', '/organizations/{org}/members/roles', upsertOrgRole('create')),
    r('PUT', '/organizations/{org}/members/roles', upsertOrgRole('update')),
    r('DELETE', '/organizations/{org}/members/roles/{roleName}', deleteOrgRole),
    r('PUT', '/organizations/{org}/members/{user}/roles', putMemberRoles),
    r('GET', '/organizations/{org}/members/{user}/workspace-quota', getWorkspaceQuota),
    r('POST', '/organizations/{org}/members/{user}', addMember),
    r('DELETE', '/organizations/{org}/members/{user}', removeMember),
    r('GET', '/organizations/{org}/groups', listOrgGroups, 'required', 'after-auth'),
    r('POST', '/organizations/{org}/groups', createGroup, 'required', 'after-auth'),
    r('GET', '/organizations/{org}/groups/{groupName}', getGroupByName, 'required', 'after-auth'),
    r('GET', '/organizations/{org}/templates', listOrgTemplates),
    r('GET', '/templates/{template}', getTemplate),
    r('GET', '/templates/{template}/acl', getTemplateAcl, 'required', 'before-auth'),
    r('PATCH', '/templates/{template}/acl', patchTemplateAcl, 'required', 'before-auth'),
    r('GET', '/organizations/{org}/settings/idpsync/groups', getGroupSync),
    r('PATCH', '/organizations/{org}/settings/idpsync/groups', patchGroupSync),
    r('GET', '/organizations/{org}/settings/idpsync/roles', getRoleSync),
    r('PATCH', '/organizations/{org}/settings/idpsync/roles', patchRoleSync),
    r('GET', '/settings/idpsync/organization', getOrganizationSync),
    r('GET', '/deployment/config', getDeploymentConfig),
    r('PATCH', '/settings/idpsync/organization', patchOrganizationSync),
    r('GET', '/workspaces', listWorkspaces),
    r('POST', '/workspaces/{workspace}/builds', postWorkspaceBuild),
    r('GET', '/groups', listGroups, 'required', 'before-auth'),
    r('GET', '/groups/{group}', getGroup, 'required', 'before-auth'),
    r('PATCH', '/groups/{group}', patchGroup, 'required', 'before-auth'),
    r('DELETE', '/groups/{group}', deleteGroup, 'required', 'before-auth'),
  ];
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Match a path below /api/v2 (e.g. "/users/me"). Returns the route, or 'method' when only the method
 * differs (405), or undefined (404).
 */
export function matchRoute(routes: Route[], method: string, subPath: string): Match | 'method' | undefined {
  const segs = subPath.split('/').slice(1);
  let methodMismatch = false;
  for (const route of routes) {
    if (route.segs.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let okMatch = true;
    for (let i = 0; i < segs.length; i++) {
      const want = route.segs[i];
      if (want.startsWith('{')) {
        if (segs[i] === '') {
          okMatch = false;
          break;
        }
        params[want.slice(1, -1)] = decode(segs[i]);
      } else if (want !== segs[i]) {
        okMatch = false;
        break;
      }
    }
    if (!okMatch) continue;
    if (route.method !== method) {
      methodMismatch = true;
      continue;
    }
    return { route, params };
  }
  return methodMismatch ? 'method' : undefined;
}
