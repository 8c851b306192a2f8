#!/usr/bin/env node
/**
 * node exit-recorder.mjs OUT pass|keep COMMAND [ARG...]: runs COMMAND on the controlling terminal as a
 * login shell runs a job, and writes how it ended to OUT as JSON ({ pid, code, signal }).
 *
 * It stands where a terminal's shell stands, its session's leader: when the terminal hangs up the
 * kernel sends SIGHUP to it alone. `pass` passes the signal on to COMMAND, as an interactive shell
 * does to its jobs; `keep` does not, so COMMAND learns of the hang-up only from its terminal (a
 * read that ends, a write that fails). SIGHUP has a handler here, not SIG_IGN: a handler is not
 * inherited, COMMAND starts with the default.
 *
 * The terminal comes on fd 3, its own stdio being /dev/null (`3<&0 </dev/null >/dev/null 2>&1`):
 * Node puts the terminal modes of its stdio back as it exits, and aborts when the terminal is gone,
 * as this process would after every test. Opening /dev/tty instead would leave a moment when no
 * descriptor holds the terminal, and tmux closes a pane nothing holds.
 */
import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';

const [out, hangUp, command, ...args] = process.argv.slice(2);
const terminal = 3;
const child = spawn(command, args, { stdio: [terminal, terminal, terminal] });
process.on('SIGHUP', () => {
  if (hangUp !== 'pass') return;
  child.kill('SIGHUP');
  // For a test that holds COMMAND's start-up until the signal is there: OUT.sighup says it was sent.
  writeFileSync(`${out}.sighup`, '');
});
child.on('exit', (code, signal) => {
  // Written whole, then renamed: the test reads OUT once it exists.
  writeFileSync(`${out}.part`, JSON.stringify({ pid: child.pid, code, signal }));
  renameSync(`${out}.part`, out);
});
