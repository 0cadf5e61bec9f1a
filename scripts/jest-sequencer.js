// Runs the longest suites first, so that with several workers the last suite to start is a short one
// (longest-processing-time-first). Jest's own order needs timings from an earlier run on the same machine; a clean
// CI clone has none and would order by file size. The table below holds the suites' wall times (seconds) from a
// full run with three workers on the 2-core CI machine (2026-12-05); a suite not listed keeps jest's order after them.
const Sequencer = require('@jest/test-sequencer').default;
const path = require('node:path');

const KNOWN_SECONDS = {
  'test/e2e/console.int-spec.ts': 857,
  'test/e2e/crash-safety.int-spec.ts': 281,
  'test/e2e/hostile-input.int-spec.ts': 230,
  'test/e2e/scale-out.int-spec.ts': 202,
  'apps/ocpp-gateway/test/broker-outage.int-spec.ts': 181,
  'apps/reporting-service/test/finance.int-spec.ts': 166,
  'test/e2e/acceptance.int-spec.ts': 155,
  'apps/session-service/test/session-service.int-spec.ts': 155,
  'test/e2e/reconciliation.int-spec.ts': 146,
  'test/e2e/payments.int-spec.ts': 139,
  'apps/ocpp-gateway/test/ocpp-gateway.int-spec.ts': 118,
  'apps/payment-service/test/payment-crash.int-spec.ts': 107,
  'apps/session-service/test/crash-and-rebuild.int-spec.ts': 100,
  'test/e2e/first-start.int-spec.ts': 93,
  'apps/reporting-service/test/billing-completeness.int-spec.ts': 93,
  'apps/tariff-service/test/running-cost.int-spec.ts': 90,
  'test/e2e/adhoc-payment.int-spec.ts': 82,
  'apps/reporting-service/test/reporting-service.int-spec.ts': 80,
  'apps/reporting-service/test/ocpi.int-spec.ts': 78,
  'apps/ocpp-gateway/test/command-crash.int-spec.ts': 75,
  'apps/tariff-service/test/tariff-replay.int-spec.ts': 75,
  'apps/tariff-service/test/signed-meter.int-spec.ts': 74,
};

class LongestFirst extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const known = (t) => KNOWN_SECONDS[path.relative(t.context.config.rootDir, t.path).split(path.sep).join('/')] ?? 0;
    // Array.prototype.sort is stable: suites with the same weight keep jest's order
    return [...ordered].sort((a, b) => known(b) - known(a));
  }
}
module.exports = LongestFirst;
