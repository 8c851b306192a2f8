/**
 * Explain mode: every event of a session in plain words — what it does, who sent it and why, where
 * in Kubernetes it comes from, and the protocol fact it rests on (sources.ts). Pure: it reads the
 * model and writes text; captured strings in it (stream names, Status messages) are neutralised.
 */
import { explainDockerControl, explainDockerStream } from './docker-events.js';
import type { SessionsById } from '../model/records.js';
import { lastDataAt, type ControlEvent, type ExecSession, type StreamEvent, type StreamRecord } from '../model/session.js';
import { isSpdyTunnel } from '../report/outcome.js';
import { formatDuration } from '../core/time.js';
import { safeInline } from '../report/terminal-text.js';
import { SOURCES } from './sources.js';
import { speaker } from './speakers.js';

export interface Explanation {
  /** The event in a line: "SYN_STREAM 3 opens stdin". */
  title: string;
  /** What it does on the wire. */
  what: string;
  /** Who sent it, and why. */
  who: string;
  /** Where in Kubernetes it comes from: component and function. */
  origin: string;
  /** The protocol fact's source: the section of PROTOCOL.md and the code it cites. */
  source: string;
}

/** An event and the stream it happened on (null for the session's control events). */
export type SessionEventRef = { stream: StreamRecord; event: StreamEvent } | { stream: null; event: ControlEvent };

const CHANNELS: Record<string, number> = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 };

/** What each exec stream carries, for a learner. */
const STREAM_ROLE: Record<string, string> = {
  error: "the outcome: the server writes the command's exit status here when it ends; the client writes nothing",
  stdin: "the process's standard input, which kubectl reads from its own stdin (a pipe, a file, or your keystrokes with -i)",
  stdout: "the process's standard output (with -t, everything the terminal shows, stderr included)",
  stderr: "the process's standard error (there is none with -t: a terminal merges it into stdout)",
  resize: 'terminal sizes, one JSON object per change (only with -t, protocol v3 and later)',
};

function since(s: ExecSession, ts: number | null): string {
  return ts === null ? '' : `+${formatDuration(Math.max(0, ts - s.startTs))}`;
}

/** The framing of the session's frames; in port-forward's tunnel, a control event's: the tunnel's SPDY or the WebSocket's own. */
function frameWord(s: ExecSession, e?: ControlEvent): string {
  return s.transport === 'spdy' || (isSpdyTunnel(s) && (!e || e.tunnelled)) ? 'SPDY' : 'WebSocket';
}

/** The base name of a port-forward stream ("data:80:0" → "data"). */
function baseName(name: string): string {
  return name.replace(/[:-].*$/, '');
}

function streamCarrier(s: ExecSession, r: StreamRecord): string {
  if (s.transport === 'spdy' || isSpdyTunnel(s)) return `SPDY stream ${r.id}`;
  return `WebSocket channel ${r.id}`;
}

function explainOpen(s: ExecSession, all: SessionsById, r: StreamRecord, e: StreamEvent): Explanation {
  const name = safeInline(r.name);
  const sp = speaker(s, all, e.dir);
  const inferred = e.detail === 'first seen mid-stream';
  if (s.kind === 'portforward') {
    return {
      title: `SYN_STREAM ${r.id} opens ${name}`,
      what: `Creates SPDY stream ${r.id} with the headers streamtype: ${baseName(name)}, port and requestID: for every local connection it forwards, kubectl opens an error stream, then a data stream, both with the same requestID.${inferred ? ' The capture missed the SYN_STREAM itself: this stream was first seen mid-way.' : ''}`,
      who: `${sp.who}, because a local program connected to the forwarded port.`,
      origin: `${sp.origin}; the server pairs the two streams by requestID (cri-streaming portforward/httpstream.go).`,
      source: SOURCES.portForward,
    };
  }
  const role = STREAM_ROLE[r.name];
  return {
    title: `SYN_STREAM ${r.id} opens ${name}`,
    what: `${inferred ? `The capture missed this stream's SYN_STREAM (it started later, or lost the header compression context), so its type was inferred from client-go's creation order.` : `A SPDY SYN_STREAM creates stream ${r.id} with the header streamtype: ${name}.`}${role ? ` From now on DATA frames on stream ${r.id} carry ${role}.` : ''}`,
    who: `${sp.who}. The client creates every stream, in a fixed order — error, stdin, stdout, stderr (not with a tty), resize (tty, v3+) — as many as the request's query asked for, and waits up to 30 s for each SYN_REPLY.`,
    origin: `${sp.origin}; client-go streamProtocolV2/V3 createStreams (tools/remotecommand/v2.go, v3.go).`,
    source: SOURCES.streams,
  };
}

function explainReply(s: ExecSession, all: SessionsById, r: StreamRecord, e: StreamEvent): Explanation {
  const sp = speaker(s, all, e.dir);
  return {
    title: `SYN_REPLY ${r.id} accepts ${safeInline(r.name)}`,
    what: `The server answers the SYN_STREAM${r.openedAt !== null ? ` ${formatDuration(Math.max(0, e.ts - r.openedAt))} after it` : ''}: stream ${r.id} now exists at both ends. The client only creates the next stream once this reply is in.`,
    who: `${sp.who}. Its SPDY library (moby/spdystream) replies to each new stream; the exec handler waits (up to 30 s, "timed out waiting for client to create streams") until every stream the query announced exists, then starts the command.`,
    origin: `${sp.origin}; cri-streaming remotecommand/httpstream.go waitForStreams.`,
    source: SOURCES.streams,
  };
}

function explainEstablished(s: ExecSession, all: SessionsById, r: StreamRecord, e: StreamEvent): Explanation {
  const sp = speaker(s, all, e.dir);
  return {
    title: `[0x0${r.id}] connection established`,
    what: `An empty binary message on channel ${r.id} (${safeInline(r.name)}): just the channel byte, no payload. The server writes it once on the lowest channel it can write (stdout, else stderr, else error) to say that the streams are ready.`,
    who: `${sp.who}, right after the 101, before the process has written anything.`,
    origin: `${sp.origin}; the WebSocket stream server's first write (apiserver pkg/util/proxy/websocket.go, cri-streaming remotecommand/websocket.go).`,
    source: SOURCES.channels,
  };
}

function statusWords(s: ExecSession): string {
  const x = s.exit;
  if (!x) return 'execscope could not read an outcome from it.';
  if (x.status === 'Success') return 'Here: status Success — kubectl exits 0.';
  if (x.status === 'Failure' && x.code !== null) {
    return `Here: status Failure, reason ${safeInline(x.reason ?? '')}, and the cause ExitCode carries ${x.code} — kubectl prints "command terminated with exit code ${x.code}" and exits ${x.code}.`;
  }
  if (x.status === 'Failure') return `Here: status Failure${x.reason ? `, reason ${safeInline(x.reason)}` : ''}${x.message ? `: "${safeInline(x.message, 200)}"` : ''} — no exit code: the command did not run to an end.`;
  return 'Here the bytes are not a Status execscope can read: kubectl would report an error decoding it.';
}

function explainData(s: ExecSession, all: SessionsById, r: StreamRecord, e: StreamEvent): Explanation {
  const name = safeInline(r.name);
  const sp = speaker(s, all, e.dir);
  const bytes = `${e.length} B`;
  const carrier =
    s.transport === 'spdy' || isSpdyTunnel(s)
      ? `A DATA frame on SPDY stream ${r.id}`
      : `A binary message whose first byte is the channel, ${r.id} (${name}), followed by the payload`;
  const first = e.streamOffset === 0;
  const base = baseName(r.name);
  if (e.length === 0) {
    return {
      title: `${name}: an empty ${s.transport === 'spdy' || isSpdyTunnel(s) ? 'DATA frame' : 'message'}`,
      what: `${carrier}, with no payload: it carries no bytes of ${name}${s.transport === 'spdy' ? '; an empty DATA frame usually carries a flag (FIN) shown as its own event' : ''}.`,
      who: `${sp.who}.`,
      origin: sp.origin,
      source: s.transport === 'spdy' ? SOURCES.spdyFrames : SOURCES.channels,
    };
  }
  if (s.kind === 'portforward') {
    const fromPod = e.dir === 's2c';
    if (base === 'error') {
      return {
        title: `${name}: the server could not forward`,
        what: `${carrier}: ${bytes} of text on the error stream of one forwarded connection — the server could not reach the pod's port (e.g. "connection refused").`,
        who: `${sp.who}, after it failed to dial the port inside the pod's network namespace.`,
        origin: `${sp.origin}; cri-streaming portforward/httpstream.go portForward (writes the error on the error stream).`,
        source: SOURCES.portForward,
      };
    }
    return {
      title: `${name} ${bytes} ${fromPod ? 'from the pod' : 'to the pod'}`,
      what: `${carrier}: ${bytes} of one forwarded TCP connection, ${fromPod ? "the pod's answer" : 'what the local program sent'} — execscope shows both directions on one data stream.`,
      who: `${sp.who}, copying ${fromPod ? "what the pod's port answered" : 'what a local program wrote to the forwarded port'}.`,
      origin: `${sp.origin}; client-go tools/portforward/portforward.go handleConnection copies both ways.`,
      source: SOURCES.portForward,
    };
  }
  switch (r.name) {
    case 'stdin':
      return {
        title: `stdin ${bytes}${first ? ' — the first stdin bytes' : ''}`,
        what: `${carrier}. ${s.tty ? 'With -t these are your keystrokes, sent as you type them (the terminal is in raw mode, so even Ctrl-C travels as a byte).' : 'kubectl forwards its own stdin (a pipe or a file) in chunks as it reads it.'}`,
        who: `${sp.who}. kubectl copies its stdin onto this stream until it hits EOF; the runtime writes the bytes to the process's stdin.`,
        origin: `${sp.origin}; client-go tools/remotecommand copyStdin (v2.go) / the WebSocket executor's stdin copy.`,
        source: s.transport === 'spdy' ? SOURCES.streams : SOURCES.channels,
      };
    case 'stdout':
    case 'stderr':
      return {
        title: `${name} ${bytes}${first ? ` — the first ${name} byte` : ''}`,
        what: `${carrier}. ${first ? `The first output the process wrote reached this hop ${since(s, e.ts)} after the request${s.upgradeTs !== null ? ` (${formatDuration(Math.max(0, e.ts - s.upgradeTs))} after the 101)` : ''}.` : 'More output, copied as the process writes it.'} ${s.tty ? 'With -t it is exactly what the terminal shows, escape sequences and echoed keystrokes included.' : ''}`.trim(),
        who: `${sp.who}: the process wrote it to its ${r.name}${s.tty ? ' (the pseudo-terminal)' : ''}, the runtime copies it onto the stream, and kubectl writes it to its own ${s.tty ? 'stdout' : r.name}.`,
        origin: `${sp.origin}; cri-streaming remotecommand (copies the process's ${r.name}); client-go tools/remotecommand copies it out on kubectl's side.`,
        source: s.transport === 'spdy' ? SOURCES.streams : SOURCES.channels,
      };
    case 'error': {
      const v4 = /^v[45]\./.test(s.protocol);
      return {
        title: first ? 'error stream: the exit status' : 'error stream: more of the exit status',
        what: `${carrier}: ${bytes}. ${
          v4
            ? 'From v4 on it is a metav1.Status JSON, always written: {"status":"Success"} for exit 0; for a non-zero exit {"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"N"}]}} — kubectl reads the code from the cause whose reason is ExitCode (as a uint8).'
            : 'Before v4 it is plain text, written only on failure (the Status message); success writes nothing, so there is no exit code on the wire.'
        } ${statusWords(s)}`,
        who: `${sp.who}, once the command ended.${s.hop === 'apiserver' && s.transport === 'websocket' ? ' The translator writes its own Status, re-encoded from the one it read on its SPDY leg to the kubelet, so the message text can differ between the legs.' : ''}`,
        origin: `${sp.origin}; cri-streaming remotecommand/httpstream.go (v4WriteStatusFunc); read by client-go tools/remotecommand/v4.go errorDecoderV4.`,
        source: SOURCES.status,
      };
    }
    case 'resize': {
      const size = nearestResize(s, e.ts);
      const sizeText = size ? `${size.width}×${size.height}` : 'a size';
      const initial = size !== null && s.resizes[0] === size;
      return {
        title: `resize ${sizeText}${initial ? ' — the terminal size at start' : ''}`,
        what: `${carrier}: the JSON TerminalSize ${size ? `{"Width":${size.width},"Height":${size.height}}` : ''} and a newline. ${initial ? 'kubectl sends its terminal size first, so the pseudo-terminal starts with the right shape.' : 'Your terminal changed size: kubectl watches for SIGWINCH and sends every new size.'}`,
        who: `${sp.who}; the runtime applies it to the container's pseudo-terminal (the CRI streaming server's resize channel).`,
        origin: `${sp.origin}; client-go tools/remotecommand/resize.go, kubectl's terminal size queue (monitorResizeEvents).`,
        source: SOURCES.resize,
      };
    }
    default:
      return {
        title: `${name} ${bytes}`,
        what: `${carrier}: ${bytes} on a stream execscope does not know the role of.`,
        who: sp.who,
        origin: sp.origin,
        source: s.transport === 'spdy' ? SOURCES.streams : SOURCES.channels,
      };
  }
}

function nearestResize(s: ExecSession, ts: number): ExecSession['resizes'][number] | null {
  let best: ExecSession['resizes'][number] | null = null;
  for (const r of s.resizes) if (!best || Math.abs(r.ts - ts) < Math.abs(best.ts - ts)) best = r;
  return best;
}

function explainHalfClose(s: ExecSession, all: SessionsById, r: StreamRecord, e: StreamEvent): Explanation {
  const name = safeInline(r.name);
  const sp = speaker(s, all, e.dir);
  const v5 = e.detail === 'v5 CLOSE signal';
  const why =
    r.name === 'stdin' && e.dir === 'c2s'
      ? "kubectl's own stdin reached its end (EOF), so it closes the stream: that is how the process sees EOF. A command that reads stdin to the end (cat, sort) would wait forever without it."
      : e.dir !== r.dataDir
        ? 'This side never writes on this stream, so it closes its half at once.'
        : r.name === 'error'
          ? 'The Status is written; nothing more comes on the error stream.'
          : `The process closed its ${r.name} (usually: it exited).`;
  if (v5) {
    return {
      title: `[0xFF, ${CHANNELS[r.name] ?? r.id}] close ${name}`,
      what: `v5's close signal: a 2-byte binary message, 0xFF then the channel number, half-closes that channel. Only v5.channel.k8s.io has it: over v1–v4 WebSocket a client cannot say "no more stdin".`,
      who: `${sp.who}. ${why}`,
      origin: `${sp.origin}; client-go tools/remotecommand/websocket.go stream.Close(); read by wsstream/conn.go handle.`,
      source: SOURCES.channels,
    };
  }
  return {
    title: `FIN on ${streamCarrier(s, r)}: ${name} half-closed`,
    what: `A DATA frame with the FIN flag (usually empty): the sender will write nothing more on ${name}; the other direction stays open.`,
    who: `${sp.who}. ${why}`,
    origin: `${sp.origin}; moby/spdystream stream.go Close().`,
    source: r.name === 'stdin' ? SOURCES.stdinEof : SOURCES.spdyEnd,
  };
}

function explainReset(s: ExecSession, all: SessionsById, title: string, e: { ts: number; dir: StreamEvent['dir'] }): Explanation {
  const sp = speaker(s, all, e.dir);
  const afterStatus = lastDataAt(s.streams.find((x) => x.name === 'error'));
  const normal = afterStatus !== null && afterStatus <= e.ts;
  return {
    title,
    what: `RST_STREAM ends the stream at once, in both directions. ${
      normal
        ? 'It came after the Status: the normal end of a Kubernetes SPDY session — the connection wrapper resets every stream (CANCEL), then sends GOAWAY.'
        : s.kind === 'portforward'
          ? 'On a port-forward each forwarded connection ends this way when one side closes it.'
          : 'It came before any Status: the session was cut short.'
    }`,
    who: `${sp.who}.`,
    origin: `${sp.origin}; apimachinery pkg/util/httpstream/spdy/connection.go Close (resets all streams), moby/spdystream stream.go Reset.`,
    source: SOURCES.spdyEnd,
  };
}

function explainStreamEvent(s: ExecSession, all: SessionsById, r: StreamRecord, e: StreamEvent): Explanation {
  switch (e.kind) {
    case 'open':
      return explainOpen(s, all, r, e);
    case 'reply':
      return explainReply(s, all, r, e);
    case 'established':
      return explainEstablished(s, all, r, e);
    case 'data':
      return explainData(s, all, r, e);
    case 'half-close':
      return explainHalfClose(s, all, r, e);
    case 'reset':
      return explainReset(s, all, `RST_STREAM ${r.id} ${safeInline(e.detail ?? '')}: ${safeInline(r.name)} reset`.replace('  ', ' '), e);
  }
}

const URL_FORM: Record<string, string> = {
  apiserver: 'the apiserver\'s pods subresource URL (/api/v1/namespaces/NS/pods/POD/exec?command=…&stdin=…&tty=…)',
  kubelet: "the kubelet's streaming URL (/exec/NS/POD/CONTAINER?command=…&input=1&output=1&tty=1), chosen by the apiserver's pods/exec REST handler",
  cri: "the runtime's streaming URL (/exec/TOKEN): the kubelet called the runtime's CRI Exec over gRPC and got back this one-time URL",
};

const REQUEST_ORIGIN: Record<string, string> = {
  apiserver: 'kubectl pkg/cmd/exec/exec.go (NewFallbackExecutor: WebSocket first, SPDY second)',
  kubelet: 'apiserver pkg/registry/core/pod/rest/subresources.go (ExecREST → the kubelet location) and pkg/util/proxy',
  cri: 'kubelet pkg/kubelet/server/server.go getExec → CRI RuntimeService/Exec → proxyStream',
};

function explainRequest(s: ExecSession, all: SessionsById, e: ControlEvent): Explanation {
  const sp = speaker(s, all, 'c2s');
  const offered = s.offeredProtocols.map((p) => safeInline(p)).join(', ') || 'nothing';
  const ws = s.transport === 'websocket';
  const how = ws
    ? `a GET (RFC 6455 requires it) with Upgrade: websocket and Sec-WebSocket-Protocol offering ${offered}`
    : `a POST with Upgrade: SPDY/3.1 and X-Stream-Protocol-Version offering ${offered}`;
  const fallback =
    s.fallbackFrom !== null
      ? ` This is kubectl's second try: the WebSocket upgrade of session #${s.fallbackFrom} was refused, so its fallback executor asked again over SPDY.`
      : '';
  const refused =
    s.state === 'upgrade-failed'
      ? ` The server refused it: HTTP ${s.httpStatus ?? '?'}${s.refusal?.message ? ` "${safeInline(s.refusal.message, 200)}"` : ''}.${ws ? ' kubectl treats a refused WebSocket upgrade as a reason to fall back to SPDY on a new connection.' : ''}`
      : '';
  return {
    title: `${safeInline(e.detail)} — asks for an upgrade`,
    what: `An HTTP/1.1 request to ${URL_FORM[s.hop] ?? 'an exec URL'}: ${how}. The query says which streams to open${s.tty ? ' (here with a tty)' : ''}.${fallback}${refused}`,
    who: `${sp.who}${s.hop === 'apiserver' ? ', for kubectl exec/attach/port-forward' : ', passing the exec one hop closer to the container'}.`,
    origin: `${REQUEST_ORIGIN[s.hop] ?? sp.origin}.`,
    source: s.fallbackFrom !== null || (ws && s.state === 'upgrade-failed') ? SOURCES.fallback : SOURCES.legs,
  };
}

const VERSION_ADDS: Record<string, string> = {
  'channel.k8s.io': 'v1: stdin, stdout, stderr; the outcome as plain text, only on failure',
  'v2.channel.k8s.io': 'v2: fixes stdin EOF; outcome still plain text',
  'v3.channel.k8s.io': 'v3: adds the resize stream',
  'v4.channel.k8s.io': 'v4: the outcome becomes a Status JSON with the exit code, always written',
  'v5.channel.k8s.io': 'v5: adds the close signal that half-closes a channel (WebSocket only)',
  'portforward.k8s.io': 'port-forward: a data and an error stream per forwarded connection',
  'SPDY/3.1+portforward.k8s.io': "port-forward's SPDY carried inside WebSocket binary messages",
};

function explainUpgrade(s: ExecSession, all: SessionsById, e: ControlEvent): Explanation {
  const sp = speaker(s, all, 's2c');
  const p = safeInline(s.protocol) || 'none';
  const adds = VERSION_ADDS[s.protocol];
  const spdy = s.transport === 'spdy';
  return {
    title: `101 Switching Protocols, ${p}`,
    what: `The server accepts the upgrade: from here on this TCP connection speaks ${spdy ? 'SPDY/3.1' : 'WebSocket'} instead of HTTP. Negotiated: ${p}, the first protocol the client listed that the server supports${adds ? ` (${adds})` : ''}.${spdy ? ' Over SPDY the servers support v1–v4 only, so SPDY never negotiates v5.' : ''}`,
    who: `${sp.who}${s.upgradeTs !== null ? `, ${formatDuration(Math.max(0, s.upgradeTs - s.requestOrigin.lastTs))} after the request` : ''}.`,
    origin: `${sp.origin}; ${spdy ? 'apimachinery pkg/util/httpstream/httpstream.go Handshake' : 'wsstream (apiserver websocket.go) Sec-WebSocket-Protocol negotiation'}.`,
    source: spdy ? `${SOURCES.spdyUpgrade}; ${SOURCES.versions}` : `${SOURCES.wsUpgrade}; ${SOURCES.versions}`,
  };
}

function explainPing(s: ExecSession, all: SessionsById, e: ControlEvent): Explanation {
  const sp = speaker(s, all, e.dir);
  const unanswered = e.detail.includes('never answered');
  if (frameWord(s, e) === 'SPDY') {
    return {
      title: `${safeInline(e.detail)}`,
      what: `A SPDY PING: a keepalive with an id (odd from the client, even from the server) that the other side echoes. kubectl pings every 5 s (client-go ≥ 1.21), the apiserver translator's SPDY leg only since 1.33 — a leg without pings is one an idle load balancer drops.${unanswered ? ' This one was never answered: SPDY only logs a failed ping, it does not end the session.' : ''}`,
      who: `${sp.who}, to keep idle middleboxes from dropping the connection.`,
      origin: `${sp.origin}; client-go transport/spdy/spdy.go PingPeriod, apimachinery spdy/connection.go sendPings.`,
      source: `${SOURCES.spdyPing}; ${SOURCES.timers}`,
    };
  }
  return {
    title: `WebSocket ping (${safeInline(e.detail)})`,
    what: `A WebSocket ping control frame. client-go's WebSocket executor pings every 5 s and gives up after 61 s without a pong (12 missed pings and a second): the session ends with a read timeout.${unanswered ? ' This one was never answered.' : ''}`,
    who: `${sp.who}, to check the other side is still there.`,
    origin: `${sp.origin}; client-go tools/remotecommand/websocket.go (ping period, pong deadline).`,
    source: SOURCES.timers,
  };
}

function explainPong(s: ExecSession, all: SessionsById, e: ControlEvent): Explanation {
  const sp = speaker(s, all, e.dir);
  const spdy = frameWord(s, e) === 'SPDY';
  return {
    title: safeInline(e.detail),
    what: spdy
      ? 'The PING echoed back with the same id: the round trip measures the whole path behind this hop, since proxies relay pings like any frame.'
      : 'The pong answering a WebSocket ping; the WebSocket library sends it by itself.',
    who: `${sp.who}, answering automatically.`,
    origin: `${sp.origin}; ${spdy ? 'moby/spdystream connection.go handlePingFrame' : 'the WebSocket library (golang.org/x/net/websocket, gorilla/websocket)'}.`,
    source: spdy ? SOURCES.spdyPing : SOURCES.timers,
  };
}

function explainControl(s: ExecSession, all: SessionsById, e: ControlEvent): Explanation {
  const sp = speaker(s, all, e.dir);
  const detail = safeInline(e.detail);
  switch (e.kind) {
    case 'request':
    case 'poll':
      return explainRequest(s, all, e);
    case 'upgrade':
      return explainUpgrade(s, all, e);
    case 'ping':
      return explainPing(s, all, e);
    case 'pong':
      return explainPong(s, all, e);
    case 'rst':
      return explainReset(s, all, detail, e);
    case 'goaway':
      return {
        title: detail,
        what: 'GOAWAY: the sender will accept no new streams; the last-good id says which streams it processed. Kubernetes sends it when it closes the connection, after resetting every stream — the normal end of a SPDY session.',
        who: `${sp.who}, closing the connection.`,
        origin: `${sp.origin}; moby/spdystream connection.go Close, called by apimachinery pkg/util/httpstream/spdy/connection.go Close.`,
        source: SOURCES.spdyEnd,
      };
    case 'close':
      return {
        title: `WebSocket ${detail}`,
        what: `A WebSocket Close frame${/\b1000\b/.test(e.detail) ? ' with 1000 (normal closure)' : ''}. ${
          e.dir === 's2c'
            ? 'The server writes the Status on the error channel, then closes the WebSocket.'
            : "The client's side of the closing handshake (or its own close): after a Close neither side sends data."
        }`,
        who: `${sp.who}, ending the session.`,
        origin: `${sp.origin}; ${e.dir === 's2c' ? "the WebSocket stream server's Close after the Status" : 'the WebSocket library answering or sending a Close'}.`,
        source: `${SOURCES.channels}; ${SOURCES.sequences}`,
      };
    case 'window-update':
      return {
        title: detail,
        what: 'WINDOW_UPDATE: SPDY/3.1 flow-control credit. Kubernetes\' SPDY library parses it and ignores it — there is no flow control, so one slow reader can block every stream of the connection.',
        who: `${sp.who}.`,
        origin: `${sp.origin}; moby/spdystream connection.go.`,
        source: SOURCES.flowControl,
      };
    case 'flow-control':
      return {
        title: 'flow-control window exhausted',
        what: `${detail}.`,
        who: `${sp.who}, sending past the window a flow-controlled peer would have granted.`,
        origin: `${sp.origin}; moby/spdystream does not enforce SPDY windows.`,
        source: SOURCES.flowControl,
      };
    case 'settings':
      return {
        title: detail,
        what: 'A SPDY SETTINGS frame (or a control frame execscope does not interpret): connection parameters; Kubernetes does not depend on them.',
        who: `${sp.who}.`,
        origin: `${sp.origin}; moby/spdystream.`,
        source: SOURCES.spdyFrames,
      };
    case 'gap':
      return {
        title: `bytes missing: ${detail}`,
        what: 'The capture lost bytes here (not the connection: TCP delivered them). Decoding resumes at the next frame boundary it can find.',
        who: 'Nobody sent this: it is a hole in the capture (a full buffer, a missed packet).',
        origin: 'execscope TCP reassembly (src/net).',
        source: SOURCES.capture,
      };
  }
}

/** The explanation of one event of session `s` (`all`: every session of the capture, for the hop links). */
export function explainEvent(s: ExecSession, all: SessionsById, ref: SessionEventRef): Explanation {
  if (s.hop === 'docker') return ref.stream ? explainDockerStream(s, ref.stream, ref.event) : explainDockerControl(s, ref.event);
  return ref.stream ? explainStreamEvent(s, all, ref.stream, ref.event) : explainControl(s, all, ref.event);
}

/** Its fields as labelled lines, for the text report and the TUI. */
export function explanationLines(x: Explanation): [label: string, text: string][] {
  return [
    ['what', x.what],
    ['who', x.who],
    ['where', x.origin],
    ['source', x.source],
  ];
}
