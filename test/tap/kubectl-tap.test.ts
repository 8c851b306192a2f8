/**
 * The real kubectl through `execscope tap kubectl` in front of the lab's HTTPS apiserver (bearer
 * token), for exec over WebSocket and SPDY, piped stdin, a non-zero exit, -it with resizes and
 * port-forward; and a client-certificate user against an HTTPS server that requires one.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import { clientProblems, runScenario } from '../../src/lab/scenario-runner.js';
import { findScenario } from '../../src/lab/scenarios.js';
import type { CaptureModel, ExecSession } from '../../src/model/session.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { startKubectlTap, type KubectlTap } from '../../src/tap/kubectl-tap.js';
import { generateSelfSignedCert } from '../../src/tap/self-signed-cert.js';
import { until } from '../kit/until.js';
import { compareWithTruth } from '../lab/truth-compare.js';

const LAB_TOKEN = 'execscope-lab-token';

const analyze = (path: string, keyLogs: { text: string; source: string }[] = []) =>
  analyzeCapture(path, analyzeOptions({ hash: true, hasher: new InlineStreamHasher(), keyLogs }));

/** What both sides of the tap must agree on, per session: its request and every stream's bytes. */
function digest(sessions: ExecSession[]): unknown[] {
  return sessions.map((s) => ({
    kind: s.kind,
    transport: s.transport,
    protocol: s.protocol,
    target: s.target,
    exit: s.exit?.code ?? null,
    resizes: s.resizes.map((r) => `${r.width}x${r.height}`),
    streams: Object.fromEntries(s.streams.map((st) => [st.name, `${st.bytes}:${st.sha256}`])),
  }));
}

function apiserverSessions(model: CaptureModel): ExecSession[] {
  return model.sessions.filter((s) => s.hop === 'apiserver');
}

describe('execscope tap kubectl: the real kubectl through the tap', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kubectl-tap-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test.each(['ws-stdin-sort', 'spdy-stdin-sort', 'ws-exit-code', 'spdy-exit-code', 'ws-tty-resize', 'spdy-tty-resize', 'ws-portforward', 'spdy-portforward'])(
    '%s: kubectl behaves as without the tap, both sides of the tap carry the same bytes, the token is blanked',
    async (name) => {
      const scenario = findScenario(name)!;
      const tapRecording = join(dir, 'tap.pcapng');
      let kubectlTap: KubectlTap | null = null;
      try {
        const run = await runScenario(scenario, {
          dir: join(dir, 'lab'),
          recordPath: join(dir, 'lab.pcapng'),
          kubeconfigFor: async (lab) => {
            kubectlTap = await startKubectlTap({ kubeconfig: lab.kubeconfigPath, recordTo: tapRecording, keyLogTo: join(dir, 'tap.keylog') });
            return kubectlTap.kubeconfigPath;
          },
        });
        await kubectlTap!.stop();
        expect(clientProblems(scenario, run.client)).toEqual([]);
        // The lab saw the tap as its client and recorded it as usual.
        const lab = await analyze(join(dir, 'lab.pcapng'));
        expect(compareWithTruth(lab, run.truth as Parameters<typeof compareWithTruth>[1])).toEqual([]);
        // kubectl → tap (the tap's recording, plaintext) and tap → apiserver (the lab's, decrypted).
        const tapped = await analyze(tapRecording);
        expect(tapped.fatal).toBeNull();
        expect(apiserverSessions(tapped).length).toBeGreaterThan(0);
        expect(digest(apiserverSessions(tapped))).toEqual(digest(apiserverSessions(lab)));
        const recorded = readFileSync(tapRecording).toString('latin1');
        expect(recorded).not.toContain(LAB_TOKEN);
        expect(recorded).toContain(`Bearer ${'*'.repeat(LAB_TOKEN.length)}`);
        expect(statSync(tapRecording).mode & 0o777).toBe(0o600);
        // The key log of both TLS legs decrypts a capture of them (here: its lines name both handshakes).
        const keyLog = readFileSync(join(dir, 'tap.keylog'), 'utf8');
        expect(statSync(join(dir, 'tap.keylog')).mode & 0o777).toBe(0o600);
        expect(new Set(keyLog.split('\n').filter((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0')).map((l) => l.split(' ')[1])).size).toBeGreaterThanOrEqual(2);
      } finally {
        await (kubectlTap as KubectlTap | null)?.stop();
      }
    },
    90_000,
  );

  test('a client-certificate user: the tap presents the certificate upstream, kubectl gets the answer', async () => {
    const openssl = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=tap-user/O=system:masters',
      '-addext', 'extendedKeyUsage=clientAuth', '-keyout', join(dir, 'user.key'), '-out', join(dir, 'user.crt'),
    ], { timeout: 30_000 });
    expect(openssl.status).toBe(0);
    const userCert = readFileSync(join(dir, 'user.crt'), 'utf8');
    const userKey = readFileSync(join(dir, 'user.key'), 'utf8');
    const serverCert = generateSelfSignedCert('apiserver');
    const seen: string[] = [];
    const server = https.createServer({ cert: serverCert.certPem, key: serverCert.keyPem, ca: userCert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      seen.push(`${peer.subject?.CN} ${req.headers.authorization ?? 'no authorization'} ${req.url}`);
      // /usr/bin/kubectl may be a version dispatcher that asks /version first (as an apiserver answers it).
      res.setHeader('content-type', req.url?.startsWith('/version') ? 'application/json' : 'text/plain');
      res.end(req.url?.startsWith('/version') ? JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0' }) : 'ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let kubectlTap: KubectlTap | null = null;
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, 'certificate-authority-data': b64(serverCert.certPem) } }],
          users: [{ name: 'u', user: { 'client-certificate-data': b64(userCert), 'client-key-data': b64(userKey) } }],
          contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'ctx',
        }),
      );
      kubectlTap = await startKubectlTap({ kubeconfig, recordTo: join(dir, 'tap.pcapng') });
      expect(kubectlTap.plan.clientCertificate).toBe(true);
      const written = JSON.parse(readFileSync(kubectlTap.kubeconfigPath, 'utf8')) as { users: unknown[] };
      expect(written.users).toEqual([{ name: 'u', user: { 'client-certificate-data': b64(userCert), 'client-key-data': b64(userKey) } }]);
      expect(statSync(kubectlTap.kubeconfigPath).mode & 0o777).toBe(0o600);
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile('kubectl', ['get', '--raw', '/healthz'], { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubectlTap!.kubeconfigPath } }, (_e, stdout, stderr) =>
          resolve({ code: child.exitCode, stdout, stderr }),
        );
        child.stdin?.end(); // a kubectl that wanted to prompt for credentials fails instead of waiting
      });
      expect(out).toEqual({ code: 0, stdout: 'ok', stderr: '' });
      expect(seen.filter((s) => !s.includes('/version'))).toEqual(['tap-user no authorization /healthz']);
    } finally {
      await (kubectlTap as KubectlTap | null)?.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

test('a start abandoned while kubectl reads the kubeconfig (a FIFO no one writes): kubectl is killed and the start rejects with the abort\'s reason, nothing made', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-tap-abandon-'));
  const tmp = join(dir, 'tmp');
  const savedTmp = process.env.TMPDIR;
  try {
    mkdirSync(tmp);
    const kubeconfig = join(dir, 'kubeconfig');
    execFileSync('mkfifo', [kubeconfig], { timeout: 10_000 });
    process.env.TMPDIR = tmp; // where the start would make its key directory
    const abort = new AbortController();
    const starting = startKubectlTap({ kubeconfig, recordTo: join(dir, 'tap.pcapng'), abort: abort.signal });
    // kubectl is waiting in its open of the FIFO: the start can get no further on its own.
    const kubectl = await until(() => kubectlReading(kubeconfig), 'kubectl opening the kubeconfig FIFO');
    abort.abort(new Error('stopped by SIGINT'));
    await expect(starting).rejects.toThrow('stopped by SIGINT');
    await until(() => !existsSync(`/proc/${kubectl}`) || readFileSync(`/proc/${kubectl}/stat`, 'utf8').includes(') Z '), `kubectl (${kubectl}) ended`);
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(join(dir, 'tap.pcapng'))).toBe(false);
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The PID of a kubectl whose command line names `kubeconfig`, if one runs. */
function kubectlReading(kubeconfig: string): number | undefined {
  const found = spawnSync('pgrep', ['-f', `kubectl config view .*${kubeconfig}`], { encoding: 'utf8', timeout: 10_000 });
  return found.status === 0 ? Number(found.stdout.trim().split('\n')[0]) : undefined;
}

