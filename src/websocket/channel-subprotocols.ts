/**
 * The k8s channel subprotocols a WebSocket upgrade names (Sec-WebSocket-Protocol), and what each
 * means for the channel bytes inside its messages. Apart from the channel decoder so that code which
 * only reads a session's protocol name (the report, the TUI) does not load the decoders with it.
 */
export interface K8sChannelProtocol {
  readonly codec: 'binary' | 'base64' | 'tunnel';
  /** v5: channel 255 is the CLOSE signal. */
  readonly closeSignal: boolean;
  readonly portForward: boolean;
  /** False when the subprotocol is not one of ours (then decoded as channel.k8s.io). */
  readonly known: boolean;
}

const BINARY = new Set(['', 'channel.k8s.io', 'v4.channel.k8s.io']);
const BASE64 = new Set(['base64.channel.k8s.io', 'v4.base64.channel.k8s.io']);

export function k8sChannelProtocol(subprotocol: string, portForward = false): K8sChannelProtocol {
  if (subprotocol === 'v5.channel.k8s.io') return shared('binary', true, portForward, true);
  if (BINARY.has(subprotocol)) return shared('binary', false, portForward, true);
  if (BASE64.has(subprotocol)) return shared('base64', false, portForward, true);
  if (subprotocol === 'portforward.k8s.io') return shared('binary', false, true, true);
  if (subprotocol === 'SPDY/3.1+portforward.k8s.io') return shared('tunnel', false, true, true);
  return shared('binary', false, portForward, false);
}

/** The protocols made so far, by their fields: one frozen object per kind, not one per connection. */
const protocols = new Map<string, K8sChannelProtocol>();

function shared(codec: K8sChannelProtocol['codec'], closeSignal: boolean, portForward: boolean, known: boolean): K8sChannelProtocol {
  const key = `${codec} ${closeSignal} ${portForward} ${known}`;
  let p = protocols.get(key);
  if (!p) protocols.set(key, (p = Object.freeze({ codec, closeSignal, portForward, known })));
  return p;
}
