/** Where the integration tests find the real services (the same variables as the services). */
export const TEST_KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * How much longer than its stated limit a test may wait for a condition before it fails (waits, service start-up,
 * jest's default test timeout). Jest runs several suites at once, so a wait shares the machine with other suites;
 * a passing wait returns as soon as its condition holds, so slack only delays the report of a failure.
 * `jest.config.js` sets it (TEST_SLACK, default 3 there; 1 for a bench or script that imports these helpers).
 */
export const TEST_SLACK = Math.max(1, Number(process.env.TEST_SLACK ?? 1) || 1);
