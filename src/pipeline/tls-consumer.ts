/** TLS on a connection: record timeline always, plaintext (when keys decrypt it) sniffed and decoded again. */
import { rangeView } from '../core/byte-range.js';
import { logCarrier, newCarrierLog } from '../core/carrier-log.js';
import type { TlsKeyLog } from '../tls/key-log.js';
import { TlsConnectionDecoder } from '../tls/record-decoder.js';
import type { ConnectionScope } from './connection-scope.js';
import { SniffingConsumer, type StreamConsumer } from './stream-consumer.js';

/** Records listed per connection (the reports' record timeline); the carrier log keeps the rest. */
const MAX_RECORDS = 5000;

export function tlsConsumer(scope: ConnectionScope, keys: TlsKeyLog, plaintextConsumer: () => SniffingConsumer): StreamConsumer {
  const { record, ctx } = scope;
  const plaintextCarriers = { c2s: newCarrierLog(), s2c: newCarrierLog() };
  const tls = (record.tls = { keysFound: null as boolean | null, records: [] as NonNullable<typeof record.tls>['records'], recordsDropped: 0, plaintextCarriers });
  let inner: SniffingConsumer | null = null;
  /** Application bytes the record being handled gave (its onPlaintext comes before its onRecord). */
  let plaintext = 0;
  const decoder = new TlsConnectionDecoder(
    keys,
    {
      onHandshakeInfo: (info) => {
        Object.assign(tls, { sni: info.sni, alpn: info.alpn, version: info.version, cipherSuite: info.cipherSuite, keysFound: info.keysFound, keysWrong: info.keysWrong });
        if (info.keysFound === false) ctx.tlsWithoutKeys();
      },
      onRecord: (dir, rec) => {
        if (tls.records.length >= MAX_RECORDS) tls.recordsDropped++;
        else tls.records.push({ dir, ts: rec.origin.lastTs, offset: rec.origin.offset, length: rec.length, type: rec.innerTypeName ?? rec.contentTypeName, decrypted: rec.decrypted, plaintext });
        // The record is decrypted as one: any of its plaintext bytes needed all of it.
        logCarrier(plaintextCarriers[dir], ctx.carrierBudget, plaintext, rec.origin.offset, rec.origin.length, true);
        plaintext = 0;
      },
      onPlaintext: (dir, data, origin) => {
        plaintext += data.length;
        (inner ??= plaintextConsumer()).push(dir, data, 0, data.length, origin);
      },
      onProblem: (p) => ctx.warn({ ...p, connection: scope.record.id }),
    },
    { where: scope.where },
  );
  return {
    push: (dir, bytes, start, end, origin) => decoder.push(dir, rangeView(bytes, start, end), origin),
    gap: (dir, offset, length) => decoder.gap(dir, offset, length),
    end: () => {
      decoder.end();
      inner?.end();
    },
  };
}
