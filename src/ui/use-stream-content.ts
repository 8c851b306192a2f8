/**
 * Loads a stream's bytes beyond its kept head (by re-reading the capture) when the Content pane
 * shows a stream longer than the head; answers for a stream no longer shown are dropped.
 */
import { useEffect, useState } from 'react';
import type { ExecSession, StreamRecord } from '../model/session.js';
import type { ContentReader } from '../pipeline/capture-content-reader.js';

export function useStreamContent(reader: ContentReader | undefined, session: ExecSession | null, stream: StreamRecord | null, shown: boolean): Uint8Array | null {
  const [answer, setAnswer] = useState<{ stream: StreamRecord; bytes: Uint8Array } | null>(null);
  const needed = !!reader && !!session && !!stream && shown && stream.bytes > stream.headBytes;
  useEffect(() => {
    if (!needed || !reader || !session || !stream) return;
    let current = true;
    reader(session, stream).then(
      (bytes) => current && setAnswer({ stream, bytes }),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [needed, reader, session, stream]);
  return answer && answer.stream === stream ? answer.bytes : null;
}
