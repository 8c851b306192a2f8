/** One terminal row of styled segments, cut (never wrapped) at the pane's width. */
import { Text } from 'ink';
import type { InkColor } from './theme.js';

export interface Segment {
  text: string;
  color?: InkColor;
  dim?: boolean;
  bold?: boolean;
  inverse?: boolean;
}

export function Line({ segments }: { segments: readonly Segment[] }) {
  if (segments.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate-end">
      {segments.map((s, i) => (
        <Text key={i} color={s.color} dimColor={s.dim} bold={s.bold} inverse={s.inverse}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}
