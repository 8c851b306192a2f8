import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../src/capture/ip-address-text.js';

const v6 = (...groups: number[]) => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));

describe('IP address text', () => {
  it('formats IPv4 at an offset', () => {
    expect(formatIpv4(Uint8Array.of(9, 10, 0, 0, 255), 1)).toBe('10.0.0.255');
  });

  it.each([
    ['2001:db8::1', v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)],
    ['::1', v6(0, 0, 0, 0, 0, 0, 0, 1)],
    ['::', v6(0, 0, 0, 0, 0, 0, 0, 0)],
    ['1::', v6(1, 0, 0, 0, 0, 0, 0, 0)],
    // a single zero group is not shortened (RFC 5952 4.2.2)
    ['2001:db8:0:1:1:1:1:1', v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)],
    // the longest run wins, the first on a tie (4.2.3)
    ['2001:0:0:1::1', v6(0x2001, 0, 0, 1, 0, 0, 0, 1)],
    ['2001:db8::1:0:0:1', v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)],
    ['fe80::abcd:ef01:23:4567', v6(0xfe80, 0, 0, 0, 0xabcd, 0xef01, 0x23, 0x4567)],
  ])('formats IPv6 per RFC 5952: %s', (textForm, bytes) => {
    expect(formatIpv6(bytes)).toBe(textForm);
    expect(parseIpv6(textForm)).toEqual(bytes);
  });

  it('parses what it formats, and rejects malformed text', () => {
    expect(parseIpv4('192.168.001.2')).toEqual(Uint8Array.of(192, 168, 1, 2));
    expect(parseIpv6('2001:DB8:0:0:0:0:0:1')).toEqual(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '1..2.3', '']) expect(parseIpv4(bad)).toBeNull();
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4::5:6:7:8', '12345::', 'g::', ':1']) {
      expect(parseIpv6(bad)).toBeNull();
    }
  });
});
