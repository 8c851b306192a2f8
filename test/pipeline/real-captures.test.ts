/**
 * Every real kubectl capture in fixtures/ decodes to the truth its server recorded
 * (the same comparison as ../shared/check-captures.mjs, run in-process on the pipeline).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { InlineStreamHasher } from '../../src/k8s/stream-hasher.js';
import type { ExecSession } from '../../src/model/session.js';

const dir = join(process.cwd(), 'fixtures');
const truths = readdirSync(dir).filter((f) => f.endsWith('.truth.json'));

interface TruthBytes { length: number; sha256: string }
interface TruthSession {
  client_addr: string; server_addr: string; transport: string; negotiated_subprotocol: string; http_status: number;
  namespace: string; pod: string; container: string; command: string[]; tty: boolean; end: string;
  stdin_bytes: TruthBytes | null; stdout_bytes: TruthBytes | null; stderr_bytes: TruthBytes | null;
  status_json: string | null; resize_events: { width: number; height: number }[];
}

function expectBytes(s: ExecSession, name: string, want: TruthBytes | null) {
  if (!want) return;
  const got = s.streams.find((r) => r.name === name);
  expect({ name, bytes: got?.bytes ?? 0, sha256: want.length ? got?.sha256 : want.sha256 }).toEqual({ name, bytes: want.length, sha256: want.sha256 });
}

describe.each(truths)('%s', (truthFile) => {
  const truth = JSON.parse(readFileSync(join(dir, truthFile), 'utf8'));
  test('decodes to the recorded truth', async () => {
    const keyLogs = truth.keylog_file ? [{ text: readFileSync(join(dir, truth.keylog_file), 'utf8'), source: truth.keylog_file }] : [];
    const model = await analyzeCapture(join(dir, truth.files.capture), analyzeOptions({ hash: true, hasher: new InlineStreamHasher(), keyLogs }));
    expect(model.fatal).toBeNull();
    expect(model.capture.format).toBe(truth.format);
    for (const t of truth.sessions as TruthSession[]) {
      const s = model.sessions.find((x) => x.client === t.client_addr && x.server === t.server_addr);
      expect(s).toBeDefined();
      if (!s) continue;
      expect({ transport: s.transport, protocol: s.protocol, status: s.httpStatus, namespace: s.namespace, pod: s.pod, container: s.container, command: s.command, tty: s.tty })
        .toEqual({ transport: t.transport, protocol: t.negotiated_subprotocol, status: t.http_status, namespace: t.namespace, pod: t.pod, container: t.container, command: t.command, tty: t.tty });
      expectBytes(s, 'stdin', t.stdin_bytes);
      expectBytes(s, 'stdout', t.stdout_bytes);
      expectBytes(s, 'stderr', t.stderr_bytes);
      expect(s.errorBytes ? Buffer.from(s.errorBytes).toString('utf8') : null).toBe(t.status_json);
      const status = t.status_json ? JSON.parse(t.status_json) : null;
      if (status?.status === 'Success') expect(s.exit).toMatchObject({ status: 'Success', code: 0 });
      if (status?.reason === 'NonZeroExitCode') {
        const code = Number(status.details.causes.find((c: { reason: string }) => c.reason === 'ExitCode').message);
        expect(s.exit).toMatchObject({ status: 'Failure', code, reason: 'NonZeroExitCode' });
      }
      expect(s.resizes.map((r) => ({ width: r.width, height: r.height }))).toEqual(t.resize_events.map((r) => ({ width: r.width, height: r.height })));
      if (t.end.startsWith('clean')) expect(s.state).toBe('complete');
    }
    // The harness's port probe and kubectl's discovery connection are listed, not mistaken for sessions.
    expect(model.sessions).toHaveLength(truth.sessions.length);
    expect(model.connections.length).toBeGreaterThan(truth.sessions.length);
  });
});
