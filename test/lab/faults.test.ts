import { FAULTS, faultHelp, faultsOn, FaultError, parseFault } from '../../src/lab/faults.js';
import { parsePod } from '../../src/lab/lab-command.js';

describe('parseFault', () => {
  test('default hop and default value', () => {
    expect(parseFault('no-stream-reply')).toEqual({ name: 'no-stream-reply', hop: 'cri' });
    expect(parseFault('reset-mid-stream')).toEqual({ name: 'reset-mid-stream', hop: 'kubelet', value: 65536 });
    expect(parseFault('refuse-websocket')).toEqual({ name: 'refuse-websocket', hop: 'apiserver' });
  });

  test('value and hop', () => {
    expect(parseFault('idle-drop=60@kubelet')).toEqual({ name: 'idle-drop', hop: 'kubelet', value: 60 });
    expect(parseFault('idle-drop=0.5')).toEqual({ name: 'idle-drop', hop: 'apiserver', value: 0.5 });
    expect(parseFault('no-exit-status@apiserver')).toEqual({ name: 'no-exit-status', hop: 'apiserver' });
  });

  test('refusals', () => {
    expect(() => parseFault('nope')).toThrow(FaultError);
    expect(() => parseFault('idle-drop')).toThrow(/needs a value/);
    expect(() => parseFault('idle-drop=0')).toThrow(/positive/);
    expect(() => parseFault('refuse-websocket=3')).toThrow(/takes no value/);
    expect(() => parseFault('no-pings@cri')).toThrow(/applies to apiserver, not cri/);
    expect(() => parseFault('stall-reader@mars')).toThrow(/not mars/);
  });

  test('faultsOn picks one hop', () => {
    const faults = ['no-pings', 'idle-drop=6@kubelet', 'reset-mid-stream=10@kubelet'].map(parseFault);
    expect([...faultsOn(faults, 'kubelet').keys()]).toEqual(['idle-drop', 'reset-mid-stream']);
    expect([...faultsOn(faults, 'cri').keys()]).toEqual([]);
  });

  test('every fault is documented with the real-world cause it imitates', () => {
    const help = faultHelp();
    for (const [name, info] of Object.entries(FAULTS)) {
      expect(help).toContain(name);
      expect(info.imitates.length).toBeGreaterThan(40);
      expect(info.hops).toContain(info.defaultHop);
    }
  });
});

describe('parsePod', () => {
  test('namespace, name, containers', () => {
    const pod = parsePod('team-a/web-0:app,sidecar');
    expect(pod).toMatchObject({ namespace: 'team-a', name: 'web-0', containers: ['app', 'sidecar'] });
    expect(pod.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parsePod('team-a/web-0:app,sidecar').uid).toBe(pod.uid);
  });

  test('defaults', () => {
    expect(parsePod('lab-1')).toMatchObject({ namespace: 'default', name: 'lab-1', containers: ['main'] });
  });

  test('refuses what is not a DNS name', () => {
    expect(() => parsePod('Web')).toThrow(/expected/);
    expect(() => parsePod('a/b/c')).toThrow(/expected/);
    expect(() => parsePod('web:')).toThrow(/expected/);
  });
});
