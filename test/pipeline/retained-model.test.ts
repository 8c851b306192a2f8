/**
 * What an ended connection leaves in the model is compact: the model is kept until the report, and a
 * capture of 200,000 exec upgrades that were never answered keeps 200,000 sessions. Their empty lists
 * are one shared frozen list, and the argv and offered subprotocols they repeat are one list each.
 */
import { pcapBytes, unansweredUpgrades } from '../kit/hostile-captures.js';
import { analyzeBytes } from '../helpers/synthetic-capture.js';

const N = 2000;

describe(`${N} exec upgrades never answered`, () => {
  const model = analyzeBytes(pcapBytes(unansweredUpgrades(N)));

  it('keep every session, each with the facts of its request', () => {
    expect(model.sessions).toHaveLength(N);
    expect(model.sessions.map((s) => s.pod)).toEqual(Array.from({ length: N }, (_, i) => `pod-${i}`));
    expect(model.sessions.every((s) => s.namespace === 'default' && s.command.join(' ') === 'sh' && s.state === 'open-at-end')).toBe(true);
  });

  it('share one frozen empty list for everything they did not get', () => {
    for (const list of ['streams', 'resizes', 'control', 'warnings', 'ports'] as const) {
      const distinct = new Set(model.sessions.map((s) => s[list]));
      expect([list, distinct.size]).toEqual([list, 1]);
      const [only] = distinct;
      expect(only).toHaveLength(0);
      expect(Object.isFrozen(only)).toBe(true);
    }
    expect(new Set(model.connections.map((c) => c.gaps)).size).toBe(1);
  });

  it('share the argv and the offered subprotocols they repeat', () => {
    expect(new Set(model.sessions.map((s) => s.command)).size).toBe(1);
    // WebSocket and SPDY upgrades alternate: one list of offered subprotocols each.
    expect(new Set(model.sessions.map((s) => s.offeredProtocols)).size).toBe(2);
    expect(new Set(model.sessions.map((s) => s.offeredProtocols.join())).size).toBe(2);
  });
});
