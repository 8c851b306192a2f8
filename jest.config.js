/** Jest runs the TypeScript sources directly (ts-jest, ESM); see README for the command. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/test/**/*.test.tsx'],
  testTimeout: 60000,
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // The clone's own cache: Jest orders files by what its cache remembers of earlier runs (failed first,
  // then slowest), so a cache shared in /tmp with other checkouts made CI's order depend on the machine.
  // A fresh clone runs largest file first, every time.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  // CI's log names each file as it starts (test/kit/suite-log-reporter.cjs).
  reporters: process.env.EXECSCOPE_SUITE_LOG ? ['default', '<rootDir>/test/kit/suite-log-reporter.cjs'] : ['default'],
};
