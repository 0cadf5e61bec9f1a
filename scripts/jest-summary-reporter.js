// Prints the closing line CI reads: `tests: N passed, M failed`. A suite that fails to load
// (a syntax or import error) counts as one failed test, so it can never pass silently.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
  }
}
module.exports = SummaryReporter;
