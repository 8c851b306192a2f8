/** Last line of defence: a rendering bug shows one red line instead of a stack trace over the screen. */
import { useApp, useInput } from 'ink';
import { Component, type ReactNode } from 'react';
import { Line } from './Line.js';
import { safeInline } from '../report/terminal-text.js';

function InternalError({ message }: { message: string }) {
  const { exit } = useApp();
  useInput((input) => {
    if (input === 'q') exit();
  });
  return <Line segments={[{ text: `✗ internal error: ${safeInline(message, 200)} · q quits`, color: 'red' }]} />;
}

export interface ErrorBoundaryProps {
  children: ReactNode;
  /** Told once what went wrong, so the caller can report it and exit non-zero. */
  onError?: (message: string) => void;
}

export class ErrorBoundary extends Component<ErrorBoundaryProps, { message: string | null }> {
  override state = { message: null as string | null };

  static getDerivedStateFromError(err: unknown): { message: string } {
    return { message: err instanceof Error ? err.message : String(err) };
  }

  override componentDidCatch(err: unknown): void {
    this.props.onError?.(err instanceof Error ? err.message : String(err));
  }

  override render(): ReactNode {
    return this.state.message === null ? this.props.children : <InternalError message={this.state.message} />;
  }
}
