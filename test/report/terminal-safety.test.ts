/**
 * No captured byte reaches a terminal as a control sequence, whichever field quotes it: the text
 * report is sanitised line by line at its edge, and JSON escapes C1 and bidi controls too.
 */
import { jsonReport, jsonReportText } from '../../src/report/json-report.js';
import { escapeJsonControls, terminalSafeJson } from '../../src/report/terminal-text.js';
import { keysReport, textReport } from '../../src/report/text-report.js';
import { ESCAPES as FAMILIES, RAW_CONTROL } from '../kit/escape-corpus.js';
import { captureModel, connection, hostileSession, stream, tlsSummary } from '../helpers/model-builders.js';

/** One string per escape family (test/kit/escape-corpus.ts). */
const ESCAPES = Object.values(FAMILIES);

function hostileModel() {
  const s = hostileSession();
  s.protocol = `v5.channel.k8s.io ${ESCAPES.join(' ')}`;
  // A SPDY stream type as a hostile peer would name it.
  stream(s, `stderr ${ESCAPES.join('')}`, 11);
  return captureModel({
    sessions: [s],
    connections: [connection({ id: 9, protocol: 'tls', tls: tlsSummary({ sni: `evil${ESCAPES.join('')}`, keysFound: false }) })],
  });
}

test.each([
  ['text report', () => textReport(hostileModel(), { connections: true, name: 'x' })],
  ['explained text report', () => textReport(hostileModel(), { connections: true, name: 'x', explain: true })],
  ['keys report', () => keysReport(hostileModel())],
])('%s: no control character reaches the terminal', (_name, render) => {
  const text = render();
  for (const line of text.split('\n')) expect(line).not.toMatch(RAW_CONTROL);
});

test('JSON escapes C1 and bidi controls as \\u009b, \\u202e, so it is inert printed to a terminal', () => {
  const text = terminalSafeJson(jsonReport(hostileModel(), { hash: false }));
  expect(text).not.toMatch(RAW_CONTROL);
  expect(text).toContain('\\u009b');
  expect(text).toContain('\\u202e');
  expect(JSON.parse(text).sessions[0].protocol).toBe(`v5.channel.k8s.io ${ESCAPES.join(' ')}`);
});

test('escapeJsonControls: all-ASCII text as it is, every C1 and bidi control escaped beside other non-ASCII text', () => {
  const ascii = JSON.stringify({ a: 'plain \u001b text', n: [1, 2] }, null, 2);
  expect(escapeJsonControls(ascii)).toBe(ascii);
  const controls = [...Array.from({ length: 0x20 }, (_, i) => 0x80 + i), 0x61c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
  for (const cp of controls) {
    const text = JSON.stringify({ s: `é${String.fromCharCode(cp)}😀` });
    const escaped = escapeJsonControls(text);
    expect(escaped).toBe(text.replace(String.fromCharCode(cp), `\\u${cp.toString(16).padStart(4, '0')}`));
    expect(JSON.parse(escaped)).toEqual(JSON.parse(text));
  }
  expect(escapeJsonControls('"é😀\u00ff"')).toBe('"é😀\u00ff"');
});

test('the JSON streamed piece by piece (analyze --json) is the text of the whole document', () => {
  const empty = captureModel({});
  const fatal = captureModel({ sessions: [hostileSession()] });
  fatal.fatal = { message: 'capture truncated: packet 9 cut', where: 'byte 24' } as typeof fatal.fatal;
  for (const model of [hostileModel(), empty, fatal]) {
    expect([...jsonReportText(model, { hash: true }, escapeJsonControls)].join('')).toBe(terminalSafeJson(jsonReport(model, { hash: true })));
  }
});
