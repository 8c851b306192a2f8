/** The lab's apiserver without kubectl: discovery, the Pod, refusals with their Status, the refuse-websocket fault. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { parseFault } from '../../src/lab/faults.js';
import { dialUpgrade, readResponseBody, requestHead } from '../../src/lab/upstream.js';

let dir: string;
let lab: Lab;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lab-api-'));
  lab = await Lab.start({
    dir,
    tls: false,
    recordPath: null,
    faults: [parseFault('refuse-websocket')],
    pods: [
      { namespace: 'default', name: 'lab-0', containers: ['main'], uid: 'u0' },
      { namespace: 'team', name: 'web-0', containers: ['app', 'sidecar'], uid: 'u1' },
    ],
  });
});

afterAll(async () => {
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${lab.serverUrl}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function upgrade(path: string, headers: [string, string][], method = 'POST'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await dialUpgrade(lab.port('apiserver'), requestHead(method, path, 'x', headers));
  const body = await readResponseBody(res);
  return { status: res.status, body: JSON.parse(body.toString()) };
}

const SPDY: [string, string][] = [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'SPDY/3.1'],
  ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
];

test('what kubectl reads before an exec', async () => {
  expect((await get('/version')).body.gitVersion).toBe('v1.32.4');
  expect((await get('/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
  const resources = (await get('/api/v1')).body.resources as { name: string }[];
  expect(resources.map((r) => r.name)).toContain('pods/exec');
  const pod = (await get('/api/v1/namespaces/team/pods/web-0')).body as { metadata: { annotations: Record<string, string> }; spec: { containers: { name: string }[] }; status: { phase: string } };
  expect(pod.spec.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
  expect(pod.metadata.annotations['kubectl.kubernetes.io/default-container']).toBe('app');
  expect(pod.status.phase).toBe('Running');
  const list = (await get('/api/v1/namespaces/team/pods')).body as { items: { metadata: { name: string } }[] };
  expect(list.items.map((p) => p.metadata.name)).toEqual(['web-0']);
});

test('unknown pods and namespaces: the real 404 Status', async () => {
  expect(await get('/api/v1/namespaces/default/pods/nosuch')).toEqual({
    status: 404,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nosuch" not found', reason: 'NotFound', details: { name: 'nosuch', kind: 'pods' }, code: 404 },
  });
  expect((await get('/api/v1/namespaces/elsewhere/pods/lab-0')).status).toBe(404);
  expect((await upgrade('/api/v1/namespaces/default/pods/nosuch/exec?command=true&stdout=true', SPDY)).body.message).toBe('pods "nosuch" not found');
});

test('exec refusals: invalid container, no container for a two-container pod, no streams', async () => {
  expect((await upgrade('/api/v1/namespaces/default/pods/lab-0/exec?command=true&stdout=true&container=x', SPDY)).body).toMatchObject({
    reason: 'BadRequest',
    message: 'container x is not valid for pod lab-0',
    code: 400,
  });
  expect((await upgrade('/api/v1/namespaces/team/pods/web-0/exec?command=true&stdout=true', SPDY)).body.message).toBe(
    'a container name must be specified for pod web-0, choose one of: [app sidecar]',
  );
  expect((await upgrade('/api/v1/namespaces/default/pods/lab-0/exec?command=true', SPDY)).body.message).toBe('you must specify at least 1 of stdin, stdout, stderr');
});

test('refuse-websocket: a WebSocket upgrade is answered 403 Forbidden', async () => {
  const r = await upgrade(
    '/api/v1/namespaces/default/pods/lab-0/exec?command=true&stdout=true',
    [
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
      ['Sec-WebSocket-Version', '13'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io'],
    ],
    'GET',
  );
  expect(r.status).toBe(403);
  expect(r.body).toMatchObject({ reason: 'Forbidden', code: 403, details: { name: 'lab-0', kind: 'pods' } });
});
