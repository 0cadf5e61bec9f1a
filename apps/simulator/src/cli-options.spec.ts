import { CliError, parseCli, parseRange } from './cli-options';
import { resolveShape, stationIdsFor } from './simulator';

describe('parseCli', () => {
  it('reads the documented example', () => {
    const o = parseCli(
      '--url ws://127.0.0.1:9000/ocpp --stations 10 --connectors 2 --protocol mixed --sessions 3 --seed 42'.split(' '),
    );
    expect(o.sim).toMatchObject({
      url: 'ws://127.0.0.1:9000/ocpp',
      stations: 10,
      connectors: 2,
      protocol: 'mixed',
      sessions: 3,
      seed: 42,
      shape: 'realistic',
      strict: true,
    });
    expect(stationIdsFor(o.sim).slice(0, 2)).toEqual(['SIM-42-0001', 'SIM-42-0002']);
    expect(o).toMatchObject({ stay: false, log: false, quiet: false, help: false });
  });

  it('turns shape options into overrides of the preset, in seconds and watts', () => {
    const o = parseCli([
      '--shape',
      'quick',
      '--charge-minutes',
      '1-2',
      '--idle-minutes',
      '0.5',
      '--power-kw',
      '7.4-22',
      '--fault-probability',
      '0.1',
    ]);
    const shape = resolveShape(o.sim.shape);
    expect(shape).toMatchObject({
      chargeSeconds: [60, 120],
      idleSeconds: [30, 30],
      maxPowerW: [7400, 22000],
      faultProbability: 0.1,
      minPowerW: 1000,
    });
    expect(shape.gapSeconds).toEqual(resolveShape('quick').gapSeconds);
  });

  it('replaces {id} in the password per station', () => {
    const o = parseCli(['--password', 'secret-{id}-0123456']);
    expect(typeof o.sim.password).toBe('function');
    expect((o.sim.password as (id: string, i: number) => string)('CP-1', 0)).toBe('secret-CP-1-0123456');
    expect(parseCli(['--password', 'same-for-all-0123']).sim.password).toBe('same-for-all-0123');
  });

  it('reads lists, protocol shorthands and flags', () => {
    const o = parseCli(
      [
        '--ids',
        'CP-A, CP-B',
        '--tokens',
        'T1,T2',
        '--protocol',
        '2.0.1',
        '--no-strict',
        '--stay',
        '--log',
        '--register',
        'http://127.0.0.1:3000/',
        '--on-pending',
        'proceed',
      ],
      { CSMS_API_KEY: 'k' },
    );
    expect(o.sim).toMatchObject({
      stationIds: ['CP-A', 'CP-B'],
      tokens: ['T1', 'T2'],
      protocol: 'ocpp2.0.1',
      strict: false,
      onPending: 'proceed',
    });
    expect(o).toMatchObject({ stay: true, log: true, register: { url: 'http://127.0.0.1:3000', apiKey: 'k' } });
  });

  it.each([
    [['--stations', '0'], /--stations/],
    [['--protocol', 'ocpp2.1'], /--protocol/],
    [['--shape', 'slow'], /--shape/],
    [['--speed', '-2'], /--speed/],
    [['--charge-minutes', '9-3'], /--charge-minutes/],
    [['--fault-probability', '2'], /--fault-probability/],
    [['--url', 'http://x'], /--url/],
    [['--start-time', 'yesterday'], /--start-time/],
    [['--bogus'], /bogus/],
  ])('refuses %j', (argv, msg) => {
    expect(() => parseCli(argv)).toThrow(CliError);
    expect(() => parseCli(argv)).toThrow(msg);
  });

  it('reads a start time, absolute or relative to now', () => {
    expect(parseCli(['--start-time', '2026-03-01T08:00:00Z']).sim.startTime).toBe('2026-03-01T08:00:00Z');
    expect(
      parseCli(['--start-time=-90m'], { __NOW__: String(Date.parse('2026-03-01T10:00:00.400Z')) }).sim.startTime,
    ).toBe('2026-03-01T08:30:00.000Z');
  });

  it.each([
    ['30', 60, [1800, 1800]],
    ['1-2.5', 60, [60, 150]],
    [' 7 - 22 ', 1000, [7000, 22000]],
  ])('parseRange(%j, ×%i)', (v, f, expected) => {
    expect(parseRange('x', v, f)).toEqual(expected);
  });

  it('--sign, --tamper-every N (needs --sign), --confirm-keys URL', () => {
    expect(parseCli(['--sign']).sim.signing).toBe(true);
    const o = parseCli(['--sign', '--tamper-every', '2', '--confirm-keys', 'http://127.0.0.1:3002/', '--api-key', 'k']);
    const signing = o.sim.signing as { tamper: (s: string, c: number, n: number) => boolean };
    expect([1, 2, 3, 4].map((n) => signing.tamper('S', 1, n))).toEqual([false, true, false, true]);
    expect(o.confirmKeys).toEqual({ url: 'http://127.0.0.1:3002', apiKey: 'k' });
    expect(() => parseCli(['--tamper-every', '2'])).toThrow(CliError);
    expect(parseCli([]).sim.signing).toBeUndefined();
  });
});
