/** Last line of defence: a rendering bug shows one red line instead of a stack trace over the screen. */
import { useApp, useInput } from 'ink';
import { Component, type ReactNode } from 'react';
import { Line } from './Line.js';
import { safeInline } from './terminal-text.js';

function InternalError({ message }: { message: string }) {
  const { exit } = useApp();
  useInput((input) => {
    if (input === 'q') exit(new Error(message));
  });
  return <Line segments={[{ text: `✗ execscope hit an internal error: ${safeInline(message, 200)} · q quits`, color: 'red' }]} />;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, { message: string | null }> {
  override state = { message: null as string | null };

  static getDerivedStateFromError(err: unknown): { message: string } {
    return { message: err instanceof Error ? err.message : String(err) };
  }

  override render(): ReactNode {
    return this.state.message === null ? this.props.children : <InternalError message={this.state.message} />;
  }
}
