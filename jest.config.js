// Two tiers (docs/conventions.md §7): *.spec.ts are pure and fast; *.int-spec.ts talk to the real Kafka and
// PostgreSQL (each suite gets its own database and unique topics, so suites run in parallel).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const moduleNameMapper = { '^@csms/([a-z-]+)$': '<rootDir>/libs/$1/src' };
const common = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testTimeout: 60000,
};
// Suites run one at a time by default. JEST_WORKERS=3 runs three at once, longest first (scripts/jest-sequencer.js):
// most of an integration suite's time is waiting, so that is far sooner on two cores, but every parallel run so far
// exposed a test or a defect that only a shared, slower machine shows (README, "CI"), so it is not the default yet.
// With several workers a wait shares the machine with other suites, so its limit gets slack (TEST_SLACK,
// libs/testing/src/env.ts; 3 then, else 1); a passing wait returns as soon as its condition holds.
const workers = Number(process.env.JEST_WORKERS ?? 1);
process.env.TEST_SLACK ??= workers > 1 ? '3' : '1';
const slack = Number(process.env.TEST_SLACK);
common.testTimeout = 60000 * slack;
module.exports = {
  maxWorkers: workers,
  testTimeout: 60000 * slack,
  testSequencer: '<rootDir>/scripts/jest-sequencer.js',
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest-slack.ts'],
      slowTestThreshold: 30,
    },
  ],
};
