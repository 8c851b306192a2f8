/**
 * The SPDY/3 header-compression dictionary (SPDY Protocol draft 3, section 2.6.10.1; spdystream
 * spdy/dictionary.go). Both zlib streams of a connection are primed with it, and a zlib header block
 * names it by its Adler-32 (0xe3c6a7c2), so it must be byte-exact: 1423 bytes.
 *
 * It is a header block fragment: 65 length-prefixed (uint32 big-endian) words, then a run of common
 * value text without length prefixes.
 */
const PREFIXED_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection',
  'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location',
  'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host',
  'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified',
  'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via',
  'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url',
  'public', 'set-cookie', 'keep-alive', 'origin',
];

const UNPREFIXED_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request' +
  '401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented' +
  '503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ' +
  'Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,' +
  'application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=' +
  'gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

function buildDictionary(): Uint8Array {
  const size = PREFIXED_WORDS.reduce((n, w) => n + 4 + w.length, 0) + UNPREFIXED_TAIL.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const putAscii = (s: string): void => {
    for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
  };
  for (const word of PREFIXED_WORDS) {
    view.setUint32(at, word.length);
    at += 4;
    putAscii(word);
  }
  putAscii(UNPREFIXED_TAIL);
  return out;
}

export const SPDY3_DICTIONARY: Uint8Array = buildDictionary();
