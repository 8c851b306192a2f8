/** ⏎ on a connection: its requests, WebSocket frames and messages, HTTP/2 streams (as `analyze --connections` prints them), its TLS, its gaps and sessions. */
import type { ConnectionRecord } from '../model/session.js';
import { connectionLines } from '../report/text-report.js';
import { safeInline } from '../report/terminal-text.js';
import type { Segment } from './Line.js';
import { OverlayPane, wrapRow } from './OverlayPane.js';

/** The connection's details in rows of at most `width` cells (a request's long target wraps). */
export function connectionRows(c: ConnectionRecord, width: number): Segment[][] {
  return detailRows(c).flatMap((row) => (row.length === 1 ? wrapRow(row[0].text, width).map((text) => [{ ...row[0], text }]) : [row]));
}

function detailRows(c: ConnectionRecord): Segment[][] {
  const rows: Segment[][] = connectionLines(c).map((text, i) => [{ text: `  ${text}`, bold: i === 0 }]);
  if (c.tls) {
    const t = c.tls;
    rows.push([{ text: '  TLS', bold: true }]);
    rows.push([{ text: `    ${[t.version, t.cipherSuite].filter(Boolean).map((v) => safeInline(String(v))).join(' · ') || 'handshake not seen'}` }]);
    if (t.sni || t.alpn) rows.push([{ text: `    ${[t.sni && `SNI ${safeInline(t.sni)}`, t.alpn && `ALPN ${safeInline(t.alpn)}`].filter(Boolean).join(' · ')}` }]);
    rows.push([{ text: `    ${t.keysFound === true ? 'decrypted with the key log' : t.keysFound === false ? 'NO KEYS: pass --keylog FILE to decrypt it' : 'keys not needed yet (handshake incomplete)'}`, color: t.keysFound === false ? 'yellow' : undefined }]);
  }
  if (c.gaps.length) rows.push([{ text: `  ${c.gaps.length} TCP gap${c.gaps.length === 1 ? '' : 's'}: ${c.gaps.reduce((n, g) => n + g.length, 0)} bytes missing`, color: 'yellow' }]);
  rows.push(
    c.sessionIds.length
      ? [{ text: `  exec session${c.sessionIds.length === 1 ? '' : 's'} #${c.sessionIds.join(', #')} · ⏎ opens #${c.sessionIds[0]}`, color: 'green' }]
      : [{ text: '  no exec session on this connection', dim: true }],
  );
  return rows;
}

export function ConnectionOverlay({ connection, height, width, scroll }: { connection: ConnectionRecord; height: number; width: number; scroll: number }) {
  return <OverlayPane title={`Connection · ${connection.id}`} closeHint="esc closes" rows={connectionRows(connection, width)} scroll={scroll} height={height} />;
}
