/** Last line of defence: a rendering bug shows one red line instead of a stack trace over the screen. */
import { Component, type ReactNode } from 'react';
import { Line } from './Line.js';

export class ErrorBoundary extends Component<{ children: ReactNode }, { message: string | null }> {
  override state = { message: null as string | null };

  static getDerivedStateFromError(err: unknown): { message: string } {
    return { message: err instanceof Error ? err.message : String(err) };
  }

  override render(): ReactNode {
    if (this.state.message === null) return this.props.children;
    return <Line segments={[{ text: `✗ execscope hit an internal error: ${this.state.message.replace(/[^\x20-\x7e]/g, '?')} · q quits`, color: 'red' }]} />;
  }
}
