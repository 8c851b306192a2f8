import { SyntheticTls13 } from '../helpers/tls-synthetic.js';
import { decode, keyLogOf } from '../helpers/tls-decode.js';
import { TlsConnectionDecoder } from '../../src/tls/record-decoder.js';
test.each([0x1301, 0x1302, 0x1303])('bench %s', (suite) => {
  const conn = new SyntheticTls13(suite);
  const payload = 'z'.repeat(16384);
  for (let i = 0; i < 8192; i++) conn.send('s2c', payload);
  // coalesce into 64 KiB chunks like a reassembler would
  const all = Buffer.concat(conn.chunks.slice(4).map((c) => c.data));
  const chunks = conn.chunks.slice(0, 4);
  for (let at = 0; at < all.length; at += 1460) chunks.push({ dir: 's2c', data: all.subarray(at, at + 1460) });
  const keys = keyLogOf(conn.keylog());
  let n = 0;
  const t0 = process.hrtime.bigint();
  const sink = { onHandshakeInfo() {}, onRecord() {}, onProblem(p: unknown) { throw new Error(String(p)); }, onPlaintext(_d: unknown, d: Uint8Array) { n += d.length; } };
  const dec = new TlsConnectionDecoder(keys, sink);
  let off = { c2s: 0, s2c: 0 };
  chunks.forEach((c, i) => { dec.push(c.dir, c.data, { offset: off[c.dir], length: c.data.length, packet: i, ts: i }); off[c.dir] += c.data.length; });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(suite.toString(16), n, ms.toFixed(0), 'ms', (all.length / 1e6 / (ms / 1000)).toFixed(0), 'MB/s');
});
