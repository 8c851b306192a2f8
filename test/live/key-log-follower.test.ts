/**
 * A followed key log and a secret logged just after the decoder asked for it: the lookup waits for
 * it (another process appends it meanwhile); a secret that never comes is given up on once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followKeyLogs } from '../../src/live/key-log-follower.js';

const random = (byte: string) => byte.repeat(32);
const secret = 'ab'.repeat(32);

describe('followKeyLogs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'keylog-follow-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a missed secret appended by another process while the decoder waits is found; one that never comes is given up', async () => {
    const path = join(dir, 'keys.log');
    writeFileSync(path, `SERVER_HANDSHAKE_TRAFFIC_SECRET ${random('11')} ${secret}\n`);
    const followed = followKeyLogs([path]);
    try {
      expect(followed.keys.get('SERVER_HANDSHAKE_TRAFFIC_SECRET', random('11'))).toBeDefined();
      // The server logs the client's application secret after the packet was captured: a writer
      // started now appends it while the lookup (synchronous, as the decoder's) waits.
      const writer = spawn('sh', ['-c', `printf 'CLIENT_TRAFFIC_SECRET_0 %s %s\\n' ${random('11')} ${secret} >> ${path}`], { stdio: 'ignore' });
      const written = new Promise((resolve) => writer.once('exit', resolve));
      expect(Buffer.from(followed.keys.get('CLIENT_TRAFFIC_SECRET_0', random('11'))!).toString('hex')).toBe(secret);
      expect(await written).toBe(0);
      // Never logged: undefined after the wait, and the random is not waited for again.
      expect(followed.keys.get('CLIENT_TRAFFIC_SECRET_0', random('22'))).toBeUndefined();
      expect(followed.keys.get('SERVER_TRAFFIC_SECRET_0', random('22'))).toBeUndefined();
      expect(followed.problems).toEqual([]);
    } finally {
      followed.stop();
    }
  });

  test('without files nothing is waited for', () => {
    const followed = followKeyLogs([]);
    expect(followed.keys.onMiss).toBeNull();
    followed.stop();
  });
});
