/**
 * Who writes the bytes going one way on one hop. A hop's two ends are not always the programs that
 * wrote its frames: the apiserver and the kubelet proxy most upgrades byte for byte, so the SPDY a
 * kubelet→runtime capture shows was written by kubectl (or the apiserver's translator) and by the
 * runtime's streaming server. The neighbouring hops (cross-hop links) tell which case this is.
 */
import type { Direction } from '../core/origin.js';
import { sessionById, type SessionsById } from '../model/records.js';
import type { ExecSession } from '../model/session.js';
import { isSpdyTunnel } from '../report/outcome.js';

export interface Speaker {
  /** Who, in a phrase: "kubectl", "the apiserver's StreamTranslator, relayed byte for byte by the kubelet". */
  who: string;
  /** Component and function in the Kubernetes sources. */
  origin: string;
}

interface Author {
  who: string;
  origin: string;
  /** The proxies it passed through on its way to this hop, nearest the author first. */
  relays?: { by: string; origin: string }[];
}

const KUBECTL_WS: Author = { who: 'kubectl', origin: 'client-go tools/remotecommand/websocket.go (the WebSocket executor kubectl ≥ 1.30 tries first)' };
const KUBECTL_SPDY: Author = { who: 'kubectl', origin: 'client-go tools/remotecommand/spdy.go and v4.go (the SPDY executor)' };
const KUBECTL_TUNNEL: Author = { who: 'kubectl', origin: 'client-go tools/portforward/tunneling_connection.go (SPDY carried in WebSocket messages)' };
const KUBECTL_PORTFORWARD: Author = { who: 'kubectl', origin: 'client-go tools/portforward/portforward.go' };
const TRANSLATOR: Author = { who: "the apiserver's StreamTranslator", origin: 'apiserver pkg/util/proxy/streamtranslator.go (WebSocket v5 in, SPDY out)' };
const TUNNEL: Author = { who: "the apiserver's TunnelingHandler", origin: 'apiserver pkg/util/proxy/streamtunnel.go (WebSocket tunnel in, SPDY out)' };
const KUBELET_TRANSLATOR: Author = {
  who: "the kubelet's StreamTranslator (ExtendWebSocketsToKubelet, 1.36)",
  origin: 'kubelet pkg/kubelet/server/server.go getExec/getAttach → stream translator',
};
const KUBELET_TUNNEL: Author = {
  who: "the kubelet's TunnelingHandler (ExtendWebSocketsToKubelet, 1.36)",
  origin: 'kubelet pkg/kubelet/server/server.go getPortForward → NewTunnelingHandler',
};
const RUNTIME: Author = { who: "the container runtime's streaming server", origin: 'cri-streaming pkg/streaming/server.go, remotecommand/httpstream.go (containerd, CRI-O)' };

function relayed(inner: Author, by: string, origin: string): Author {
  return { ...inner, relays: [...(inner.relays ?? []), { by, origin }] };
}

const APISERVER_PROXY = 'apiserver pkg/util/proxy upgrade-aware proxy';
const KUBELET_PROXY = 'kubelet pkg/kubelet/server/server.go proxyStream';

/** Who wrote what the client side of this hop sent. */
function clientSpeaker(s: ExecSession, all: SessionsById): Author {
  const up = sessionById(all, s.previousHop);
  switch (s.hop) {
    case 'apiserver':
      if (isSpdyTunnel(s)) return KUBECTL_TUNNEL;
      if (s.transport === 'websocket') return KUBECTL_WS;
      return s.kind === 'portforward' ? KUBECTL_PORTFORWARD : KUBECTL_SPDY;
    case 'kubelet':
      if (s.transport === 'websocket') return relayed(isSpdyTunnel(s) ? KUBECTL_TUNNEL : KUBECTL_WS, 'the apiserver (ExtendWebSocketsToKubelet, 1.36)', APISERVER_PROXY);
      if (!up) {
        return {
          who: "the apiserver: its StreamTranslator's own SPDY client when kubectl came over WebSocket, otherwise kubectl's SPDY relayed by its proxy",
          origin: `${TRANSLATOR.origin}, or ${APISERVER_PROXY}`,
        };
      }
      if (isSpdyTunnel(up)) return TUNNEL;
      if (up.transport === 'websocket') return TRANSLATOR;
      return relayed(clientSpeaker(up, all), 'the apiserver', APISERVER_PROXY);
    case 'cri':
      if (up?.transport === 'websocket' && up.hop === 'kubelet') return isSpdyTunnel(up) ? KUBELET_TUNNEL : KUBELET_TRANSLATOR;
      if (!up) return { who: 'the kubelet, relaying what came from the apiserver', origin: KUBELET_PROXY };
      return relayed(clientSpeaker(up, all), 'the kubelet', KUBELET_PROXY);
    default:
      return { who: 'the client', origin: 'unknown: the request names no hop execscope knows' };
  }
}

/** Who wrote what the server side of this hop sent. */
function serverSpeaker(s: ExecSession, all: SessionsById): Author {
  switch (s.hop) {
    case 'cri':
      return RUNTIME;
    case 'kubelet':
      if (s.transport === 'websocket') return isSpdyTunnel(s) ? KUBELET_TUNNEL : KUBELET_TRANSLATOR;
      return relayed(RUNTIME, 'the kubelet', KUBELET_PROXY);
    case 'apiserver': {
      const down = sessionById(all, s.nextHop);
      // 1.36: the WebSocket passes through the apiserver to a kubelet that translates it.
      if (s.transport === 'websocket' && down?.transport === 'websocket') return relayed(serverSpeaker(down, all), 'the apiserver (ExtendWebSocketsToKubelet, 1.36)', APISERVER_PROXY);
      if (isSpdyTunnel(s)) return TUNNEL;
      if (s.transport === 'websocket' && s.protocol.startsWith('v5.')) return TRANSLATOR;
      const inner = down ? serverSpeaker(down, all) : relayed(RUNTIME, 'the kubelet', KUBELET_PROXY);
      return relayed(inner, 'the apiserver', APISERVER_PROXY);
    }
    default:
      return { who: 'the server', origin: 'unknown: the request names no hop execscope knows' };
  }
}

export function speaker(s: ExecSession, all: SessionsById, dir: Direction): Speaker {
  const a = dir === 'c2s' ? clientSpeaker(s, all) : serverSpeaker(s, all);
  const relays = a.relays ?? [];
  if (!relays.length) return { who: a.who, origin: a.origin };
  return {
    who: `${a.who}, relayed byte for byte by ${relays.map((r) => r.by).join(' and ')}`,
    origin: [a.origin, ...relays.map((r) => `relayed by ${r.origin}`)].join('; '),
  };
}
