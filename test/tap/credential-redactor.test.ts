import { CredentialRedactor, type RecordedPiece } from '../../src/tap/credential-redactor.js';

const text = (pieces: RecordedPiece[], dir: 'c2s' | 's2c') =>
  Buffer.concat(pieces.filter((p) => p.dir === dir).map((p) => p.bytes)).toString('latin1');

/** Feeds the conversation one chunk at a time (cut at `step`), collecting what would be recorded. */
function run(conversation: [dir: 'c2s' | 's2c', data: string][], step = Infinity, secrets: string[] = []): RecordedPiece[] {
  const r = new CredentialRedactor({ secrets });
  const out: RecordedPiece[] = [];
  for (const [dir, data] of conversation) {
    const bytes = Buffer.from(data, 'latin1');
    for (let at = 0; at < bytes.length; at += Math.min(step, bytes.length)) out.push(...r.push(dir, bytes.subarray(at, at + step)));
  }
  out.push(...r.finish('c2s'), ...r.finish('s2c'));
  return out;
}

describe('CredentialRedactor', () => {
  const upgrade =
    'GET /api/v1/namespaces/default/pods/p/exec?command=sh HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc.def-123\r\n' +
    'Cookie: a=b\r\nSec-WebSocket-Protocol: v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.dG9rZW4, v4.channel.k8s.io\r\n' +
    'Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
  const switched = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
  const upgraded = 'Authorization: Bearer not-a-header-any-more\n';

  // The tap forwards the very Buffers it records: a head that arrives whole in one chunk was once
  // blanked in place, so the apiserver received stars instead of the token.
  test.each([Infinity, 1, 7])('never writes into the bytes it is given (chunks of %s)', (step) => {
    const r = new CredentialRedactor({ secrets: ['abc.def-123'] });
    const sent = Buffer.from(upgrade, 'latin1');
    for (let at = 0; at < sent.length; at += Math.min(step, sent.length)) r.push('c2s', sent.subarray(at, at + step));
    r.finish('c2s');
    expect(sent.toString('latin1')).toBe(upgrade);
  });

  test.each([Infinity, 1, 7])('blanks credentials in heads only, keeps lengths (chunks of %s)', (step) => {
    const conversation: [dir: 'c2s' | 's2c', data: string][] = [
      ['c2s', upgrade],
      ['s2c', switched],
      ['c2s', upgraded],
      ['s2c', upgraded],
    ];
    const out = run(conversation, step);
    const c2s = text(out, 'c2s');
    expect(c2s.length).toBe(upgrade.length + upgraded.length);
    expect(c2s).toContain('Authorization: Bearer ***********\r\n');
    expect(c2s).toContain('Cookie: ***\r\n');
    expect(c2s).toContain('v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.*******, v4.channel.k8s.io');
    expect(c2s.endsWith(upgraded)).toBe(true); // after the 101, bytes are the stream's, never touched
    expect(text(out, 's2c')).toBe(switched + upgraded);
  });

  test('a refused upgrade: what the client sent next is parsed as the next request', () => {
    const refused = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!';
    const next = 'POST /x HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\nContent-Length: 4\r\n\r\nbody';
    const out = run([
      ['c2s', upgrade + next],
      ['s2c', refused],
    ]);
    const c2s = text(out, 'c2s');
    expect(c2s).toContain('Authorization: Basic ************\r\nContent-Length: 4\r\n\r\nbody');
    expect(c2s.length).toBe(upgrade.length + next.length);
  });

  test('bodies are not heads: a body line that looks like a header is kept', () => {
    const post = 'POST /a HTTP/1.1\r\nContent-Length: 23\r\n\r\nAuthorization: keep me\n';
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nCookie\r\n0\r\n\r\n';
    const out = run([
      ['c2s', post],
      ['s2c', chunked],
    ]);
    expect(text(out, 'c2s')).toBe(post);
    expect(text(out, 's2c')).toBe(chunked);
  });

  test('not HTTP (TLS, HTTP/2, gRPC): recorded as it is', () => {
    const h2 = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00Authorization: x\r\n\r\n';
    expect(text(run([['c2s', h2]], 3), 'c2s')).toBe(h2);
    const tls = '\x16\x03\x01\x00\x05hello';
    expect(text(run([['c2s', tls]]), 'c2s')).toBe(tls);
  });

  test('a known secret is blanked anywhere, also across chunk boundaries', () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.payload.sig';
    const stream = `\x00\x01binary ${secret} and again:${secret}`;
    for (const step of [Infinity, 1, 5, 13]) {
      const c2s = text(run([['c2s', stream]], step, [secret]), 'c2s');
      expect(c2s).toBe(stream.split(secret).join('*'.repeat(secret.length)));
    }
  });

  test('a head cut by the end of the connection is still blanked', () => {
    const cut = 'GET / HTTP/1.1\r\nAuthorization: Bearer secr';
    expect(text(run([['c2s', cut]], 4), 'c2s')).toBe('GET / HTTP/1.1\r\nAuthorization: Bearer ****');
  });
});
