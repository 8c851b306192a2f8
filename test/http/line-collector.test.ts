import { LineCollector, NEED_MORE } from '../../src/http/line-collector.js';

const HEAD = 'GET / HTTP/1.1\r\nAuthorization: Bearer secret-token\r\n\r\n';

describe('LineCollector', () => {
  it('a head fed whole from a Buffer: bytes().slice() is a copy, so blanking it leaves the fed bytes intact', () => {
    const fed = Buffer.from(`${HEAD}body`);
    const head = new LineCollector(1024, true);
    expect(head.feed(fed, 0)).toBe(HEAD.length);
    const copy = head.bytes().slice();
    copy.fill(0x2a);
    expect(fed.toString('latin1')).toBe(`${HEAD}body`);
    expect(Buffer.from(head.bytes()).toString('latin1')).toBe(HEAD);
  });

  it('collects the same head fed whole or a byte at a time, and starts empty after reset', () => {
    const bytes = new TextEncoder().encode(HEAD);
    const whole = new LineCollector(1024, true);
    expect(whole.feed(bytes, 0)).toBe(bytes.length);
    const pieces = new LineCollector(1024, true);
    let end = NEED_MORE;
    for (let i = 0; i < bytes.length && end === NEED_MORE; i++) end = pieces.feed(bytes.subarray(i, i + 1), 0);
    expect(end).toBe(1);
    expect(pieces.bytes()).toEqual(whole.bytes());
    expect(whole.length).toBe(bytes.length);
    whole.reset();
    expect(whole.length).toBe(0);
    expect(whole.bytes().length).toBe(0);
  });
});
