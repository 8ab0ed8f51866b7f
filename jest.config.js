/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // Files run in parallel: each uses its own Redis key prefix, ports and simulator. Much of a file's time is
  // spent waiting (on Coder latency, retries, outages, child processes), so more workers than cores pays off.
  maxWorkers: 6,
  testSequencer: '<rootDir>/test/sequencer.js',
};
