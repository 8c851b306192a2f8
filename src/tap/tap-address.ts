/**
 * The addresses `execscope tap` listens on and connects to: `unix:/path` (also `unix:///path`, as
 * containerd and docker -H write it), `HOST:PORT`, `[IPv6]:PORT`, `tcp://HOST:PORT`, or a bare
 * `PORT` / `:PORT`, which means loopback (taps bind loopback unless told otherwise). Pure.
 */
export type TapAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseTapAddress(text: string): TapAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path.startsWith('/') && !path.startsWith('.')) throw new Error(`unix socket path must be absolute or start with ./: ${text}`);
    return { kind: 'unix', path };
  }
  const rest = text.startsWith('tcp://') ? text.slice('tcp://'.length) : text;
  let host = '127.0.0.1';
  let portText = rest;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw new Error(`expected [IPv6]:PORT: ${text}`);
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
  } else if (rest.includes(':')) {
    const colon = rest.lastIndexOf(':');
    if (colon > 0) host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new Error(`not an address (unix:/path, HOST:PORT or PORT): ${text}`);
  return { kind: 'tcp', host, port: Number(portText) };
}

export function formatTapAddress(address: TapAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
