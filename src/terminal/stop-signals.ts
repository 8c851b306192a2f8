/**
 * Ctrl-C (SIGINT) and SIGTERM for the commands that start things they must stop (`tap`, `lab`): heard
 * from before the start. Without a listener, one that comes while the command starts ends the process
 * by the signal's default action, leaving what was made so far behind (a key directory and
 * kubeconfig, a recording without its end, the lab's pod processes). IO code.
 */

export interface StopSignals {
  /** Resolves with the first of them. */
  readonly received: Promise<'SIGINT' | 'SIGTERM'>;
  /**
   * The first of them by the end of the start, which is not cut short (what it made is stopped as a
   * whole). The event loop passes its poll phase once first: a start whose last steps never waited
   * on IO (a listen binds at once) ends before a signal that came meanwhile is read from the loop's
   * signal pipe. (One setImmediate may run before that poll, in the current turn's check phase.)
   */
  afterStart(): Promise<'SIGINT' | 'SIGTERM' | null>;
  /**
   * Aborted by the first of them, or by abandonStart(): for the waits of a start that may never end on
   * their own, which a stop gives up instead of waiting out (a FIFO that no one reads yet,
   * record/recording-file.ts; kubectl reading a kubeconfig, tap/kubectl-tap.ts).
   */
  readonly startAbandoned: AbortSignal;
  /** Gives those waits up for another reason (the terminal hung up). */
  abandonStart(): void;
  /** Stops listening (idempotent): the default actions come back, or a later listener takes over. */
  dispose(): void;
}

export function listenForStopSignals(): StopSignals {
  let first: 'SIGINT' | 'SIGTERM' | null = null;
  let dispose = () => {};
  const abandon = new AbortController();
  const received = new Promise<'SIGINT' | 'SIGTERM'>((resolve) => {
    const onInterrupt = () => heard('SIGINT');
    const onTerminate = () => heard('SIGTERM');
    const heard = (signal: 'SIGINT' | 'SIGTERM') => {
      first ??= signal;
      dispose();
      abandon.abort();
      resolve(signal);
    };
    dispose = () => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
    };
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onTerminate);
  });
  return {
    received,
    afterStart: () => new Promise((resolve) => setImmediate(() => setImmediate(() => resolve(first)))),
    startAbandoned: abandon.signal,
    abandonStart: () => abandon.abort(),
    dispose: () => dispose(),
  };
}

/** The exit status a shell gives a command its signal ended: 128 + the signal's number. */
export function signalExitStatus(signal: 'SIGINT' | 'SIGTERM'): number {
  return signal === 'SIGINT' ? 130 : 143;
}
