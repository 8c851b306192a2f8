import { defineProblems, problemCatalog, relocate } from '../../src/core/problem.js';
import '../../src/capture/problems.js';
import '../../src/net/problems.js';
import '../../src/tls/problems.js';
import '../../src/http/problems.js';
import '../../src/http2/problems.js';
import '../../src/spdy/problems.js';
import '../../src/websocket/problems.js';
import '../../src/k8s/problems.js';
import '../../src/pipeline/problems.js';

describe('problems', () => {
  it('carry the registered code and severity, and only the place fields given', () => {
    const problem = defineProblems('demo', { broken: 'error', odd: 'note' });
    expect(problem('broken', 'it broke', { where: 'c2s offset 4', direction: 'c2s', offset: 4 })).toEqual({
      code: 'demo.broken',
      severity: 'error',
      message: 'it broke',
      where: 'c2s offset 4',
      direction: 'c2s',
      offset: 4,
    });
    expect(problem('odd', 'hm')).toEqual({ code: 'demo.odd', severity: 'note', message: 'hm', where: 'demo' });
    expect(problemCatalog().get('demo.odd')).toBe('note');
  });

  it('relocate prefixes where and fills only what the inner layer did not know', () => {
    const inner = defineProblems('demo2', { x: 'warning' })('x', 'm', { where: 'offset 3', offset: 3, direction: 's2c' });
    expect(relocate(inner, '1.2.3.4:5→6.7.8.9:10', { connection: 7, direction: 'c2s' })).toEqual({
      code: 'demo2.x',
      severity: 'warning',
      message: 'm',
      where: '1.2.3.4:5→6.7.8.9:10 offset 3',
      connection: 7,
      direction: 's2c',
      offset: 3,
    });
  });

  it('every layer registers its codes under its own prefix', () => {
    const layers = new Set([...problemCatalog().keys()].map((code) => code.split('.')[0]));
    for (const layer of ['capture', 'link', 'ip', 'tcp', 'tls', 'http', 'http2', 'spdy', 'websocket', 'k8s', 'pipeline']) expect(layers).toContain(layer);
    for (const code of problemCatalog().keys()) expect(code).toMatch(/^[a-z0-9]+\.[a-z0-9-]+$/);
  });
});
