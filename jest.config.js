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
// Suites run three at a time: most of an integration suite's time is waiting (services starting, consumer groups
// joining, polling), so on two cores three suites at once finish far sooner than one after another. A wait shares
// the machine with the other suites, so its limit gets slack (TEST_SLACK, libs/testing/src/env.ts); a passing wait
// returns as soon as its condition holds. JEST_WORKERS=1 runs them one at a time.
process.env.TEST_SLACK ??= '3';
const slack = Number(process.env.TEST_SLACK);
common.testTimeout = 60000 * slack;
module.exports = {
  maxWorkers: Number(process.env.JEST_WORKERS ?? 3),
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
