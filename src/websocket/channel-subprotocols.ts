/**
 * The k8s channel subprotocols a WebSocket upgrade names (Sec-WebSocket-Protocol), and what each
 * means for the channel bytes inside its messages. Apart from the channel decoder so that code which
 * only reads a session's protocol name (the report, the TUI) does not load the decoders with it.
 */
export interface K8sChannelProtocol {
  codec: 'binary' | 'base64' | 'tunnel';
  /** v5: channel 255 is the CLOSE signal. */
  closeSignal: boolean;
  portForward: boolean;
  /** False when the subprotocol is not one of ours (then decoded as channel.k8s.io). */
  known: boolean;
}

const BINARY = new Set(['', 'channel.k8s.io', 'v4.channel.k8s.io']);
const BASE64 = new Set(['base64.channel.k8s.io', 'v4.base64.channel.k8s.io']);

export function k8sChannelProtocol(subprotocol: string, portForward = false): K8sChannelProtocol {
  if (subprotocol === 'v5.channel.k8s.io') return { codec: 'binary', closeSignal: true, portForward, known: true };
  if (BINARY.has(subprotocol)) return { codec: 'binary', closeSignal: false, portForward, known: true };
  if (BASE64.has(subprotocol)) return { codec: 'base64', closeSignal: false, portForward, known: true };
  if (subprotocol === 'portforward.k8s.io') return { codec: 'binary', closeSignal: false, portForward: true, known: true };
  if (subprotocol === 'SPDY/3.1+portforward.k8s.io') return { codec: 'tunnel', closeSignal: false, portForward: true, known: true };
  return { codec: 'binary', closeSignal: false, portForward, known: false };
}
