import {
  header,
  headerValues,
  isUpgradeRequest,
  parseRequestHead,
  parseResponseHead,
  splitTarget,
  startLooksLikeHttp,
  type HttpRequestHead,
} from '../../src/http/http-head.js';
import { enc } from './http-test-kit.js';

const origin = { offset: 0, length: 0, packet: 1, ts: 0, lastPacket: 1, lastTs: 0 };

function request(head: string): HttpRequestHead {
  const parsed = parseRequestHead(enc(head), origin);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.head;
}

describe('header helpers', () => {
  const req = request(
    'GET / HTTP/1.1\r\nConnection: Upgrade\r\nx-stream-protocol-version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: channel.k8s.io\r\nUpgrade: SPDY/3.1\r\nEmpty:\r\nList: a,, b ,c\r\n\r\n',
  );

  it('finds fields case-insensitively and joins repeats', () => {
    expect(header(req, 'X-Stream-Protocol-Version')).toBe('v4.channel.k8s.io, channel.k8s.io');
    expect(header(req, 'empty')).toBe('');
    expect(header(req, 'missing')).toBeUndefined();
  });

  it('lists values across repeated lines and comma lists', () => {
    expect(headerValues(req, 'x-stream-protocol-version')).toEqual(['v4.channel.k8s.io', 'channel.k8s.io']);
    expect(headerValues(req, 'list')).toEqual(['a', 'b', 'c']);
    expect(headerValues(req, 'empty')).toEqual([]);
    expect(headerValues(req, 'missing')).toEqual([]);
  });

  it('keeps the original case and order of fields', () => {
    expect(req.headers.map(([n]) => n)).toEqual(['Connection', 'x-stream-protocol-version', 'X-Stream-Protocol-Version', 'Upgrade', 'Empty', 'List']);
  });

  it('needs both Connection: upgrade and Upgrade for an upgrade request', () => {
    expect(isUpgradeRequest(req)).toBe(true);
    expect(isUpgradeRequest(request('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'))).toBe(false);
    expect(isUpgradeRequest(request('GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n'))).toBe(false);
    expect(isUpgradeRequest(request('GET / HTTP/1.1\r\nconnection: keep-alive, UPGRADE\r\nupgrade: websocket\r\n\r\n'))).toBe(true);
  });
});

describe('start lines', () => {
  it('splits origin-form and absolute-form targets', () => {
    expect(splitTarget('/api/v1?x=1&y')).toEqual({ path: '/api/v1', query: 'x=1&y' });
    expect(splitTarget('/exec/tok')).toEqual({ path: '/exec/tok', query: '' });
    expect(splitTarget('http://node:10250/exec/ns/pod/c?command=ls')).toEqual({ path: '/exec/ns/pod/c', query: 'command=ls' });
    expect(splitTarget('https://host?q=1')).toEqual({ path: '/', query: 'q=1' });
    expect(splitTarget('https://host')).toEqual({ path: '/', query: '' });
    expect(splitTarget('host:443')).toEqual({ path: 'host:443', query: '' });
  });

  it('parses status lines with and without a reason', () => {
    const ok = parseResponseHead(enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n'), origin);
    expect(ok).toEqual({ head: { version: 'HTTP/1.1', status: 101, reason: 'Switching Protocols', headers: [['Upgrade', 'SPDY/3.1']], origin }, warnings: [] });
    const bare = parseResponseHead(enc('HTTP/1.0 204\r\n\r\n'), origin);
    expect(bare).toMatchObject({ head: { status: 204, reason: '' } });
    expect(parseResponseHead(enc('HTTP/2 200 OK\r\n\r\n'), origin)).toEqual({ error: 'malformed status line "HTTP/2 200 OK"' });
  });

  it('rejects malformed request lines', () => {
    expect(parseRequestHead(enc('GET  / HTTP/1.1\r\n\r\n'), origin)).toEqual({ error: 'malformed request line "GET  / HTTP/1.1"' });
    expect(parseRequestHead(enc('G(T / HTTP/1.1\r\n\r\n'), origin)).toEqual({ error: 'malformed request method "G(T"' });
    expect(parseRequestHead(enc('GET / HTTP/1.1x\r\n\r\n'), origin)).toEqual({ error: 'not an HTTP/1.x request line "GET / HTTP/1.1x"' });
  });

  it('judges the first bytes early', () => {
    expect(startLooksLikeHttp('request', enc('POS'))).toBeUndefined();
    expect(startLooksLikeHttp('request', enc('POST '))).toBe(true);
    expect(startLooksLikeHttp('request', enc(' GET'))).toBe(false);
    expect(startLooksLikeHttp('request', Uint8Array.of(0x16, 0x03))).toBe(false);
    expect(startLooksLikeHttp('request', enc('A'.repeat(33)))).toBe(false);
    expect(startLooksLikeHttp('request', enc('A'.repeat(32)))).toBeUndefined();
    expect(startLooksLikeHttp('response', enc('HTT'))).toBeUndefined();
    expect(startLooksLikeHttp('response', enc('HTTP/'))).toBe(true);
    expect(startLooksLikeHttp('response', enc('HTTX'))).toBe(false);
  });
});
