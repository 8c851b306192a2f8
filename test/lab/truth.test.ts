import type { Lab } from '../../src/lab/lab.js';
import { LabObservations, newSession, type SessionObservation } from '../../src/lab/observations.js';
import { StreamTally } from '../../src/lab/stream-tally.js';
import { labTruth } from '../../src/lab/truth.js';

const REQUEST_HEAD = 300;

/** kubectl → apiserver (copying) → kubelet (copying) → CRI streaming server (terminating). */
function chain(opts: { apiserverBackendIn?: number; criStdinEnded?: boolean; criRead?: number; criEnd?: string } = {}): { obs: LabObservations; lab: Lab } {
  const obs = new LabObservations();
  const tallies = { stdin: new StreamTally(), stdout: new StreamTally(), stderr: new StreamTally() };
  tallies.stdin.add(Buffer.from('input'));
  tallies.stdout.add(Buffer.from('output\n'));
  // The CRI connection: the kubelet's request head, then 1000 client bytes; 5000 bytes answered, the Status ending at 4800.
  const cri = newSession({ hop: 'cri', transport: 'spdy', method: 'POST', requestUri: '/exec/tok', clientAddr: '127.0.0.1:3', serverAddr: '127.0.0.1:30' });
  Object.assign(cri, {
    httpStatus: 101,
    negotiatedProtocol: 'v4.channel.k8s.io',
    namespace: 'default',
    pod: 'lab-0',
    container: 'main',
    command: ['cat'],
    stdin: true,
    stdout: true,
    streams: tallies,
    statusJson: '{"metadata":{},"status":"Success"}',
    processExitCode: 0,
    wire: { c2s: opts.criRead ?? REQUEST_HEAD + 1000, s2c: 5000 },
    contentEnd: { c2s: opts.criStdinEnded === false ? null : REQUEST_HEAD + 900, s2c: 4800 },
    end: opts.criEnd ?? 'clean',
  } satisfies Partial<SessionObservation>);
  const proxy = (hop: 'apiserver' | 'kubelet', client: string, server: string, upstream: string, backendIn: number): SessionObservation => {
    const s = newSession({ hop, transport: 'spdy', method: 'POST', requestUri: hop === 'apiserver' ? '/api/v1/namespaces/default/pods/lab-0/exec?command=cat&stdin=true&stdout=true' : '/exec/default/lab-0/main?command=cat&input=1&output=1', clientAddr: client, serverAddr: server });
    Object.assign(s, {
      httpStatus: 101,
      negotiatedProtocol: 'v4.channel.k8s.io',
      namespace: 'default',
      pod: 'lab-0',
      command: ['cat'],
      stdin: true,
      stdout: true,
      upstreamClientAddr: upstream,
      wire: { c2s: 400 + 1000, s2c: backendIn },
      proxy: { clientIn: 1000, backendOut: REQUEST_HEAD + 1000, requestHeadBytes: REQUEST_HEAD, backendIn, clientOut: backendIn },
      end: 'clean',
    } satisfies Partial<SessionObservation>);
    return s;
  };
  obs.addSession(proxy('apiserver', '127.0.0.1:1', '127.0.0.1:10', '127.0.0.1:2', opts.apiserverBackendIn ?? 5000));
  obs.addSession(proxy('kubelet', '127.0.0.1:2', '127.0.0.1:20', '127.0.0.1:3', 5000));
  obs.addSession(cri);
  const lab = { observations: obs, recordPath: '/x/lab.pcapng', tls: false, hops: [], options: { faults: [] } } as unknown as Lab;
  return { obs, lab };
}

type Entry = Record<string, unknown> & { stdout_bytes?: { length: number; sha256: string }; observed_by: string | null; end: string };
const entries = (lab: Lab) => (labTruth(lab, { scenario: 't', description: 'd', clients: [] }) as { sessions: Entry[] }).sessions;

describe('labTruth', () => {
  test('copying hops report the session behind them when every byte of content went through', () => {
    const [api, kubelet, cri] = entries(chain().lab);
    for (const e of [api, kubelet, cri]) {
      expect(e.stdout_bytes).toMatchObject({ length: 7, head_quoted: '"output\\n"' });
      expect(e.status_json).toBe('{"metadata":{},"status":"Success"}');
    }
    expect(api.observed_by).toBe('cri (bytes copied unchanged by apiserver)');
    expect(cri.observed_by).toBe('cri');
  });

  test('a leg that did not carry the answer up to the Status is left unknown', () => {
    const [api, kubelet] = entries(chain({ apiserverBackendIn: 4700 }).lab);
    expect(api.stdout_bytes).toBeUndefined();
    expect(api.contents_unknown).toMatch(/not known/);
    expect(kubelet.stdout_bytes).toBeDefined();
  });

  test('client bytes the next hop never read may hold stdin unless its stdin had ended', () => {
    expect(entries(chain({ criRead: REQUEST_HEAD + 950 }).lab)[1].stdout_bytes).toBeDefined();
    expect(entries(chain({ criRead: REQUEST_HEAD + 950, criStdinEnded: false }).lab)[1].stdout_bytes).toBeUndefined();
  });

  test("a copying hop's end is the end of the session behind it", () => {
    const [api, kubelet, cri] = entries(chain({ criEnd: 'reset: connection reset' }).lab);
    expect([api.end, kubelet.end, cri.end]).toEqual(['reset: connection reset', 'reset: connection reset', 'reset: connection reset']);
  });

  test('the CRI request names only a token: what it stood for is kept apart', () => {
    const cri = entries(chain().lab)[2];
    expect(cri).toMatchObject({ namespace: null, pod: null, container: null, command: [], tty: false, request_uri: '/exec/tok' });
    expect(cri.token_request).toEqual({ namespace: 'default', pod: 'lab-0', container: 'main', command: ['cat'], stdin: true, stdout: true, stderr: false, tty: false });
  });
});
