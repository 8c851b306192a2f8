import { readdirSync, readFileSync } from 'node:fs';
import { parseExecStatus, parseRefusalStatus } from '../../src/k8s/status.js';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

interface TruthSession {
  negotiated_subprotocol: string;
  status_json: string | null;
  status: string;
  status_reason: string | null;
  status_message: string | null;
  exit_code: number;
}

const truthSessions: [string, TruthSession][] = readdirSync('fixtures')
  .filter((f) => f.endsWith('.truth.json'))
  .flatMap((f) => (JSON.parse(readFileSync(`fixtures/${f}`, 'utf8')).sessions as TruthSession[]).map((s): [string, TruthSession] => [f, s]));

describe('real error-stream payloads (fixtures/*.truth.json)', () => {
  it('has a status for every session', () => {
    expect(truthSessions.map(([, s]) => s.status_json === null)).toEqual(truthSessions.map(() => false));
  });

  it.each(truthSessions)('%s', (_file, s) => {
    const outcome = parseExecStatus(enc(s.status_json!), s.negotiated_subprotocol);
    expect(outcome.status).toBe(s.status);
    expect(outcome.code).toBe(s.exit_code);
    // The truth writes null where the Status had no such field.
    expect(outcome.reason).toBe(s.status_reason ?? undefined);
    expect(outcome.message).toBe(s.status_message ?? undefined);
  });
});

describe('v4/v5 Status shapes (PROTOCOL.md 2.7)', () => {
  it.each(['v4.channel.k8s.io', 'v5.channel.k8s.io', 'v4.base64.channel.k8s.io'])('Success with and without metadata over %s', (protocol) => {
    expect(parseExecStatus(enc('{"metadata":{},"status":"Success"}'), protocol)).toEqual({ status: 'Success', code: 0 });
    expect(parseExecStatus(enc('{"status":"Success"}'), protocol)).toEqual({ status: 'Success', code: 0 });
  });

  it('NonZeroExitCode takes the code from the ExitCode cause', () => {
    const json =
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [false], exit code 7","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}';
    expect(parseExecStatus(enc(json), 'v4.channel.k8s.io')).toEqual({
      status: 'Failure',
      code: 7,
      reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [false], exit code 7',
    });
  });

  it('finds the ExitCode cause among others and keeps kubectl’s uint8 range', () => {
    const status = (message: string) =>
      enc(`{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"Other","message":"x"},{"reason":"ExitCode","message":"${message}"}]}}`);
    expect(parseExecStatus(status('255'), 'v5.channel.k8s.io').code).toBe(255);
    expect(parseExecStatus(status('0'), 'v5.channel.k8s.io').code).toBe(0);
    expect(parseExecStatus(status('256'), 'v5.channel.k8s.io')).toEqual({ status: 'Failure', code: null, reason: 'NonZeroExitCode' });
    expect(parseExecStatus(status('-1'), 'v5.channel.k8s.io').code).toBeNull();
    expect(parseExecStatus(status('3x'), 'v5.channel.k8s.io').code).toBeNull();
    expect(parseExecStatus(enc('{"status":"Failure","reason":"NonZeroExitCode"}'), 'v4.channel.k8s.io')).toEqual({ status: 'Failure', code: null, reason: 'NonZeroExitCode' });
  });

  it('InternalError keeps reason, message and the HTTP code', () => {
    const json =
      '{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed","reason":"InternalError","details":{"causes":[{"message":"error executing command in container: failed to exec in container: OCI runtime exec failed"}]},"code":500}';
    expect(parseExecStatus(enc(json), 'v4.channel.k8s.io')).toEqual({
      status: 'Failure',
      code: null,
      reason: 'InternalError',
      message: 'Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed',
      httpCode: 500,
    });
  });

  it.each([
    ['', ''],
    ['not json at all', 'not json at all'],
    ['{"metadata":{}}', '{"metadata":{}}'],
    ['["Success"]', '["Success"]'],
    ['{"status":"Unknown"}', '{"status":"Unknown"}'],
    ['{"status":true}', '{"status":true}'],
    ['\u0000\u001b[31mboom\n', '\ufffd\ufffd[31mboom'],
  ])('anything else is Invalid with a printable excerpt: %j', (payload, message) => {
    expect(parseExecStatus(enc(payload), 'v4.channel.k8s.io')).toEqual({ status: 'Invalid', code: null, message });
  });

  it('clips a long invalid payload', () => {
    const outcome = parseExecStatus(enc('x'.repeat(100_000)), 'v5.channel.k8s.io');
    expect(outcome).toEqual({ status: 'Invalid', code: null, message: `${'x'.repeat(200)}…` });
  });
});

describe('before v4: plain text', () => {
  it.each(['channel.k8s.io', 'v2.channel.k8s.io', 'v3.channel.k8s.io', 'base64.channel.k8s.io'])('%s: text is a Failure without code, nothing is Success', (protocol) => {
    expect(parseExecStatus(enc('command terminated with non-zero exit code: Error executing in Docker Container: 1\n'), protocol)).toEqual({
      status: 'Failure',
      code: null,
      message: 'command terminated with non-zero exit code: Error executing in Docker Container: 1',
    });
    expect(parseExecStatus(new Uint8Array(0), protocol)).toEqual({ status: 'Success', code: 0 });
  });

  it('does not read JSON-looking text as a Status', () => {
    expect(parseExecStatus(enc('{"status":"Success"}'), 'v3.channel.k8s.io')).toEqual({ status: 'Failure', code: null, message: '{"status":"Success"}' });
  });
});

describe('unknown protocol', () => {
  it('takes a Status when there is one, text otherwise', () => {
    expect(parseExecStatus(enc('{"metadata":{},"status":"Success"}'), '')).toEqual({ status: 'Success', code: 0 });
    expect(parseExecStatus(enc('error forwarding port 80 to pod abc: connection refused'), 'portforward.k8s.io')).toEqual({
      status: 'Failure',
      code: null,
      message: 'error forwarding port 80 to pod abc: connection refused',
    });
  });
});

describe('parseRefusalStatus', () => {
  it('reads an apiserver Status body', () => {
    const body =
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"demo-0\\" is forbidden: User \\"bob\\" cannot create resource \\"pods/exec\\" in API group \\"\\" in the namespace \\"default\\"","reason":"Forbidden","details":{"name":"demo-0","kind":"pods"},"code":403}';
    expect(parseRefusalStatus(enc(body), 403)).toEqual({
      code: 403,
      reason: 'Forbidden',
      message: 'pods "demo-0" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    });
  });

  it('reads the plain-text answer of a failed protocol negotiation', () => {
    const body = 'unable to upgrade: unable to negotiate protocol: client supports [v5.channel.k8s.io], server supports [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]\n';
    expect(parseRefusalStatus(enc(body), 403)).toEqual({ code: 403, message: body.trim() });
  });

  it('copes with an empty body and a Status without message', () => {
    expect(parseRefusalStatus(new Uint8Array(0), 400)).toEqual({ code: 400, message: '' });
    expect(parseRefusalStatus(enc('{"status":"Failure","reason":"BadRequest"}'), 400)).toEqual({ code: 400, reason: 'BadRequest', message: '' });
  });
});
