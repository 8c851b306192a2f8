/** analyze --text quotes each stream's first 60 bytes: a cut inside a character is not shown as U+FFFD. */
import { textReport } from '../../src/report/text-report.js';
import { utf8CutLength } from '../../src/report/terminal-text.js';
import { captureModel, data, origin, stream, wsEchoSession } from '../helpers/model-builders.js';

function stdoutLine(payload: string | Uint8Array): string {
  const s = wsEchoSession();
  s.streams = [];
  data(stream(s, 'stdout', 1), 's2c', payload, origin(300, 200, 50, 1e8));
  return textReport(captureModel({ sessions: [s] }), { name: 'x' })
    .split('\n')
    .find((l) => l.trimStart().startsWith('stdout'))!;
}

test('a 60-byte preview cut inside a character leaves the character out, not U+FFFD', () => {
  // "x" and 30 "é" (two bytes each): the 60th byte is the first half of the 30th "é".
  const line = stdoutLine('x' + 'é'.repeat(30));
  expect(line).toContain(`"x${'é'.repeat(29)}"…`);
  expect(line).not.toContain('\ufffd');
});

test('a preview that is not cut, or whose text is ill-formed, is decoded as before', () => {
  expect(stdoutLine('é'.repeat(30))).toContain(`"${'é'.repeat(30)}"`);
  // 59 ASCII bytes and a lone continuation byte: ill-formed, shown as U+FFFD though the preview is cut.
  expect(stdoutLine(Uint8Array.from([...Buffer.from('a'.repeat(59)), 0x80, 0x41]))).toContain(`"${'a'.repeat(59)}\ufffd"…`);
});

test.each([
  ['ASCII', [0x61, 0x62], 2],
  ['a whole two-byte character', [0x61, 0xc3, 0xa9], 3],
  ['a two-byte character cut after its lead', [0x61, 0xc3], 1],
  ['a three-byte character cut after two', [0x61, 0xe4, 0xb8], 1],
  ['a four-byte character cut after three', [0xf0, 0x9f, 0x98], 0],
  ['a whole four-byte character', [0xf0, 0x9f, 0x98, 0x80], 4],
  ['a lead byte no character starts with', [0x61, 0xff], 2],
  ['an overlong start (E0 80) is ill-formed, not cut', [0x61, 0xe0, 0x80], 3],
  ['a surrogate start (ED A0) is ill-formed, not cut', [0x61, 0xed, 0xa0], 3],
  ['continuation bytes alone', [0x80, 0x80, 0x80], 3],
])('utf8CutLength: %s', (_name, bytes, length) => {
  expect(utf8CutLength(Uint8Array.from(bytes))).toBe(length);
});
