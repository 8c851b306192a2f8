/**
 * `execscope export` as a user runs it (the built CLI) on the lab's recordings of the real kubectl:
 * an asciicast that asciinema itself plays, and timeline pictures checked in a real headless
 * Chromium (its screenshot and the text boxes it laid out) and through resvg's PNG.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asciicast } from '../../src/export/asciicast.js';
import { analyzeCapture } from '../../src/pipeline/analyze-capture.js';
import { analyzeOptions } from '../../src/pipeline/options.js';
import { chromiumPath, dumpDom, screenshot } from '../helpers/chromium.js';
import { data, origin, session, stream } from '../helpers/model-builders.js';
import { decodePng, pngSize, type Pixels } from '../helpers/png-pixels.js';
import { tempDirForTests } from '../kit/temp-dir.js';

const fixtures = join(process.cwd(), 'fixtures');
const cli = join(process.cwd(), 'dist', 'cli.js');
const node = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'buffer', timeout: 120_000 });
const dir = tempDirForTests('execscope-export-');

type CastEvent = [number, string, string];
function readCast(path: string): { header: Record<string, unknown>; events: CastEvent[] } {
  const [head, ...rest] = readFileSync(path, 'utf8').trimEnd().split('\n');
  return { header: JSON.parse(head), events: rest.map((l) => JSON.parse(l) as CastEvent) };
}
const joined = (events: CastEvent[], code: string) => events.filter((e) => e[1] === code).map((e) => e[2]).join('');
function extract(capture: string, session: number, name: string): string {
  const r = node('extract', capture, '--session', String(session), '--stream', name, '-o', '-');
  expect(r.status).toBe(0);
  return r.stdout.toString('utf8');
}

describe('asciicast', () => {
  const tty = join(fixtures, 'lab/lab-ws-tty-resize.pcapng');

  test('a TTY session: what the terminal received, timed as captured, resizes as r events, typed input as i events', async () => {
    const out = join(dir, 'tty.cast');
    const r = node('export', tty, '--session', '1', '--asciicast', out, '--stdin');
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toMatch(/wrote \d+ events of session 1 to /);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const { header, events } = readCast(out);
    expect(header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(typeof header.timestamp).toBe('number');
    expect(events.filter((e) => e[1] === 'r').map((e) => e[2])).toEqual(['120x40']);
    expect(joined(events, 'o')).toBe(extract(tty, 1, 'stdout'));
    expect(joined(events, 'i')).toBe(extract(tty, 1, 'stdin'));
    for (let i = 1; i < events.length; i++) expect(events[i][0]).toBeGreaterThanOrEqual(events[i - 1][0]);
    // Timings are the capture's: seconds from the 101 to the frame that carried the first output.
    const model = await analyzeCapture(tty, analyzeOptions());
    const s = model.sessions[0];
    const first = s.streams.find((x) => x.name === 'stdout')!.events.find((e) => e.kind === 'data' && e.length > 0)!;
    expect(events.find((e) => e[1] === 'o')![0]).toBeCloseTo((first.ts - s.upgradeTs!) / 1e9, 5);

    const plain = join(dir, 'tty-no-stdin.cast');
    expect(node('export', tty, '--session', '1', '--asciicast', plain).status).toBe(0);
    expect(readCast(plain).events.some((e) => e[1] === 'i')).toBe(false);
  });

  test('without a TTY, stdout and stderr are lines of their own, with the CR a terminal would add', () => {
    const capture = join(fixtures, 'lab/lab-ws-stderr.pcapng');
    const out = join(dir, 'stderr.cast');
    expect(node('export', capture, '--session', '1', '--asciicast', out).status).toBe(0);
    const { header, events } = readCast(out);
    expect(header).toMatchObject({ width: 80, height: 24 });
    expect(events.map((e) => e[2])).toEqual(['to-stdout\r\n', 'to-stderr\r\n']);
  });

  test('a character split across two frames stays one character; a line cut by the other stream is ended first', () => {
    const s = session({ tty: false, upgradeTs: 0 });
    const out = stream(s, 'stdout', 1);
    const err = stream(s, 'stderr', 2);
    data(out, 's2c', new Uint8Array([0x63, 0x61, 0x66, 0xc3]), origin(0, 5, 2, 1e6));
    data(out, 's2c', new Uint8Array([0xa9]), origin(5, 2, 3, 2e6));
    data(err, 's2c', 'oops\n', origin(7, 6, 4, 3e6));
    const bytes = new Map([
      ['stdout', new Uint8Array([0x63, 0x61, 0x66, 0xc3, 0xa9])],
      ['stderr', new TextEncoder().encode('oops\n')],
    ]);
    const cast = asciicast(s, bytes, { stdin: false, originNs: null });
    const events = cast.text.trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as CastEvent);
    expect(events.map((e) => e[2]).join('')).toBe('café\r\noops\r\n');
    expect(events.map((e) => e[0])).toEqual([0.001, 0.002, 0.003]);
  });

  test('asciinema plays it and cats it as the bytes the terminal received', () => {
    const found = spawnSync('sh', ['-c', 'command -v asciinema && command -v script'], { encoding: 'utf8' });
    if (found.status !== 0) {
      if (process.env.EXECSCOPE_REQUIRE_ASCIINEMA) throw new Error('asciinema (and script) are required here: apt-get install asciinema');
      console.warn('asciinema not installed: skipping the replay check');
      return;
    }
    const cast = join(dir, 'tty.cast');
    const stdout = extract(join(fixtures, 'lab/lab-ws-tty-resize.pcapng'), 1, 'stdout');
    // asciinema needs a terminal: script(1) gives it one, set raw so the bytes pass through untouched.
    for (const command of [`asciinema cat ${cast}`, `asciinema play -s 20 ${cast}`]) {
      const r = spawnSync('script', ['-q', '-e', '-c', `stty raw -echo; ${command}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, input: '' });
      expect({ command, status: r.status }).toEqual({ command, status: 0 });
      expect(r.stdout).toContain(stdout);
    }
  });

  test('a port-forward, a refused upgrade, a missing session: a one-line reason, exit 1', () => {
    const cases: [string, string, RegExp][] = [
      ['lab/lab-ws-portforward.pcapng', '1', /session 1 is a port-forward: it has no terminal to replay/],
      ['lab/lab-fault-refuse-websocket.pcapng', '1', /session 1 was refused \(HTTP 403\): nothing to replay/],
      ['ws-echo.pcap', '9', /no session 9 in /],
      ['README.md', '1', /not a pcap or pcapng capture/],
    ];
    for (const [capture, id, message] of cases) {
      const r = node('export', join(fixtures, capture), '--session', id, '--asciicast', join(dir, 'x.cast'));
      expect(r.status).toBe(1);
      expect(r.stderr.toString().trim().split('\n')).toHaveLength(1);
      expect(r.stderr.toString()).toMatch(message);
    }
  });
});

interface TextBox {
  text: string;
  cls: string | null;
  fill: string | null;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Pixels in the box that are near `hex` (anti-aliased text is lighter than its fill). */
function pixelsLike(p: Pixels, box: { x: number; y: number; w: number; h: number }, hex: string): number {
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let y = Math.max(0, Math.floor(box.y)); y < Math.min(p.height, Math.ceil(box.y + box.h)); y++) {
    for (let x = Math.max(0, Math.floor(box.x)); x < Math.min(p.width, Math.ceil(box.x + box.w)); x++) {
      const px = p.at(x, y);
      if (Math.abs(px[0] - want[0]) + Math.abs(px[1] - want[1]) + Math.abs(px[2] - want[2]) < 90) n++;
    }
  }
  return n;
}

function overlapping(boxes: TextBox[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      // A pixel of slack: glyph boxes of adjacent rows touch.
      if (w > 1 && h > 1) out.push([a.text, b.text]);
    }
  }
  return out;
}

describe('timeline picture', () => {
  test('a linked exec in a real Chromium: the size, every hop with its lanes, findings, no text overlapping, drawn as laid out', () => {
    const browser = chromiumPath();
    if (!browser) {
      if (process.env.EXECSCOPE_REQUIRE_CHROMIUM) throw new Error('chromium is required here: apt-get install chromium');
      console.warn('chromium not installed: skipping the browser check');
      return;
    }
    const svgPath = join(dir, 'no-pings.svg');
    const r = node('export', join(fixtures, 'lab/lab-fault-no-pings.pcapng'), '--session', '1', '--svg', svgPath);
    expect(r.status).toBe(0);
    const svg = readFileSync(svgPath, 'utf8');
    const [, width, height] = /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    expect(width).toBe(1200);
    expect(height).toBeGreaterThan(300);
    expect(height).toBeLessThan(1200);

    // The browser's own layout of every text element.
    const page = join(dir, 'measure.html');
    writeFileSync(
      page,
      `<!doctype html><html><body style="margin:0">${svg}<pre id="result"></pre><script>
const texts = [...document.querySelectorAll('svg text')].map((t) => {
  const r = t.getBoundingClientRect();
  return { text: t.textContent, cls: t.getAttribute('class'), fill: t.getAttribute('fill'), x: r.left, y: r.top, w: r.width, h: r.height };
});
const box = document.querySelector('svg').getBoundingClientRect();
document.getElementById('result').textContent = JSON.stringify({ width: box.width, height: box.height, texts });
</script></body></html>`,
    );
    const dom = dumpDom(browser, page);
    const json = /<pre id="result">([\s\S]*?)<\/pre>/.exec(dom)?.[1];
    expect(json).toBeDefined();
    const measured = JSON.parse(json!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as { width: number; height: number; texts: TextBox[] };
    expect([measured.width, measured.height]).toEqual([width, height]);
    const boxes = measured.texts.filter((t) => t.w > 0);
    expect(boxes.length).toBeGreaterThan(30);
    expect(overlapping(boxes)).toEqual([]);
    for (const b of boxes) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.w).toBeLessThanOrEqual(width);
      expect(b.y + b.h).toBeLessThanOrEqual(height);
    }
    // Three hops, each with its lanes; the cause (the kubelet hop's idle drop) on each, then each hop's consequences.
    const labels = boxes.filter((b) => b.cls === 'lane-label').map((b) => b.text);
    expect(labels.filter((l) => l === 'upgrade')).toHaveLength(3);
    expect(labels.filter((l) => l === 'error')).toHaveLength(3);
    expect(labels.filter((l) => l === 'control')).toHaveLength(3);
    const texts = boxes.map((b) => b.text).join('\n');
    expect(texts).toMatch(/#1 kubectl→apiserver · WS v5/);
    expect(texts).toMatch(/#2 apiserver→kubelet · SPDY v4/);
    expect(texts).toMatch(/#3 kubelet→runtime · SPDY v4/);
    expect(texts).toMatch(/after #1: request \+[\d.]+ ms · 101 /);
    expect(boxes.filter((b) => b.cls === 'finding').map((b) => b.text.split(' (')[0])).toEqual([
      '✗ R6 kubelet hop',
      '✗ R6 closed after 6.03 s of silence',
      '✗ R3 connection lost before the Status',
      '! R7 no keepalives on this hop',
      '✗ R6 kubelet hop',
      '! R16 the client abandoned the session',
      '! R7 no keepalives on this hop',
    ]);

    // What Chromium drew: the size asked for, and each lane label in its colour where it was laid out.
    const png = join(dir, 'no-pings-chromium.png');
    screenshot(browser, svgPath, png, width, height);
    const pixels = decodePng(readFileSync(png));
    expect([pixels.width, pixels.height]).toEqual([width, height]);
    for (const b of boxes.filter((x) => x.cls === 'lane-label' || x.cls === 'finding')) {
      expect({ text: b.text, drawn: pixelsLike(pixels, b, b.fill!) > 8 }).toEqual({ text: b.text, drawn: true });
    }
  });

  test('PNG through resvg: the picture, rasterised', () => {
    const png = join(dir, 'tty.png');
    const r = node('export', join(fixtures, 'lab/lab-ws-tty-resize.pcapng'), '--session', '2', '--png', png);
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toMatch(/wrote the timeline as PNG/);
    const bytes = readFileSync(png);
    expect(pngSize(bytes).width).toBe(1200);
    const pixels = decodePng(bytes);
    // The stdout lanes' green and the error lanes' red are there, on white.
    const all = { x: 0, y: 0, w: pixels.width, h: pixels.height };
    expect(pixelsLike(pixels, all, '#2e7d32')).toBeGreaterThan(300);
    expect(pixelsLike(pixels, all, '#c62828')).toBeGreaterThan(150);
    expect(pixelsLike(pixels, all, '#ffffff')).toBeGreaterThan(pixels.width * pixels.height * 0.8);
  });
});
