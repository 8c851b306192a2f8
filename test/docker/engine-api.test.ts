/** The Engine API calls of an exec or attach, and their JSON bodies (moby's router paths and types). */
import { parseEngineCall, parseExecInspect, parseProcessConfig, parseWaitResult, shortDockerId } from '../../src/docker/engine-api.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const ID = 'cc4fc8e49cadbb8bc41437dc2f9979a72293eabc3f0ea5ce48b77f43cb1f1d5e';

describe('parseEngineCall', () => {
  it('recognises each call of an exec, with or without the API version prefix', () => {
    expect(parseEngineCall('POST', `/v1.41/containers/c1/exec`)).toEqual({ op: 'exec-create', container: 'c1' });
    expect(parseEngineCall('POST', `/exec/${ID}/start`)).toEqual({ op: 'exec-start', exec: ID });
    expect(parseEngineCall('POST', `/v1.44/exec/${ID}/resize?h=40&w=120`)).toEqual({ op: 'exec-resize', exec: ID, size: { width: 120, height: 40 } });
    expect(parseEngineCall('GET', `/v1.41/exec/${ID}/json`)).toEqual({ op: 'exec-inspect', exec: ID });
  });

  it('recognises an attach with its stream flags, the container resize, wait, start and create', () => {
    expect(parseEngineCall('POST', `/v1.41/containers/${ID}/attach?stderr=1&stdin=1&stdout=1&stream=1`)).toEqual({
      op: 'attach', container: ID, stdin: true, stdout: true, stderr: true, stream: true, logs: false,
    });
    expect(parseEngineCall('POST', `/containers/x/attach?stdin=false&stdout=True&logs=0`)).toMatchObject({ stdin: false, stdout: true, logs: false });
    expect(parseEngineCall('POST', `/v1.41/containers/${ID}/resize?h=69&w=134`)).toEqual({ op: 'container-resize', container: ID, size: { width: 134, height: 69 } });
    expect(parseEngineCall('POST', `/v1.41/containers/${ID}/wait?condition=next-exit`)).toEqual({ op: 'container-wait', container: ID, condition: 'next-exit' });
    expect(parseEngineCall('POST', `/containers/${ID}/start`)).toEqual({ op: 'container-start', container: ID });
    expect(parseEngineCall('POST', `/v1.41/containers/create?name=web`)).toEqual({ op: 'container-create', name: 'web' });
  });

  it('leaves everything else, and k8s streaming paths, alone', () => {
    for (const [m, t] of [
      ['HEAD', '/_ping'],
      ['GET', '/v1.41/containers/json'],
      ['GET', `/exec/${ID}/start`],
      ['POST', '/exec/sometoken'],
      ['POST', '/exec/default/web-0/app?command=sh'],
      ['POST', '/v1.41/containers//exec'],
      ['POST', '/containers/%zz/exec'],
      ['POST', `/exec/${ID}/start/more`],
      ['POST', '/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true'],
      ['POST', '/v1.41/containers/%zz/exec/more'],
    ]) {
      expect(parseEngineCall(m, t)).toBeNull();
    }
  });

  it('takes a resize without both sizes as a resize of unknown size', () => {
    expect(parseEngineCall('POST', '/exec/e/resize?h=abc')).toEqual({ op: 'exec-resize', exec: 'e', size: null });
  });
});

describe('JSON bodies', () => {
  it('keeps the exec config but only the names of its environment variables', () => {
    const body = ascii(JSON.stringify({ Cmd: ['sh', '-c', 'echo hi'], Tty: false, AttachStdin: true, AttachStdout: true, AttachStderr: true, User: 'nobody', WorkingDir: '/tmp', Env: ['TOKEN=s3cret', 'A=b=c'] }));
    const c = parseProcessConfig(body)!;
    expect(c).toEqual({ command: ['sh', '-c', 'echo hi'], tty: false, stdin: true, stdout: true, stderr: true, user: 'nobody', workingDir: '/tmp', env: ['TOKEN', 'A'] });
    expect(JSON.stringify(c)).not.toContain('s3cret');
  });

  it('reads a container config: entrypoint then cmd, OpenStdin', () => {
    expect(parseProcessConfig(ascii('{"Entrypoint":["/init"],"Cmd":["sh"],"Tty":true,"OpenStdin":true}'))).toMatchObject({ command: ['/init', 'sh'], tty: true, stdin: true });
  });

  it('gives null (never throws) for bodies that are not JSON objects', () => {
    for (const b of ['', '[1]', 'null', '{"Cmd":', '\u001b[2J']) expect(parseProcessConfig(ascii(b))).toBeNull();
    expect(parseProcessConfig(ascii('{"Cmd":[1,"x",null],"Tty":"yes","Env":"X=1"}'))).toMatchObject({ command: ['x'], tty: null, env: ['X'] });
  });

  it('reads inspect and wait answers', () => {
    expect(parseExecInspect(ascii('{"ID":"x","Running":false,"ExitCode":3,"Pid":42}'))).toEqual({ running: false, exitCode: 3, pid: 42 });
    expect(parseExecInspect(ascii('{"Running":true,"ExitCode":null}'))).toEqual({ running: true, exitCode: null, pid: null });
    expect(parseWaitResult(ascii('{"Error":null,"StatusCode":0}'))).toEqual({ statusCode: 0, error: null });
    expect(parseWaitResult(ascii('{"Error":{"Message":"boom"},"StatusCode":137}'))).toEqual({ statusCode: 137, error: 'boom' });
  });

  it('shortens 64-hex ids as docker prints them, names stay', () => {
    expect(shortDockerId(ID)).toBe('cc4fc8e49cad');
    expect(shortDockerId('web')).toBe('web');
  });
});
