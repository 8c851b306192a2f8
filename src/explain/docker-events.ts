/**
 * Explanations for the events of a docker session (hop `docker`): Engine API calls, the hijack,
 * the raw or stdcopy-multiplexed stream, stdin's EOF as a TCP half-close, and inspect polls.
 */
import type { ControlEvent, ExecSession, StreamEvent, StreamRecord } from '../model/session.js';
import { safeInline } from '../report/terminal-text.js';
import type { Explanation } from './explain-event.js';
import { SOURCES } from './sources.js';

const CLIENT = {
  who: 'the docker client (the docker CLI, or dockershim/cri-dockerd inside the kubelet)',
  origin: 'moby client/container_exec.go, client/hijack.go; docker/cli cli/command/container/exec.go',
};
const DAEMON = { who: 'dockerd', origin: 'moby api/server/router/container/exec.go, container_routes.go' };

const CALLS: [RegExp, string][] = [
  [/\/exec$/, 'Creates the exec: the JSON body names the command, whether it gets a TTY and which of stdin/stdout/stderr to attach; the answer is the exec id every later call uses.'],
  [/\/exec\/[^/]+\/start$/, 'Starts the exec and asks to take the connection over (Connection: Upgrade, Upgrade: tcp); from the answer on, the connection carries the process\'s stdio, not HTTP.'],
  [/\/resize/, 'Sets the TTY size (h rows, w columns) — its own short HTTP request, not a message on the stream.'],
  [/\/attach$/, "Attaches to the container's main process and takes the connection over, like an exec start."],
  [/\/wait/, "Waits for the container to exit; the answer's StatusCode is its exit code."],
  [/\/start$/, 'Starts the container.'],
];

export function explainDockerControl(s: ExecSession, e: ControlEvent): Explanation {
  const detail = safeInline(e.detail);
  const sp = e.dir === 'c2s' ? CLIENT : DAEMON;
  if (e.kind === 'poll') {
    return {
      title: detail,
      what: `An inspect of the exec (GET /exec/ID/json): Running, and ExitCode once the process ended. The stream never carries the exit code, so a client asks for it after the stream closes — dockershim polled every 2 s, at most 5 times, and then reported success even if the process still ran.`,
      who: `${DAEMON.who}, answering ${CLIENT.who}.`,
      origin: `${DAEMON.origin} (getExecByID → ExecInspect).`,
      source: SOURCES.docker,
    };
  }
  if (e.kind === 'upgrade') {
    return {
      title: detail,
      what: `The hijack: ${s.httpStatus === 101 ? '101 UPGRADED answers the Upgrade: tcp request' : '200 OK with the raw-stream media type, the older form without Upgrade'}; after this head the connection is the process's stdio — ${s.tty ? 'raw bytes, as the TTY shows them' : 'stdout and stderr in stdcopy frames (an 8-byte header: stream type, size)'}.`,
      who: `${DAEMON.who}, taking the connection over from its HTTP server.`,
      origin: `${DAEMON.origin} postContainerExecStart / httputils.HijackConnection.`,
      source: SOURCES.docker,
    };
  }
  const path = e.detail.split(' ')[1] ?? '';
  const what = CALLS.find(([re]) => re.test(path))?.[1] ?? 'An Engine API call of this exec.';
  return {
    title: detail,
    what: e.dir === 'c2s' ? what : `The answer to it. ${what}`,
    who: `${sp.who}.`,
    origin: `${sp.origin}.`,
    source: SOURCES.docker,
  };
}

export function explainDockerStream(s: ExecSession, r: StreamRecord, e: StreamEvent): Explanation {
  const name = safeInline(r.name);
  if (e.kind === 'half-close' && e.dir === 'c2s') {
    return {
      title: 'stdin EOF: the client closed its write side',
      what: 'A TCP FIN from the client while it still reads: the hijacked stream has no frame to end stdin, so the client half-closes the connection (CloseWrite) and dockerd closes the process\'s stdin.',
      who: `${CLIENT.who}, at the end of its stdin.`,
      origin: `${CLIENT.origin} (holdHijackedConnection → CloseWrite).`,
      source: SOURCES.docker,
    };
  }
  const sp = e.dir === 'c2s' ? CLIENT : DAEMON;
  const carrier = e.dir === 'c2s' || s.tty ? 'raw bytes on the hijacked connection' : `a stdcopy frame of stream type ${r.id} (${name})`;
  return {
    title: `${name} ${e.kind === 'data' ? `${e.length} B` : e.kind}`,
    what: `${e.kind === 'data' ? `${e.length} B of ${name}` : `${name} ${e.kind}`}, as ${carrier}.`,
    who: `${sp.who}${e.dir === 'c2s' ? ', copying its stdin' : ", copying the process's output"}.`,
    origin: `${sp.origin}${e.dir === 's2c' && !s.tty ? '; moby pkg/stdcopy/stdcopy.go' : ''}.`,
    source: SOURCES.docker,
  };
}
