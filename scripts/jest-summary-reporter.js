// Prints the closing line CI reads: `tests: N passed, M failed`. A suite that fails to load
// (a syntax or import error) counts as one failed test, so it can never pass silently.
// Before it, the slowest suites by wall time, so CI's log shows where its minutes go.
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const suites = results.testResults
      .map((r) => ({ file: path.relative(this.rootDir, r.testFilePath), ms: r.perfStats.end - r.perfStats.start }))
      .filter((s) => Number.isFinite(s.ms) && s.ms > 0)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 15);
    if (suites.length > 0) {
      process.stdout.write('\nslowest suites (wall time):\n');
      for (const s of suites) process.stdout.write(`  ${(s.ms / 1000).toFixed(1).padStart(7)} s  ${s.file}\n`);
    }
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
  }
}
module.exports = SummaryReporter;
