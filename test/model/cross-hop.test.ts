import { clockOffsetBounds, hopChain, linkHops } from '../../src/model/cross-hop.js';
import type { ExecSession } from '../../src/model/session.js';
import { data, origin, session, stream } from '../helpers/model-builders.js';

const MS = 1e6;

/** One kubectl exec seen on the three hops: request times and 101s as a proxying chain makes them. */
function chain(firstId: number, t0: number, over: Partial<ExecSession> = {}): ExecSession[] {
  return [
    session({ id: firstId, hop: 'apiserver', startTs: t0, upgradeTs: t0 + 9 * MS, endTs: t0 + 50 * MS, ...over }),
    session({ id: firstId + 1, hop: 'kubelet', transport: 'spdy', startTs: t0 + 2 * MS, upgradeTs: t0 + 8 * MS, endTs: t0 + 49 * MS, ...over }),
    session({ id: firstId + 2, hop: 'cri', transport: 'spdy', namespace: null, pod: null, container: null, command: [], token: 'tok', startTs: t0 + 5 * MS, upgradeTs: t0 + 7 * MS, endTs: t0 + 48 * MS }),
  ];
}

const links = (sessions: ExecSession[]) => sessions.map((s) => [s.id, s.previousHop, s.nextHop]);

test('the three hops of one exec link up, and the chain reads from kubectl on', () => {
  const s = chain(1, 0);
  linkHops(s);
  expect(links(s)).toEqual([
    [1, null, 2],
    [2, 1, 3],
    [3, 2, null],
  ]);
  expect(hopChain(s, s[2]).map((x) => x.id)).toEqual([1, 2, 3]);
});

test('overlapping execs of the same command each keep their own chain, by timing', () => {
  const a = chain(1, 0);
  const b = chain(4, 3 * MS);
  const all = [...a, ...b].sort((x, y) => x.startTs - y.startTs);
  linkHops(all);
  expect(links(a)).toEqual([
    [1, null, 2],
    [2, 1, 3],
    [3, 2, null],
  ]);
  expect(links(b)).toEqual([
    [4, null, 5],
    [5, 4, 6],
    [6, 5, null],
  ]);
});

test('a different command, pod or kind, or a session opened too late, is not the same exec', () => {
  for (const over of [{ command: ['date'] }, { pod: 'other-0' }, { kind: 'attach' as const }]) {
    const [api, kubelet] = chain(1, 0);
    Object.assign(kubelet, over);
    linkHops([api, kubelet]);
    expect(api.nextHop).toBeNull();
  }
  const [api, kubelet] = chain(1, 0);
  kubelet.startTs = api.endTs! + 1;
  linkHops([api, kubelet]);
  expect(api.nextHop).toBeNull();
});

test('a container the apiserver defaulted, and the translator dialling after its WebSocket 101', () => {
  const [api, kubelet] = chain(1, 0, {});
  api.container = null;
  api.upgradeTs = 1 * MS;
  kubelet.startTs = 3 * MS;
  linkHops([api, kubelet]);
  expect(api.nextHop).toBe(2);
});

test('a refused upgrade opens nothing; port-forward links by pod', () => {
  const refused = session({ id: 1, hop: 'apiserver', httpStatus: 403, state: 'upgrade-failed', startTs: 0, endTs: 1 * MS });
  const retry = chain(2, 2 * MS);
  linkHops([refused, ...retry]);
  expect(refused.nextHop).toBeNull();
  expect(retry[0].nextHop).toBe(3);
  const pf = chain(1, 0, { kind: 'portforward', command: [], container: null });
  pf[2].kind = 'portforward';
  linkHops(pf);
  expect(links(pf)).toEqual([
    [1, null, 2],
    [2, 1, 3],
    [3, 2, null],
  ]);
});

test('a clock offset from relayed output is capped by the relayed 101, so a slow relay still links the hops', () => {
  // The runtime's file runs 7.5 s ahead; its last output byte reached the kubelet hop 100 ms late (a
  // loaded node), its 101 at once.
  const [, kubelet, cri] = chain(1, 0);
  const ahead = 7500 * MS;
  const far = { ...cri, startTs: cri.startTs + ahead, upgradeTs: cri.upgradeTs! + ahead, endTs: cri.endTs! + ahead };
  data(stream(kubelet, 'stdout', 3), 's2c', '4000000\n', origin(300, 8, 10, 140 * MS));
  data(stream(far, 'stdout', 3), 's2c', '4000000\n', origin(300, 8, 10, 40 * MS + ahead));
  const { lo, hi } = clockOffsetBounds(kubelet, far)!;
  expect([lo / MS, hi / MS]).toEqual([-7503, -7499]);
  const e = hi;
  const shifted = { ...far, startTs: far.startTs + e, upgradeTs: far.upgradeTs! + e, endTs: far.endTs! + e };
  const sessions = [kubelet, shifted];
  linkHops(sessions, [], 50 * MS);
  expect(links(sessions)).toEqual([
    [2, null, 3],
    [3, 2, null],
  ]);
});

/** As the stream recorder keeps it: the first payload byte's time too (model-builders' data() keeps the last only). */
function sent(...args: Parameters<typeof data>): void {
  data(...args);
  args[0].firstDataAt ??= args[3].lastTs;
}

test('clock bounds: only what one hop caused on the other, each way — not how long the near hop took to dial', () => {
  // Both hops on one clock; the translator (WebSocket in, SPDY out) dials 40 ms after its 101.
  const apiserver = session({ id: 1, hop: 'apiserver', startTs: 0, upgradeTs: 1 * MS, endTs: 900 * MS });
  const kubelet = session({ id: 2, hop: 'kubelet', transport: 'spdy', startTs: 41 * MS, upgradeTs: 60 * MS, endTs: 899 * MS });
  expect(clockOffsetBounds(apiserver, kubelet)).toEqual({ lo: -41 * MS, hi: Infinity });
  // stdin reaches the far hop after the near one: a tighter lower bound.
  sent(stream(apiserver, 'stdin', 0), 'c2s', 'abc', origin(0, 3, 5, 100 * MS));
  sent(stream(kubelet, 'stdin', 5), 'c2s', 'abc', origin(0, 3, 5, 102 * MS));
  // A port-forward's data stream carries bytes both ways: it bounds nothing.
  sent(stream(apiserver, 'data:80:0', 7), 's2c', 'x', origin(0, 1, 6, 1 * MS));
  sent(stream(kubelet, 'data:80:0', 7), 's2c', 'x', origin(0, 1, 6, 500 * MS));
  // Output comes back: its first byte bounds from above; its last only where the near hop carried it all.
  sent(stream(kubelet, 'stdout', 3), 's2c', 'hello', origin(0, 5, 7, 200 * MS));
  sent(stream(apiserver, 'stdout', 1), 's2c', 'hello', origin(0, 5, 7, 203 * MS));
  sent(stream(kubelet, 'stdout', 3), 's2c', 'more', origin(5, 4, 8, 300 * MS));
  expect(clockOffsetBounds(apiserver, kubelet)).toEqual({ lo: -2 * MS, hi: 3 * MS });
  sent(stream(apiserver, 'stdout', 1), 's2c', 'more', origin(5, 4, 8, 301 * MS));
  expect(clockOffsetBounds(apiserver, kubelet)).toEqual({ lo: -2 * MS, hi: 1 * MS });
});
