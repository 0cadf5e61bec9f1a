// `npm test`: the whole test run, in two lanes at once.
//   lane 1: the static checks (typecheck, lint, format, module boundaries), then the unit project (pure, CPU-bound);
//   lane 2: the integration project, one suite at a time (mostly waiting on services, brokers and databases).
// The integration lane barely uses the CPU (about a fifth of a core), so the CPU-bound lane beside it costs it
// little, and the whole run is shorter by the static checks' and unit tests' time (about six minutes on the CI
// machine). While lane 1 runs, the integration suites share the machine, so their limits get a little slack
// (TEST_SLACK=2: a passing wait still returns as soon as its condition holds; see jest.config.js).
// Lane 2's output streams; lane 1's is printed when it ends (so the two never interleave). Last, the line CI reads:
// `tests: N passed, M failed` summed over both lanes (a lane that ends without its own such line, e.g. a failed
// static check, counts as one failed test). `TEST_LANES=1` runs everything one after the other instead.
const { spawn } = require('node:child_process');

const LINE = /^tests: (\d+) passed, (\d+) failed$/m;

function run(cmd, env, onData) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d) => {
      out += d.toString();
      onData?.(d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

function counts(lane) {
  const all = [...lane.out.matchAll(new RegExp(LINE.source, 'gm'))];
  const m = all[all.length - 1];
  if (!m) return { passed: 0, failed: 1 };
  return { passed: Number(m[1]), failed: Number(m[2]) + (lane.code !== 0 && Number(m[2]) === 0 ? 1 : 0) };
}

const STATIC = 'npm run -s typecheck && npm run -s lint && npm run -s format:check && npm run -s depcheck';

async function main() {
  let lanes;
  if (process.env.TEST_LANES === '1') {
    lanes = [await run(`${STATIC} && npx jest`, {}, (d) => process.stdout.write(d))];
  } else {
    const started = Date.now();
    const first = run(`${STATIC} && npx jest --selectProjects unit`, {}).then((r) => {
      process.stdout.write(
        `\n---- static checks and unit tests (done after ${Math.round((Date.now() - started) / 1000)} s) ----\n`,
      );
      process.stdout.write(r.out);
      process.stdout.write('---- end of static checks and unit tests ----\n\n');
      return r;
    });
    const second = run(
      'npx jest --selectProjects integration',
      { TEST_SLACK: process.env.TEST_SLACK ?? (Number(process.env.JEST_WORKERS ?? 1) > 1 ? '3' : '2') },
      (d) => process.stdout.write(d),
    );
    lanes = await Promise.all([first, second]);
  }
  const total = lanes.map(counts).reduce((a, b) => ({ passed: a.passed + b.passed, failed: a.failed + b.failed }));
  process.stdout.write(`\ntests: ${total.passed} passed, ${total.failed} failed\n`);
  process.exit(total.failed > 0 || lanes.some((l) => l.code !== 0) ? 1 : 0);
}

main();
