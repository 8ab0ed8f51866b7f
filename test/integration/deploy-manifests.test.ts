import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { freePort } from '../e2e/harness';
import { FIXED_CODER_TOKEN, FIXED_SCIM_TOKEN, strongToken } from '../fixtures/tokens';

/**
 * The Kubernetes manifests under config/kubernetes are checked against the code they deploy: ports, probe
 * paths, variable names and values (through the real loadConfig), secret files, Redis settings, security.
 */

const ROOT = join(__dirname, '..', '..');
const MANIFESTS = join(ROOT, 'config', 'kubernetes');
const BRIDGE_IMAGE = 'coder-scim-bridge';

type Node = Record<string, unknown>;
interface Manifest { file: string; folder: string; doc: Node }
interface PodScope { manifest: Manifest; scope: Node; containers: Node[]; volumes: Node[]; podSecurity: Node }

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);
const nodes = (value: unknown): Node[] => (Array.isArray(value) ? value.filter(isNode) : []);
const node = (value: unknown): Node => (isNode(value) ? value : {});

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const manifests: Manifest[] = yamlFiles(MANIFESTS).flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
    return { file: relative(MANIFESTS, file), folder: basename(dirname(file)), doc: node(document.toJS()) };
  }),
);

/** Any object holding containers or initContainers: a PodSpec, or the `coder` block of Helm values. */
function podScopes(): PodScope[] {
  const found: PodScope[] = [];
  const walk = (value: unknown, manifest: Manifest): void => {
    if (Array.isArray(value)) return value.forEach((item) => walk(item, manifest));
    if (!isNode(value)) return;
    const containers = [...nodes(value.containers), ...nodes(value.initContainers)];
    if (containers.length > 0) {
      // Only a real PodSpec (it always has `containers`) carries a pod-level securityContext.
      const podSecurity = 'containers' in value ? node(value.securityContext) : {};
      found.push({ manifest, scope: value, containers, volumes: nodes(value.volumes), podSecurity });
    }
    Object.values(value).forEach((child) => walk(child, manifest));
  };
  manifests.forEach((manifest) => walk(manifest.doc, manifest));
  return found;
}

const scopes = podScopes();
const bridgeScopes = scopes.filter((s) => s.containers.some((c) => String(c.image).includes(BRIDGE_IMAGE)));
const bridgeContainers = bridgeScopes.flatMap((s) => s.containers.filter((c) => String(c.image).includes(BRIDGE_IMAGE)).map((container) => ({ ...s, container })));
const ofKind = (kind: string, folder?: string) => manifests.filter((m) => m.doc.kind === kind && (folder === undefined || m.folder === folder));
const labelsMatch = (selector: Node, labels: Node) => Object.entries(selector).every(([key, value]) => labels[key] === value);
const REQUIRED_ONLY = { CODER_URL: 'http://127.0.0.1:1', CODER_SESSION_TOKEN: FIXED_CODER_TOKEN, SCIM_BEARER_TOKEN: FIXED_SCIM_TOKEN };

/** The environment a container would see: literal env, ConfigMaps it pulls in with envFrom (same folder). */
function containerEnv(manifest: Manifest, container: Node): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of nodes(container.envFrom)) {
    const name = node(source.configMapRef).name;
    if (name === undefined) throw new Error(`${manifest.file}: envFrom other than configMapRef is not expected`);
    const configMap = ofKind('ConfigMap', manifest.folder).find((m) => node(m.doc.metadata).name === name);
    if (!configMap) throw new Error(`${manifest.file}: ConfigMap ${String(name)} is not in ${manifest.folder}/`);
    Object.assign(env, node(configMap.doc.data));
  }
  for (const variable of nodes(container.env)) {
    if (typeof variable.value !== 'string') throw new Error(`${manifest.file}: env ${String(variable.name)} must be a literal string`);
    env[String(variable.name)] = variable.value;
  }
  return env;
}

/** The Secret key a *_FILE path names, via the container's mounts and the pod's volumes. */
function secretBehind(scope: PodScope, container: Node, path: string): { secretName: string; key: string; mode: number } | undefined {
  for (const mount of nodes(container.volumeMounts)) {
    const mountPath = String(mount.mountPath).replace(/\/+$/, '');
    if (posix.dirname(path) !== mountPath) continue;
    const secret = node(scope.volumes.find((v) => v.name === mount.name)?.secret);
    if (typeof secret.secretName === 'string') return { secretName: secret.secretName, key: posix.basename(path), mode: Number(secret.defaultMode ?? 0o644) };
  }
  return undefined;
}

/** The URL the operator writes into secrets/redis-url (docs/operators.md): the Service of config/kubernetes/redis, with a password. */
function kubernetesRedisUrl(): string {
  const [service] = ofKind('Service', 'redis');
  const namespace = String(ofKind('Kustomization', 'redis')[0].doc.namespace);
  const port = nodes(node(service.doc.spec).ports)[0].port;
  return `redis://:${strongToken('redis-password')}@${String(node(service.doc.metadata).name)}.${namespace}.svc.cluster.local:${String(port)}`;
}

/** The keys of the Secret `name` that the folder's kustomization generates from files ("key=path" or "path"). */
function generatedSecretKeys(folder: string, name: string): string[] | undefined {
  const generator = nodes(ofKind('Kustomization', folder)[0]?.doc.secretGenerator).find((g) => g.name === name);
  return (generator?.files as string[] | undefined)?.map((source) => posix.basename(String(source).split('=')[0]));
}

describe('config/kubernetes manifests', () => {
  test('every folder has a kustomization listing each of its Kubernetes objects, and the listed files exist', () => {
    const folders = [...new Set(manifests.map((m) => m.folder))];
    expect(folders.sort()).toEqual(['redis', 'sidecar', 'standalone']);
    for (const folder of folders) {
      const kustomization = ofKind('Kustomization', folder)[0];
      expect(kustomization).toBeDefined();
      const resources = (kustomization.doc.resources as string[]).map(String);
      const objectFiles = new Set(manifests.filter((m) => m.folder === folder && m.doc.apiVersion && m.doc.kind !== 'Kustomization').map((m) => basename(m.file)));
      expect(new Set(resources)).toEqual(objectFiles);
    }
  });

  test('the bridge runs in a standalone serve Deployment, a worker Deployment and the Coder sidecar', () => {
    const argsOf = (folder: string) => bridgeContainers.filter((c) => c.manifest.folder === folder).map((c) => (c.container.args as string[])[0]);
    expect(argsOf('standalone').sort()).toEqual(['serve', 'worker']);
    expect(argsOf('sidecar')).toEqual(['all']);
  });

  test.each(bridgeContainers.map((c) => [`${c.manifest.file}:${String(c.container.name)}`, c] as const))(
    '%s: container port is the port the config makes of its environment, and probes use it',
    (_label, { manifest, container }) => {
      const env = containerEnv(manifest, container);
      const expectedPort = loadConfig({ ...REQUIRED_ONLY, ...(env.PORT ? { PORT: env.PORT } : {}) }).port;
      const ports = nodes(container.ports);
      expect(ports.map((p) => p.containerPort)).toEqual([expectedPort]);
      const portNames = new Map(ports.map((p) => [p.name, p.containerPort]));
      const probePort = (probe: Node) => {
        const port = node(probe.httpGet).port;
        return typeof port === 'string' ? portNames.get(port) : port;
      };

      const liveness = node(container.livenessProbe);
      expect(node(liveness.httpGet).path).toBe('/healthz');
      expect(probePort(liveness)).toBe(expectedPort);
      if (container.readinessProbe !== undefined) {
        expect(node(node(container.readinessProbe).httpGet).path).toBe('/readyz');
        expect(probePort(node(container.readinessProbe))).toBe(expectedPort);
      }
      // A sidecar's readiness is its pod's: only the bridge's own Deployments gate traffic on /readyz.
      if (manifest.doc.kind === 'Deployment') expect(container.readinessProbe).toBeDefined();
    },
  );

  test.each(bridgeContainers.map((c) => [`${c.manifest.file}:${String(c.container.name)}`, c] as const))(
    '%s: every variable is one config.ts reads, each secret file comes from the generated Secret, and the values load as a valid config',
    (_label, scope) => {
      const { manifest, container } = scope;
      const env = containerEnv(manifest, container);
      expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);

      const secretDir = mkdtempSync(join(tmpdir(), 'manifest-secrets-'));
      try {
        const resolved: Record<string, string> = { ...env };
        for (const name of Object.keys(env).filter((n) => n.endsWith('_FILE'))) {
          const behind = secretBehind(scope, container, env[name]);
          expect({ name, behind }).toEqual({ name, behind: expect.objectContaining({ secretName: expect.any(String) }) });
          const keys = generatedSecretKeys(manifest.folder, behind!.secretName);
          expect({ name, key: behind!.key, generated: keys?.includes(behind!.key) }).toEqual({ name, key: behind!.key, generated: true });
          // Secret files are root-owned, group-owned by fsGroup when set: the non-root bridge must still read them.
          const readable = (behind!.mode & 0o004) !== 0 || ((behind!.mode & 0o040) !== 0 && scope.podSecurity.fsGroup !== undefined);
          expect({ name, readable }).toEqual({ name, readable: true });
          // What the operator writes into secrets/ (docs/operators.md): a generated token, one per file.
          resolved[name] = join(secretDir, behind!.key);
          writeFileSync(resolved[name], `${name === 'REDIS_URL_FILE' ? kubernetesRedisUrl() : strongToken(behind!.key)}\n`);
        }
        const config = loadConfig(resolved);
        expect(config.coder.token.length).toBeGreaterThan(0);
        expect(config.scim.tokens.length).toBeGreaterThan(0);
        if (env.ADMIN_TOKEN_FILE) expect(config.adminToken).toBeDefined();
        expect(new URL(config.redis.url).password).not.toBe('');
      } finally {
        rmSync(secretDir, { recursive: true, force: true });
      }
    },
  );

  test('no kustomization deploys a token: Secrets are generated from files under secrets/, which git ignores', () => {
    expect(ofKind('Secret')).toEqual([]);
    for (const folder of ['standalone', 'sidecar']) {
      const generators = nodes(ofKind('Kustomization', folder)[0].doc.secretGenerator);
      expect(generators.length).toBeGreaterThan(0);
      const ignored = readFileSync(join(MANIFESTS, folder, 'secrets', '.gitignore'), 'utf8').split('\n');
      expect(ignored).toEqual(expect.arrayContaining(['*', '!.gitignore']));
      for (const generator of generators) {
        expect(generator.literals).toBeUndefined();
        expect(generator.envs).toBeUndefined();
        for (const source of (generator.files as string[]).map(String)) {
          const path = source.split('=').pop()!;
          expect(path).toMatch(/^secrets\/[\w.-]+$/);
        }
      }
    }
  });

  test('every container runs as non-root, without privilege escalation, on a read-only root filesystem', () => {
    const containers = scopes.flatMap((s) => s.containers.map((container) => ({ file: s.manifest.file, security: { ...s.podSecurity, ...node(container.securityContext) } })));
    expect(containers.length).toBeGreaterThanOrEqual(4);
    for (const { file, security } of containers) {
      expect({ file, runAsNonRoot: security.runAsNonRoot }).toEqual({ file, runAsNonRoot: true });
      expect({ file, runAsUser: security.runAsUser }).toEqual({ file, runAsUser: expect.any(Number) });
      expect(security.runAsUser).not.toBe(0);
      expect({ file, readOnly: security.readOnlyRootFilesystem, escalation: security.allowPrivilegeEscalation }).toEqual({ file, readOnly: true, escalation: false });
    }
  });

  test('bridge containers declare resource requests and a memory limit', () => {
    for (const { container } of bridgeContainers) {
      const resources = node(container.resources);
      expect(node(resources.requests)).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      expect(node(resources.limits).memory).toBeDefined();
    }
  });

  test('standalone: each Deployment is covered by a PodDisruptionBudget, and the Service reaches serve pods only', () => {
    const deployments = ofKind('Deployment', 'standalone');
    const budgets = ofKind('PodDisruptionBudget', 'standalone');
    expect(budgets.length).toBeGreaterThan(0);
    for (const deployment of deployments) {
      const labels = node(node(node(deployment.doc.spec).template).metadata).labels;
      expect(budgets.some((b) => labelsMatch(node(node(b.doc.spec).selector).matchLabels as Node, node(labels)))).toBe(true);
    }
    const [service] = ofKind('Service', 'standalone');
    const selected = deployments.filter((d) => labelsMatch(node(node(service.doc.spec).selector), node(node(node(node(d.doc.spec).template).metadata).labels)));
    const selectedArgs = selected.flatMap((d) => bridgeContainers.filter((c) => c.manifest === d).map((c) => (c.container.args as string[])[0]));
    expect(selectedArgs).toEqual(['serve']);
    const targetPort = nodes(node(service.doc.spec).ports)[0].targetPort;
    expect(nodes(bridgeContainers.find((c) => c.manifest === selected[0])!.container.ports).some((p) => p.name === targetPort)).toBe(true);
  });

  test('sidecar: the Service targets the port the sidecar listens on', () => {
    const [service] = ofKind('Service', 'sidecar');
    const [sidecar] = bridgeContainers.filter((c) => c.manifest.folder === 'sidecar');
    const listening = loadConfig({ ...REQUIRED_ONLY, PORT: containerEnv(sidecar.manifest, sidecar.container).PORT }).port;
    expect(nodes(node(service.doc.spec).ports)[0].targetPort).toBe(listening);
  });
});

describe('Redis settings', () => {
  const directives = (text: string) =>
    new Map(
      text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => [line.split(/\s+/)[0].toLowerCase(), line.split(/\s+/).slice(1).join(' ')] as const),
    );
  const reference = directives(readFileSync(join(ROOT, 'config', 'redis.conf'), 'utf8'));

  test('config/redis.conf persists with AOF and never evicts (BullMQ needs noeviction)', () => {
    expect(reference.get('appendonly')).toBe('yes');
    expect(reference.get('appendfsync')).toBe('everysec');
    expect(reference.get('maxmemory-policy')).toBe('noeviction');
  });

  test('the Kubernetes Redis runs config/redis.conf, from its ConfigMap, with /data on a persistent volume', () => {
    const [configMap] = ofKind('ConfigMap', 'redis');
    const deployed = directives(String(node(configMap.doc.data)['redis.conf']));
    for (const [name, value] of reference) expect({ name, value: deployed.get(name) }).toEqual({ name, value });

    const [statefulSet] = ofKind('StatefulSet', 'redis');
    const [scope] = scopes.filter((s) => s.manifest === statefulSet);
    const [redis] = scope.containers;
    const configVolume = scope.volumes.find((v) => node(v.configMap).name === node(configMap.doc.metadata).name);
    const configMount = nodes(redis.volumeMounts).find((m) => m.name === configVolume?.name);
    expect(redis.command).toEqual(['sh', '-c']);
    expect(String((redis.args as string[])[0])).toMatch(new RegExp(`^exec redis-server ${String(configMount?.mountPath)}/redis.conf - <<EOF\n`));
    const claims = nodes(node(statefulSet.doc.spec).volumeClaimTemplates).map((c) => node(c.metadata).name);
    const dataMount = nodes(redis.volumeMounts).find((m) => m.mountPath === reference.get('dir'));
    expect(claims).toContain(dataMount?.name);
  });
});

describe('Kubernetes Redis access', () => {
  const [statefulSet] = ofKind('StatefulSet', 'redis');
  const [scope] = scopes.filter((s) => s.manifest === statefulSet);
  const [redis] = scope.containers;
  const script = String((redis.args as string[])[0]);
  const mountOf = (volume: Node | undefined) => String(nodes(redis.volumeMounts).find((m) => m.name === volume?.name)?.mountPath);
  const authVolume = scope.volumes.find((v) => node(v.secret).secretName !== undefined);
  const passwordFile = /requirepass \$\(cat (\S+)\)/.exec(script)?.[1] ?? '';
  const probes = [redis.livenessProbe, redis.readinessProbe].map((probe) => (node(node(probe).exec).command as string[]) ?? []);

  test('Redis requires a password, read from a Secret the kustomization generates from a file git ignores', () => {
    expect(authVolume).toBeDefined();
    expect(posix.dirname(passwordFile)).toBe(mountOf(authVolume));
    const secretName = node(authVolume!.secret).secretName;
    const generator = nodes(ofKind('Kustomization', 'redis')[0].doc.secretGenerator).find((g) => g.name === secretName);
    const sources = ((generator?.files as string[] | undefined) ?? []).map(String);
    expect(sources.map((source) => source.split('=')[0])).toContain(posix.basename(passwordFile));
    for (const source of sources) expect(source.split('=').pop()).toMatch(/^secrets\/[\w.-]+$/);
    expect(readFileSync(join(MANIFESTS, 'redis', 'secrets', '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['*', '!.gitignore']));
    expect(ofKind('Secret', 'redis')).toEqual([]);
    // Readable by the redis user through fsGroup, and not by others.
    expect(Number(node(authVolume!.secret).defaultMode) & 0o007).toBe(0);
    expect(scope.podSecurity.fsGroup).toBe(scope.podSecurity.runAsUser);
  });

  test('the startup script and the probes work against a real redis-server: no password, no access', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-manifest-'));
    const port = await freePort();
    const password = `pw-${Date.now().toString(36)}`;
    const [configMap] = ofKind('ConfigMap', 'redis');
    const local = (text: string) =>
      text
        .replaceAll(passwordFile, join(dir, 'password'))
        .replaceAll(`${mountOf(scope.volumes.find((v) => node(v.configMap).name !== undefined))}/redis.conf`, join(dir, 'redis.conf'))
        .replaceAll('redis-cli ping', `redis-cli -p ${port} ping`);
    writeFileSync(join(dir, 'password'), `${password}\n`);
    const conf = String(node(configMap.doc.data)['redis.conf']).replace(/^dir .*$/m, `dir ${dir}`).replace(/^appendonly .*$/m, 'appendonly no');
    writeFileSync(join(dir, 'redis.conf'), `${conf}\nport ${port}\nbind 127.0.0.1\nsave ""\n`);
    const server = spawn('sh', ['-c', local(script)], { stdio: 'ignore' });
    const run = promisify(execFile);
    const cli = async (...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout.trim();
    const probe = (command: string[]) => run(command[0], [command[1], local(command[2])]).then(() => 0, (err: { code?: number }) => err.code ?? -1);
    try {
      const started = Date.now();
      while ((await cli('ping').catch(() => '')) === '' && Date.now() - started < 10_000) await new Promise((done) => setTimeout(done, 100));
      expect(await cli('ping')).toContain('NOAUTH');
      expect(await cli('--pass', 'wrong', '--no-auth-warning', 'ping')).toContain('NOAUTH');
      expect(await cli('--pass', password, '--no-auth-warning', 'ping')).toBe('PONG');
      // The password went in through stdin: nothing on the server's command line names it.
      expect(readFileSync(`/proc/${await serverPid(cli, password)}/cmdline`, 'utf8')).not.toContain(password);
      for (const command of probes) expect(await probe(command)).toBe(0);
      writeFileSync(join(dir, 'password'), 'not-the-password\n');
      for (const command of probes) expect(await probe(command)).not.toBe(0);
    } finally {
      server.kill('SIGKILL');
      await cli('--pass', password, '--no-auth-warning', 'shutdown', 'nosave').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("the NetworkPolicy admits only labelled bridge pods of the bridge's and Coder's namespaces, by name", () => {
    const [policy] = ofKind('NetworkPolicy', 'redis');
    const peers = nodes(node(policy.doc.spec).ingress).flatMap((rule) => nodes(rule.from));
    expect(peers.length).toBeGreaterThan(0);
    const namespaces = ['standalone', 'sidecar'].map((folder) => String(ofKind('Kustomization', folder)[0].doc.namespace));
    for (const peer of peers) {
      expect(node(node(peer.podSelector).matchLabels)).toEqual({ 'coder-scim-bridge/redis-client': 'true' });
      const [expression, ...others] = nodes(node(peer.namespaceSelector).matchExpressions);
      expect(others).toEqual([]);
      expect(node(peer.namespaceSelector).matchLabels).toBeUndefined();
      expect(expression).toEqual({ key: 'kubernetes.io/metadata.name', operator: 'In', values: expect.arrayContaining(namespaces) });
    }
  });
});

describe('the bridge and the Kubernetes Redis', () => {
  test.each(bridgeContainers.map((c) => [`${c.manifest.file}:${String(c.container.name)}`, c] as const))(
    '%s: gets its Redis URL (which holds the password) from a Secret file, never from a ConfigMap or the pod spec',
    (_label, scope) => {
      const env = containerEnv(scope.manifest, scope.container);
      expect(env.REDIS_URL).toBeUndefined();
      expect(env.REDIS_URL_FILE).toBeDefined();
      expect(secretBehind(scope, scope.container, env.REDIS_URL_FILE)).toEqual(expect.objectContaining({ key: 'redis-url' }));
    },
  );
});

describe('ServiceAccount tokens', () => {
  const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

  test.each(bridgeContainers.map((c) => [`${c.manifest.file}:${String(c.container.name)}`, c] as const))(
    '%s: the bridge container gets no Kubernetes API token',
    (_label, { scope, volumes, container }) => {
      if (scope.automountServiceAccountToken === false) return;
      // In Coder's pod (the sidecar) the token is mounted for Coder: a mount of our own at its path keeps it out.
      const mount = nodes(container.volumeMounts).find((m) => m.mountPath === TOKEN_PATH);
      const volume = volumes.find((v) => v.name === mount?.name);
      expect({ mount: mount?.mountPath, emptyDir: volume?.emptyDir !== undefined }).toEqual({ mount: TOKEN_PATH, emptyDir: true });
    },
  );

  test('the standalone pods and Redis mount no token at all', () => {
    for (const s of scopes.filter((x) => x.manifest.folder !== 'sidecar')) expect({ file: s.manifest.file, automount: s.scope.automountServiceAccountToken }).toEqual({ file: s.manifest.file, automount: false });
  });
});

/** The pid of the redis-server the test started, as Redis itself reports it. */
async function serverPid(cli: (...args: string[]) => Promise<string>, password: string): Promise<number> {
  const info = await cli('--pass', password, '--no-auth-warning', 'info', 'server');
  return Number(/process_id:(\d+)/.exec(info)?.[1]);
}
