import { listenForStopSignals } from '../../src/terminal/stop-signals.js';

describe('listenForStopSignals', () => {
  it('abandons the start at the first Ctrl-C or SIGTERM, and says which came', async () => {
    const stop = listenForStopSignals();
    try {
      expect(stop.startAbandoned.aborted).toBe(false);
      // The listener's own call, as Node makes it when the signal arrives.
      process.emit('SIGTERM', 'SIGTERM');
      expect(stop.startAbandoned.aborted).toBe(true);
      await expect(stop.received).resolves.toBe('SIGTERM');
    } finally {
      stop.dispose();
    }
  });

  it('abandons the start for another reason (a hang-up) without a signal', () => {
    const stop = listenForStopSignals();
    try {
      stop.abandonStart();
      expect(stop.startAbandoned.aborted).toBe(true);
    } finally {
      stop.dispose();
    }
  });
});
