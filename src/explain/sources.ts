/**
 * Where each protocol fact an explanation rests on is written down: a section of the team's
 * protocol notes (../shared/PROTOCOL.md) and the Kubernetes or library sources that section cites,
 * so a learner can check every sentence against the code it comes from.
 */
const NOTES = 'PROTOCOL.md';

function cite(section: string, title: string, sources: string): string {
  return `${NOTES} ${section} ${title} — ${sources}`;
}

export const SOURCES = {
  legs: cite('§2.1', 'The legs', 'kubectl pkg/cmd/exec/exec.go; kubelet pkg/kubelet/server/server.go; cri-api api.proto'),
  spdyUpgrade: cite('§2.2', 'Upgrade handshakes', 'client-go tools/remotecommand/spdy.go; apimachinery pkg/util/httpstream/httpstream.go Handshake'),
  wsUpgrade: cite('§2.2', 'Upgrade handshakes', 'client-go tools/remotecommand/websocket.go NewWebSocketExecutor; RFC 6455 §4.1'),
  spdyFrames: cite('§2.3', 'SPDY/3.1 framing', 'moby/spdystream spdy/read.go, spdy/write.go, connection.go, stream.go'),
  spdyPing: cite('§2.3', 'SPDY/3.1 framing', 'client-go transport/spdy/spdy.go PingPeriod 5 s; apimachinery pkg/util/httpstream/spdy/connection.go sendPings'),
  spdyEnd: cite('§2.3', 'SPDY/3.1 framing', 'moby/spdystream stream.go Close/Reset, connection.go Close; apimachinery pkg/util/httpstream/spdy/connection.go'),
  flowControl: cite('§2.3', 'SPDY/3.1 framing', 'moby/spdystream connection.go (WINDOW_UPDATE parsed, not enforced)'),
  streams: cite('§2.4', 'remotecommand streams (SPDY)', 'client-go tools/remotecommand/v2.go, v3.go; cri-streaming pkg/streaming/remotecommand/httpstream.go'),
  stdinEof: cite('§2.4', 'remotecommand streams (SPDY)', 'client-go tools/remotecommand/v2.go copyStdin'),
  channels: cite('§2.5', 'Channel protocol over WebSocket', 'apimachinery pkg/util/remotecommand/constants.go; wsstream/conn.go; client-go tools/remotecommand/websocket.go'),
  versions: cite('§2.6', 'Versions', 'apimachinery pkg/util/remotecommand/constants.go; client-go tools/remotecommand/v1.go–v5.go'),
  status: cite('§2.7', 'Error-stream Status JSON', 'client-go tools/remotecommand/v4.go errorDecoderV4; apimachinery pkg/apis/meta/v1/types.go; cri-streaming remotecommand/httpstream.go'),
  resize: cite('§2.8', 'Resize', 'client-go tools/remotecommand/v3.go, resize.go'),
  fallback: cite('§2.9', 'WebSocket executor + fallback (KEP-4006)', 'kubectl pkg/cmd/exec/exec.go NewFallbackExecutor; client-go transport/websocket/roundtripper.go'),
  translator: cite('§2.10', 'StreamTranslator', 'apiserver pkg/util/proxy/streamtranslator.go, websocket.go'),
  portForward: cite('§2.11', 'Port-forward', 'client-go tools/portforward/portforward.go; apiserver pkg/util/proxy/streamtunnel.go; cri-streaming portforward/httpstream.go'),
  timers: cite('§2.13', 'Timers that cause hangs or disconnects', 'client-go tools/remotecommand/websocket.go; transport/spdy/spdy.go'),
  sequences: cite('§2.16', 'Canonical sequences', 'assembled from §2.2–§2.8'),
  docker: cite('§2.14', 'Docker Engine exec and dockershim', 'moby api/server/router/container/exec.go, pkg/stdcopy/stdcopy.go; kubernetes pkg/kubelet/dockershim/exec.go'),
  capture: 'a fact of this capture, not of Kubernetes: the TCP reassembly (src/net) found bytes missing',
} as const;
