/** The HTTP server: request pipeline (latency, outage, rate limit, failure injection, auth) and the CoderSim object. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { admitUser, extractToken, resolveToken } from './auth';
import { Ctx, SimOptions } from './context';
import { ApiResult, err, goJson, internalError, routeNotFound } from './errors';
import { newId, parseUuid, randomString } from './ids';
import { CODER_RATE_WINDOW_MS, RateLimiter } from './ratelimit';
import { Match, buildRoutes, matchRoute } from './router';
import { BUILD_VERSION } from './routes-misc';
import { State, UserRec } from './state';
import type { CoderSim, CoderSimOptions, SimGroup, SimUser, SimUserStatus } from './types';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BASE_HEADERS = {
  'X-Coder-Build-Version': BUILD_VERSION,
  'X-Content-Type-Options': 'nosniff',
};
const PREMIUM = 'Template RBAC is a Premium feature. Contact sales!';

/** strconv.ParseBool truthy values. */
function parseBool(v: string | string[] | undefined): boolean {
  const s = Array.isArray(v) ? v[0] : v;
  return s === '1' || s === 't' || s === 'T' || s === 'true' || s === 'TRUE' || s === 'True';
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export async function startCoderSim(opts: CoderSimOptions = {}): Promise<CoderSim> {
  const state = new State();
  const defaultOrg = state.createOrg('coder', true);
  const owner = state.createUser({
    username: 'admin',
    email: 'admin@coder.com',
    name: 'Admin',
    status: 'active',
    login_type: 'password',
    orgIds: [defaultOrg.id],
    roles: ['owner'],
  });
  const ownerToken = state.createToken(owner.id);

  const options: SimOptions = {
    latencyMs: 0,
    writeFailureRate: 0,
    outage: false,
    groupsLicensed: true,
    rateLimitPerMinute: 0,
    rateLimitWindowMs: CODER_RATE_WINDOW_MS,
    random: Math.random,
    ...definedOnly(opts),
  };
  const limiter = new RateLimiter(Date.now, options.rateLimitWindowMs);
  let counts: Record<string, number> = Object.create(null);
  let writes = 0;
  let rateLimited = 0;
  let closed = false;
  let url = '';
  const routes = buildRoutes(() => url);

  const send = (req: http.IncomingMessage, res: http.ServerResponse, r: ApiResult, extra?: Record<string, string>) => {
    if (closed || res.destroyed || req.socket.destroyed) return;
    const headers: Record<string, string> = { ...BASE_HEADERS, ...extra, ...r.headers };
    let body: string | undefined;
    if (r.text !== undefined) {
      headers['Content-Type'] = 'text/plain; charset=utf-8';
      body = r.text;
    } else if (r.status !== 204 && r.status !== 405) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
      body = goJson(r.body);
    }
    headers['Content-Length'] = body === undefined ? '0' : String(Buffer.byteLength(body));
    if (r.status === 204) delete headers['Content-Length'];
    res.writeHead(r.status, headers);
    res.end(body);
  };

  const drop = (req: http.IncomingMessage) => {
    req.socket.destroy();
  };

  /** Auth, feature gate and handler: everything after the /api/v2 middlewares. */
  const runHandler = (m: Match | 'method' | undefined, token: string, query: URLSearchParams, method: string, body: string): ApiResult => {
    if (m === undefined) return routeNotFound();
    if (m === 'method') return { status: 405 };
    const { route, params } = m;
    if (route.gate === 'before-auth' && !options.groupsLicensed) return err(403, PREMIUM);
    let actor: UserRec | undefined;
    if (route.auth === 'required') {
      const o = resolveToken(state, token);
      if ('error' in o) return o.error;
      const denied = admitUser(state, o.user);
      if (denied) return denied;
      actor = o.user;
    }
    if (route.gate === 'after-auth' && !options.groupsLicensed) return err(403, PREMIUM);
    const ctx: Ctx = {
      state,
      opts: options,
      method,
      params,
      query,
      body,
      actor,
      isOwner: actor ? actor.roles.includes('owner') : false,
    };
    try {
      return route.handler(ctx);
    } catch (e) {
      return internalError(e instanceof Error ? e.message : String(e));
    }
  };

  const handleRequest = async (req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const path = qi >= 0 ? rawUrl.slice(0, qi) : rawUrl;
    const query = new URLSearchParams(qi >= 0 ? rawUrl.slice(qi + 1) : '');
    const isApi = path === '/api/v2' || path.startsWith('/api/v2/');
    const m = isApi ? matchRoute(routes, method, path.slice('/api/v2'.length)) : undefined;
    const template = m && m !== 'method' ? m.route.template : `${method} ${path}`;
    counts[template] = (counts[template] ?? 0) + 1;
    const isWrite = WRITE_METHODS.has(method);
    if (isWrite) writes++;

    if (options.latencyMs > 0) await new Promise((r) => setTimeout(r, options.latencyMs));
    if (closed) return;
    if (options.outage) {
      if (options.random() < 0.5) send(req, res, err(503, 'simulated outage'));
      else drop(req);
      return;
    }
    if (!isApi) return send(req, res, routeNotFound());

    const token = extractToken(req.headers, query);
    let rlHeaders: Record<string, string> | undefined;
    const limit = options.rateLimitPerMinute;
    if (limit > 0) {
      const who = resolveToken(state, token);
      let key: string | undefined;
      if ('user' in who) {
        if (parseBool(req.headers['x-coder-bypass-ratelimit'])) {
          if (!who.user.roles.includes('owner')) {
            return send(req, res, { status: 428, text: '"X-Coder-Bypass-Ratelimit" provided but user is not owner\n' });
          }
          key = `bypass:${randomString(16)}`; // httprate has no per-key limits: a fresh key each time
        } else key = who.user.id;
      } else key = req.socket.remoteAddress ?? 'unknown';
      const d = key.startsWith('bypass:')
        ? {
            headers: {
              'X-RateLimit-Limit': String(limit),
              'X-RateLimit-Remaining': String(limit - 1),
              'X-RateLimit-Reset': String(Math.floor((Date.now() - (Date.now() % options.rateLimitWindowMs) + options.rateLimitWindowMs) / 1000)),
            },
            limited: undefined,
          }
        : limiter.check(`${key}${path}`, limit);
      rlHeaders = d.headers;
      if (d.limited) {
        rateLimited++;
        return send(req, res, d.limited, rlHeaders);
      }
    }

    if (isWrite && options.writeFailureRate > 0 && options.random() < options.writeFailureRate) {
      if (options.random() < 0.5) {
        return send(req, res, err(500, 'An internal server error occurred.', 'simulated failure'), rlHeaders);
      }
      if (options.random() < 0.5) runHandler(m, token, query, method, body); // committed, response lost
      return drop(req);
    }
    send(req, res, runHandler(m, token, query, method, body), rlHeaders);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
      handleRequest(req, res, body).catch((e) => {
        try {
          send(req, res, internalError(String(e)));
        } catch {
          drop(req);
        }
      });
    });
    req.on('error', () => drop(req));
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // ---------- inspection & direct manipulation ----------

  const simUser = (u: UserRec): SimUser => ({
    id: u.id,
    username: u.username,
    email: u.email,
    name: u.name,
    status: u.status,
    login_type: u.login_type,
    created_at: new Date(u.created_at).toISOString(),
    updated_at: new Date(u.updated_at).toISOString(),
    deleted: u.deleted,
    organization_ids: state.userOrgIds(u.id),
    roles: [...u.roles],
    workspaces: u.workspaces,
  });
  const mustUser = (id: string): UserRec => {
    const u = state.users.get(parseUuid(id) ?? id);
    if (!u || u.deleted) throw new Error(`coder-sim: no such user ${id}`);
    return u;
  };
  const mustGroup = (id: string) => {
    const g = state.groups.get(parseUuid(id) ?? id);
    if (!g) throw new Error(`coder-sim: no such group ${id}`);
    return g;
  };
  const mustOrg = (id: string | undefined) => {
    const o = id === undefined ? state.orgs.get(state.defaultOrgId) : state.findOrg(id);
    if (!o) throw new Error(`coder-sim: no such organization ${id}`);
    return o;
  };
  const mustToken = (token: string) => {
    const key = state.tokens.get(token.split('-')[0]);
    if (!key || `${token.split('-')[0]}-${key.secret}` !== token) throw new Error('coder-sim: no such token');
    return key;
  };
  const simGroup = (g: SimGroup): SimGroup => ({ ...g, members: new Set(g.members) });

  const sim: CoderSim = {
    url,
    token: ownerToken,
    ownerId: owner.id,
    defaultOrgId: defaultOrg.id,
    setOptions(o) {
      Object.assign(options, definedOnly(o));
      if (o.rateLimitPerMinute !== undefined) limiter.reset();
    },
    users: () => state.sortedUsers().map(simUser),
    userCount: () => state.liveUserCount(),
    groups: (orgId?: string) => {
      const oid = orgId === undefined ? undefined : mustOrg(orgId).id;
      return [...state.groups.values()].filter((g) => oid === undefined || g.organization_id === oid).map(simGroup);
    },
    hasGroupMember: (groupId: string, userId: string) => state.groups.get(groupId)?.members.has(userId) ?? false,
    orgMembers: (orgId?: string) =>
      [...mustOrg(orgId).members.keys()].filter((id) => {
        const u = state.users.get(id);
        return u !== undefined && !u.deleted;
      }),
    direct: {
      createUser(u) {
        if (state.findByUsernameOrEmail(u.username, u.email)) throw new Error(`coder-sim: user ${u.username} already exists`);
        const orgIds = (u.orgIds ?? [state.defaultOrgId]).map((id) => mustOrg(id).id);
        return simUser(
          state.createUser({
            username: u.username,
            email: u.email,
            name: u.name ?? '',
            status: u.status ?? 'dormant',
            login_type: u.loginType ?? 'password',
            orgIds,
            roles: [...new Set(u.roles ?? [])],
          }),
        );
      },
      setUserRoles(id, roles) {
        const u = mustUser(id);
        u.roles = [...new Set(roles)];
        u.updated_at = state.now();
      },
      deleteUser(id) {
        state.softDeleteUser(mustUser(id));
      },
      setUserStatus(id, s: SimUserStatus) {
        const u = mustUser(id);
        u.status = s;
        u.updated_at = state.now();
      },
      createGroup(g) {
        const org = mustOrg(g.orgId);
        if (g.name === 'Everyone' || state.findGroupByName(org.id, g.name)) {
          throw new Error(`coder-sim: group ${g.name} already exists`);
        }
        return simGroup(state.createGroup({ name: g.name, display_name: g.display_name ?? '', orgId: org.id }));
      },
      renameGroup(id, name) {
        mustGroup(id).name = name;
      },
      deleteGroup(id) {
        state.groups.delete(mustGroup(id).id);
      },
      addGroupMember(groupId, userId) {
        const g = mustGroup(groupId);
        const u = mustUser(userId);
        const org = state.orgs.get(g.organization_id)!;
        if (!org.members.has(u.id)) state.addOrgMember(org.id, u.id);
        g.members.add(u.id);
      },
      removeGroupMember(groupId, userId) {
        mustGroup(groupId).members.delete(parseUuid(userId) ?? userId);
      },
      addWorkspace(userId) {
        mustUser(userId).workspaces++;
      },
      createOrganization(name) {
        return state.createOrg(name).id;
      },
      createToken(userId) {
        return state.createToken(mustUser(userId).id);
      },
      expireToken(token) {
        mustToken(token).expiresAt = state.now();
      },
      revokeToken(token) {
        mustToken(token);
        state.tokens.delete(token.split('-')[0]);
      },
      createTemplate(name, orgId) {
        const org = mustOrg(orgId);
        const t = state.now();
        const id = newId();
        state.templates.set(id, { id, name, display_name: '', organization_id: org.id, created_at: t, updated_at: t, groupAcl: new Map([[org.id, 'use']]), userAcl: new Map() });
        return id;
      },
      createWorkspace(userId, name, templateId) {
        const u = mustUser(userId);
        const template = state.templates.get(templateId);
        if (!template) throw new Error(`coder-sim: no such template ${templateId}`);
        const t = state.now();
        const id = newId();
        state.workspaces.set(id, { id, name, owner_id: u.id, organization_id: template.organization_id, template_id: template.id, created_at: t, builds: [{ id: newId(), build_number: 1, transition: 'start', created_at: t }] });
        u.workspaces++;
        return id;
      },
      setSiteRoleField(field) {
        state.idpSync.siteRoleField = field;
      },
    },
    roles(userId) {
      const u = mustUser(userId);
      const organizations: Record<string, string[]> = {};
      for (const o of state.orgs.values()) {
        const m = o.members.get(u.id);
        if (m) organizations[o.id] = [...m.roles];
      }
      return { site: [...u.roles], organizations };
    },
    templateAcl(templateId) {
      const t = state.templates.get(templateId);
      if (!t) throw new Error(`coder-sim: no such template ${templateId}`);
      return { groups: Object.fromEntries(t.groupAcl), users: Object.fromEntries(t.userAcl) };
    },
    workspaces(userId) {
      const id = mustUser(userId).id;
      return [...state.workspaces.values()].filter((w) => w.owner_id === id).map((w) => ({ id: w.id, name: w.name, transition: w.builds[w.builds.length - 1].transition }));
    },
    calls: () => ({ ...counts }),
    writeCalls: () => writes,
    rateLimitedCalls: () => rateLimited,
    resetCalls() {
      counts = Object.create(null);
      writes = 0;
      rateLimited = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return sim;
}
