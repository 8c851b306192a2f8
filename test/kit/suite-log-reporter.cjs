'use strict';
/**
 * A Jest reporter for CI's log: a line as each test file starts, with the time. Jest runs in band on
 * two cores, and its default reporter names a file only once it ends, so a file that never ends
 * (a test blocking the event loop) would leave no trace of itself; .ci/run's watchdog then lists the
 * processes, and this line says which file they belong to.
 */
class SuiteLogReporter {
  onTestFileStart(test) {
    process.stderr.write(`[${new Date().toISOString()}] started ${require('node:path').relative(process.cwd(), test.path)}\n`);
  }
}
module.exports = SuiteLogReporter;
