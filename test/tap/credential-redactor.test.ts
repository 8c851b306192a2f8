import fc from 'fast-check';
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

/** The recorded pieces with neighbours of one direction joined: [direction, text] in recording order. */
function transcript(pieces: RecordedPiece[]): [string, string][] {
  const out: [string, string][] = [];
  for (const p of pieces) {
    const text = Buffer.from(p.bytes).toString('latin1');
    const last = out[out.length - 1];
    if (last && last[0] === p.dir) last[1] += text;
    else out.push([p.dir, text]);
  }
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

  // kubectl's port-forward through the tap: the SYN_STREAM's last byte happened to be the token's
  // first, was held, and the SYN_REPLY was recorded before it (the session got a stream-3 it never opened).
  test('a held possible start of a secret keeps its place: what the other side sends meanwhile is recorded after it', () => {
    const r = new CredentialRedactor({ secrets: ['tok3n-secret-value'] });
    const bytes = (text: string) => Buffer.from(text, 'latin1');
    const out = [...r.push('c2s', bytes('\x80SYN_STREAM t')), ...r.push('s2c', bytes('\x80SYN_REPLY')), ...r.push('s2c', bytes(' more'))];
    expect(transcript(out)).toEqual([['c2s', '\x80SYN_STREAM ']]);
    out.push(...r.push('c2s', bytes('o be sure')), ...r.finish('c2s'), ...r.finish('s2c'));
    expect(transcript(out)).toEqual([
      ['c2s', '\x80SYN_STREAM t'],
      ['s2c', '\x80SYN_REPLY more'],
      ['c2s', 'o be sure'],
    ]);
  });

  test('property: any interleaving and chunking records every byte once, in relay order, each secret blanked', () => {
    const secret = 'abcab-token';
    // Chunks built from fragments of the secret, so its starts and splits are frequent.
    const fragment = fc.constantFrom('a', 'ab', 'abc', 'abcab', 'abcab-', '-token', 'token', secret, 'x', '\n', 'zz');
    const chunk = fc.tuple(fc.constantFrom<'c2s' | 's2c'>('c2s', 's2c'), fc.array(fragment, { minLength: 1, maxLength: 6 }).map((f) => f.join('')));
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 30 }), (chunks) => {
        const conversation: [dir: 'c2s' | 's2c', data: string][] = [
          ['c2s', '\x00'],
          ['s2c', '\x00'],
          ...chunks,
        ];
        const out = run(conversation, Infinity, [secret]);
        const blanked = (dir: 'c2s' | 's2c') =>
          conversation.filter(([d]) => d === dir).map(([, data]) => data).join('').split(secret).join('*'.repeat(secret.length));
        expect(text(out, 'c2s')).toBe(blanked('c2s'));
        expect(text(out, 's2c')).toBe(blanked('s2c'));
        // Relay order: before any byte of a chunk is recorded, every earlier chunk of the other side was.
        const sent = { c2s: 0, s2c: 0 };
        const recorded = { c2s: 0, s2c: 0 };
        const before = conversation.map(([dir, data]) => {
          sent[dir] += data.length;
          return { dir, end: sent[dir], other: { ...sent } };
        });
        for (const piece of out) {
          const first = recorded[piece.dir];
          recorded[piece.dir] += piece.bytes.length;
          const owner = before.find((c) => c.dir === piece.dir && c.end > first)!;
          const other = piece.dir === 'c2s' ? 's2c' : 'c2s';
          expect(recorded[other]).toBeGreaterThanOrEqual(owner.other[other]);
        }
      }),
    );
  });

  test('a possible start held while the other side sends more than 1 MiB is recorded blanked', () => {
    const r = new CredentialRedactor({ secrets: ['tok3n-secret-value'] });
    const out = [...r.push('c2s', Buffer.from('\x00 to', 'latin1')), ...r.push('s2c', Buffer.from('\x00', 'latin1'))];
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 17; i++) out.push(...r.push('s2c', chunk));
    expect(transcript(out)).toEqual([
      ['c2s', '\x00 **'],
      ['s2c', '\x00' + 'A'.repeat(17 * chunk.length)],
    ]);
  });

  test('a head cut by the end of the connection is still blanked', () => {
    const cut = 'GET / HTTP/1.1\r\nAuthorization: Bearer secr';
    expect(text(run([['c2s', cut]], 4), 'c2s')).toBe('GET / HTTP/1.1\r\nAuthorization: Bearer ****');
  });
});
