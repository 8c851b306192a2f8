/**
 * docs/workshop.md is run as written: every ```sh block, in order, in one bash (set -euo pipefail)
 * from the repository's root against the lab and the real kubectl, each block's output checked
 * against the `<!-- expect: REGEX -->` lines under it — the output the sheet's answers rest on.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Step {
  /** The heading the block sits under, for messages. */
  heading: string;
  commands: string;
  expects: RegExp[];
}

/** The sheet's command blocks, each with the heading above it and the expectations below it. */
function workshopSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  let heading = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^#{2,3} /.test(lines[i])) heading = lines[i].replace(/^#+ /, '');
    if (lines[i] !== '```sh') continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    const expects: RegExp[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const m = /^<!-- expect: (.*) -->$/.exec(lines[j]);
      if (!m) break;
      expects.push(new RegExp(m[1], 'm'));
    }
    steps.push({ heading, commands: body.join('\n'), expects });
  }
  return steps;
}

const MARK = '@@execscope-workshop-step';

test('the workshop sheet runs end to end against the lab, every answer checked', async () => {
  const sheet = readFileSync(join(process.cwd(), 'docs', 'workshop.md'), 'utf8');
  const steps = workshopSteps(sheet);
  expect(steps.length).toBeGreaterThanOrEqual(14);
  expect(steps.every((s) => s.commands.trim().length > 0)).toBe(true);
  // Every heading of a step with commands says what to look at and has a question with its answer.
  for (const part of sheet.split(/\n(?=#{2,3} \d)/).filter((p) => p.includes('```sh'))) {
    expect({ part: part.split('\n')[0], question: /\*\*Question:\*\*/.test(part), answer: /<summary>Answer<\/summary>/.test(part) }).toEqual({
      part: part.split('\n')[0],
      question: true,
      answer: true,
    });
  }

  const work = mkdtempSync(join(tmpdir(), 'execscope-workshop-'));
  try {
    mkdirSync(join(work, 'tmp'));
    const script = ['set -euo pipefail', ...steps.map((s, i) => `echo '${MARK} ${i}'\n${s.commands}`), `echo '${MARK} end'`].join('\n');
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      // The sheet's labs run without --dir, as a reader runs them: each makes a directory of its own
      // in TMPDIR and keeps it (its key log and kubeconfig). TMPDIR in `work` has them removed with it.
      const child = spawn('bash', ['-c', script], { cwd: process.cwd(), env: { ...process.env, W: work, TMPDIR: join(work, 'tmp') }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      // The lab narrates on stderr; a failing command's complaint lands there too.
      child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, output: out }));
    });
    const parts = output.split(new RegExp(`^${MARK} `, 'm'));
    const reached = parts.length - 2;
    if (code !== 0) throw new Error(`the sheet stopped at step "${steps[reached]?.heading}" (exit ${code}):\n${parts.at(-1)?.slice(-3000)}`);
    expect(parts.at(-1)?.trim()).toBe('end');
    const unmet = steps.flatMap((step, i) => {
      const text = parts[i + 1].replace(/^\d+\n/, '');
      return step.expects.filter((re) => !re.test(text)).map((re) => `${step.heading}: /${re.source}/ not in\n${text.slice(-2500)}`);
    });
    expect(unmet).toEqual([]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 600_000);
