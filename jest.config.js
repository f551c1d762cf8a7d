// Native ESM under jest (NODE_OPTIONS=--experimental-vm-modules, set by `npm run test:jest`):
// @marcbachmann/cel-js is ESM-only and the source uses import.meta, so nothing is down-levelled to CJS.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  testMatch: [
    '<rootDir>/test/**/*.test.ts',
    '<rootDir>/shared/**/*.test.ts',
    '<rootDir>/functions/**/*.test.ts',
  ],
  // A hang guard, not a speed check: on a loaded 2-core CI machine some suites (emulators, storms) take a minute.
  testTimeout: 120000,
  watchman: false,
  reporters: ['default', '<rootDir>/test/support/summary-line-reporter.js'],
};
