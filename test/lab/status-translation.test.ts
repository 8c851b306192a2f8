import { goQueryEscape, kubeletTarget } from '../../src/lab/apiserver.js';
import { statusFor } from '../../src/lab/exec-runner.js';
import { translateStatus } from '../../src/lab/stream-translator.js';
import { parseStreamingRequest } from '../../src/k8s/exec-request.js';

describe('statusFor: what the runtime writes for a process result', () => {
  test('v4+: a Status JSON for every outcome', () => {
    expect(statusFor({ kind: 'exited', exitCode: 0 }, ['true'], 'json')).toBe('{"metadata":{},"status":"Success"}');
    expect(JSON.parse(statusFor({ kind: 'exited', exitCode: 7 }, ['sh', '-c', 'exit 7'], 'json')!)).toMatchObject({
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 7], exit code 7',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    });
    expect(JSON.parse(statusFor({ kind: 'failed', message: 'no such thing' }, ['x'], 'json')!)).toMatchObject({
      message: 'Internal error occurred: error executing command in container: no such thing',
      reason: 'InternalError',
      code: 500,
    });
  });

  test('v1–v3: nothing on success, the message text on failure', () => {
    expect(statusFor({ kind: 'exited', exitCode: 0 }, ['true'], 'text')).toBeNull();
    expect(statusFor({ kind: 'exited', exitCode: 1 }, ['false'], 'text')).toBe('command terminated with non-zero exit code: error executing command [false], exit code 1');
  });
});

describe('translateStatus: the apiserver translator re-encodes what the kubelet reported', () => {
  test('empty error stream → Success (client-go reads it as success)', () => {
    expect(translateStatus(Buffer.alloc(0))).toBe('{"metadata":{},"status":"Success"}');
  });

  test('non-zero exit → its own NonZeroExitCode Status around the decoded code', () => {
    const kubelet = statusFor({ kind: 'exited', exitCode: 3 }, ['x'], 'json')!;
    expect(JSON.parse(translateStatus(Buffer.from(kubelet)))).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: command terminated with exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  test('other failures become an InternalError around the message; garbage is a protocol error', () => {
    const kubelet = statusFor({ kind: 'failed', message: 'nope' }, ['x'], 'json')!;
    expect(JSON.parse(translateStatus(Buffer.from(kubelet))).message).toBe(
      'Internal error occurred: Internal error occurred: error executing command in container: nope',
    );
    expect(JSON.parse(translateStatus(Buffer.from('not json'))).message).toMatch(/^Internal error occurred: error stream protocol error: /);
    expect(JSON.parse(translateStatus(Buffer.from('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"300"}]}}'))).message).toBe(
      'Internal error occurred: error stream protocol error: invalid exit code value "300"',
    );
  });
});

describe('kubeletTarget: the URL ExecLocation builds', () => {
  test('streamParams, keys sorted, Go query escaping', () => {
    const req = parseStreamingRequest('GET', '/api/v1/namespaces/ns/pods/web/exec?command=sh&command=-c&command=echo+a%2Ab~%21&stdin=true&stdout=true&tty=true&container=c')!;
    expect(kubeletTarget(req, 'c')).toBe('/exec/ns/web/c?command=sh&command=-c&command=echo+a%2Ab~%21&input=1&output=1&tty=1');
  });

  test('goQueryEscape keeps only unreserved bytes', () => {
    expect(goQueryEscape("a b*(')!~é")).toBe('a+b%2A%28%27%29%21~%C3%A9');
  });
});
