import { createHash } from 'node:crypto';
import { webSocketAccept } from '../../src/websocket/handshake.js';

describe('webSocketAccept', () => {
  it('answers the key of RFC 6455 §1.3 as the RFC does', () => {
    expect(webSocketAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  // With the 36-character GUID appended, keys of 0 to 160 characters hash 36 to 196 bytes: one,
  // two and four 64-byte blocks, and the lengths where the padding spills into another block.
  it("is Node's SHA-1 of key + GUID for every length across block boundaries, and for non-ASCII keys", () => {
    const sha1Accept = (key: string) => createHash('sha1').update(`${key.trim()}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    for (let length = 0; length <= 160; length++) {
      const key = Array.from({ length }, (_, i) => String.fromCharCode(33 + ((i * 7 + length) % 94))).join('');
      expect(webSocketAccept(key)).toBe(sha1Accept(key));
    }
    for (const key of ['  padded key  ', 'ключ', 'é\u{1f600}']) expect(webSocketAccept(key)).toBe(sha1Accept(key));
  });
});
