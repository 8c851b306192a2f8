import { readdirSync, readFileSync } from 'node:fs';
import { channelProtocolVersion, expectedStreamCount, parseStreamingRequest, type K8sStreamingRequest } from '../../src/k8s/exec-request.js';

interface TruthSession {
  http_method: string;
  request_uri: string;
  kind: string;
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  negotiated_subprotocol: string;
  transport: string;
  streams?: { type: string; id: number }[];
}

const truthFiles = readdirSync('fixtures').filter((f) => f.endsWith('.truth.json'));
const truthSessions: [string, TruthSession][] = truthFiles.flatMap((f) =>
  (JSON.parse(readFileSync(`fixtures/${f}`, 'utf8')).sessions as TruthSession[]).map((s): [string, TruthSession] => [f, s]),
);

describe('real kubectl request URIs (fixtures/*.truth.json)', () => {
  it('covers every capture', () => {
    // The seven shared captures, plus fixtures derived from them.
    expect(truthSessions.length).toBeGreaterThanOrEqual(7);
  });

  it.each(truthSessions)('%s', (_file, s) => {
    expect(parseStreamingRequest(s.http_method, s.request_uri)).toEqual({
      kind: s.kind,
      hop: 'apiserver',
      namespace: s.namespace,
      pod: s.pod,
      container: s.container,
      command: s.command,
      stdin: s.stdin,
      stdout: s.stdout,
      stderr: s.stderr,
      tty: s.tty,
      ports: [],
    });
  });

  // Only SPDY creates streams one by one; the WebSocket truth lists the server's channels.
  it.each(truthSessions.filter(([, s]) => s.transport === 'spdy'))('%s: expected stream count matches the SPDY streams created', (_file, s) => {
    const req = parseStreamingRequest(s.http_method, s.request_uri)!;
    expect(expectedStreamCount(req, s.negotiated_subprotocol)).toBe(s.streams!.length);
    expect(s.streams!.length).toBeGreaterThan(0);
  });
});

const base = { command: [], ports: [] };

describe('apiserver form', () => {
  it('parses exec with every flag spelling apimachinery accepts', () => {
    expect(parseStreamingRequest('POST', '/api/v1/namespaces/kube-system/pods/web-0/exec?command=sh&command=-c&command=a%20b+c%26d&container=app&stdin=1&stdout=True&stderr=false&tty=0')).toEqual({
      kind: 'exec',
      hop: 'apiserver',
      namespace: 'kube-system',
      pod: 'web-0',
      container: 'app',
      command: ['sh', '-c', 'a b c&d'],
      stdin: true,
      stdout: true,
      stderr: false,
      tty: false,
      ports: [],
    });
  });

  it('takes the first value of a repeated flag and reads a bare flag as true', () => {
    expect(parseStreamingRequest('GET', '/api/v1/namespaces/n/pods/p/attach?stdin=false&stdin=true&tty')).toMatchObject({
      kind: 'attach',
      stdin: false,
      tty: true,
      stdout: false,
      container: undefined,
    });
  });

  it('parses portforward ports, repeated and comma-listed, dropping invalid ones', () => {
    expect(parseStreamingRequest('GET', '/api/v1/namespaces/n/pods/p/portforward?ports=8080&ports=9090,53&ports=0&ports=70000&ports=x')).toEqual({
      kind: 'portforward',
      hop: 'apiserver',
      namespace: 'n',
      pod: 'p',
      container: undefined,
      ...base,
      stdin: false,
      stdout: false,
      stderr: false,
      tty: false,
      ports: [8080, 9090, 53],
    });
  });

  it('accepts a proxy prefix, absolute-form targets and percent-encoded segments', () => {
    expect(parseStreamingRequest('POST', '/k8s/clusters/c-abc/api/v1/namespaces/n/pods/p/exec?command=ls')).toMatchObject({ hop: 'apiserver', namespace: 'n', pod: 'p', command: ['ls'] });
    expect(parseStreamingRequest('GET', 'https://10.0.0.1:6443/api/v1/namespaces/n/pods/p%2Dx/exec?command=ls')).toMatchObject({ pod: 'p-x' });
    expect(parseStreamingRequest('GET', '/api/v1/namespaces/n/pods/p/exec?command=%E2%9C%93&command=%zz')).toMatchObject({ command: ['✓', '%zz'] });
  });

  it('rejects other methods, other subresources and other paths', () => {
    expect(parseStreamingRequest('DELETE', '/api/v1/namespaces/n/pods/p/exec')).toBeNull();
    expect(parseStreamingRequest('GET', '/api/v1/namespaces/n/pods/p/log')).toBeNull();
    expect(parseStreamingRequest('GET', '/api/v1/namespaces/n/pods/p')).toBeNull();
    expect(parseStreamingRequest('GET', '/apis/apps/v1/namespaces/n/deployments/p/exec')).toBeNull();
    expect(parseStreamingRequest('GET', '/version?timeout=5s')).toBeNull();
    expect(parseStreamingRequest('GET', '/')).toBeNull();
  });

  it("rejects subresources named like an object's own properties", () => {
    expect(parseStreamingRequest('GET', '/api/v1/namespaces/n/pods/p/constructor')).toBeNull();
    expect(parseStreamingRequest('GET', '/api/v1/namespaces/n/pods/p/__proto__')).toBeNull();
    expect(parseStreamingRequest('GET', '/constructor/n/p/c')).toBeNull();
    expect(parseStreamingRequest('GET', '/hasOwnProperty/token')).toBeNull();
  });
});

describe('kubelet form', () => {
  it('parses /exec/{ns}/{pod}/{container} with the kubelet flags', () => {
    expect(parseStreamingRequest('POST', '/exec/default/web-0/app?command=echo&command=hi&input=1&output=1&error=1&tty=1')).toEqual({
      kind: 'exec',
      hop: 'kubelet',
      namespace: 'default',
      pod: 'web-0',
      container: 'app',
      command: ['echo', 'hi'],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: true,
      ports: [],
    });
  });

  it('parses /exec/{ns}/{pod}/{uid}/{container}; only "1" is true', () => {
    expect(parseStreamingRequest('GET', '/exec/ns/pod/3f1c-uid/ctr?command=ls&output=true&error=0')).toEqual({
      kind: 'exec',
      hop: 'kubelet',
      namespace: 'ns',
      pod: 'pod',
      uid: '3f1c-uid',
      container: 'ctr',
      command: ['ls'],
      stdin: false,
      stdout: false,
      stderr: false,
      tty: false,
      ports: [],
    });
  });

  it('parses attach and portForward with and without uid', () => {
    expect(parseStreamingRequest('POST', '/attach/ns/pod/ctr?input=1&output=1&tty=1')).toMatchObject({ kind: 'attach', hop: 'kubelet', container: 'ctr', stdin: true, tty: true });
    const pf = { kind: 'portforward', hop: 'kubelet', namespace: 'ns', pod: 'pod', command: [], stdin: false, stdout: false, stderr: false, tty: false };
    expect(parseStreamingRequest('POST', '/portForward/ns/pod')).toEqual({ ...pf, ports: [] });
    expect(parseStreamingRequest('GET', '/portForward/ns/pod/uid-1?port=8080,8443')).toEqual({ ...pf, uid: 'uid-1', ports: [8080, 8443] });
  });

  it('rejects wrong segment counts', () => {
    expect(parseStreamingRequest('POST', '/exec/ns/pod')).toBeNull();
    expect(parseStreamingRequest('POST', '/exec/ns/pod/uid/ctr/extra')).toBeNull();
    expect(parseStreamingRequest('POST', '/portForward/ns/pod/uid/extra')).toBeNull();
  });
});

describe('CRI streaming form', () => {
  it('parses /{exec|attach|portforward}/{token} with the flags unknown', () => {
    const unknown = { command: [], stdin: null, stdout: null, stderr: null, tty: null, ports: [] };
    expect(parseStreamingRequest('POST', '/exec/Zq3cPRn1')).toEqual({ kind: 'exec', hop: 'cri', token: 'Zq3cPRn1', ...unknown });
    expect(parseStreamingRequest('GET', '/attach/tok')).toEqual({ kind: 'attach', hop: 'cri', token: 'tok', ...unknown });
    expect(parseStreamingRequest('POST', '/portforward/tok')).toEqual({ kind: 'portforward', hop: 'cri', token: 'tok', ...unknown });
  });

  it('reads flags when the URL does carry them', () => {
    expect(parseStreamingRequest('POST', '/exec/tok?output=1&error=1')).toMatchObject({ hop: 'cri', stdin: false, stdout: true, stderr: true, tty: false });
  });
});

describe('expectedStreamCount (PROTOCOL.md 2.4)', () => {
  const exec = (flags: Partial<K8sStreamingRequest>): K8sStreamingRequest => ({
    kind: 'exec',
    hop: 'apiserver',
    command: ['sh'],
    stdin: false,
    stdout: false,
    stderr: false,
    tty: false,
    ports: [],
    ...flags,
  });

  it('counts error + stdin + stdout + stderr, drops stderr with a tty and adds resize from v3', () => {
    expect(expectedStreamCount(exec({ stdout: true, stderr: true }), 'v4.channel.k8s.io')).toBe(3);
    expect(expectedStreamCount(exec({ stdin: true, stdout: true, stderr: true, tty: true }), 'v4.channel.k8s.io')).toBe(4);
    expect(expectedStreamCount(exec({ stdin: true, stdout: true, tty: true }), 'v3.channel.k8s.io')).toBe(4);
    expect(expectedStreamCount(exec({ stdin: true, stdout: true, tty: true }), 'v2.channel.k8s.io')).toBe(3);
    expect(expectedStreamCount(exec({ stdin: true, stdout: true, tty: true }), 'channel.k8s.io')).toBe(3);
    expect(expectedStreamCount(exec({}), 'v5.channel.k8s.io')).toBe(1);
  });

  it('is null for port-forward, unknown flags and unknown protocols', () => {
    expect(expectedStreamCount(exec({ kind: 'portforward' }), 'portforward.k8s.io')).toBeNull();
    expect(expectedStreamCount(exec({ stdin: null }), 'v4.channel.k8s.io')).toBeNull();
    expect(expectedStreamCount(exec({ stdout: true }), 'v9.other.io')).toBeNull();
  });

  it('reads channel protocol versions', () => {
    expect(channelProtocolVersion('channel.k8s.io')).toBe(1);
    expect(channelProtocolVersion('base64.channel.k8s.io')).toBe(1);
    expect(channelProtocolVersion('v4.base64.channel.k8s.io')).toBe(4);
    expect(channelProtocolVersion(' v5.channel.k8s.io')).toBe(5);
    expect(channelProtocolVersion('SPDY/3.1+portforward.k8s.io')).toBeNull();
    expect(channelProtocolVersion('')).toBeNull();
  });
});
