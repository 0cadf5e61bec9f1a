/**
 * Command-line options of `npm run simulate`, parsed into SimulationOptions (pure, unit-tested).
 */
import { parseArgs } from 'node:util';
import type { SessionShape } from './model/plan';
import type { SimulationOptions } from './simulator';

export const USAGE = `usage: npm run simulate -- [options]

  --url URL                 CSMS endpoint without the station id (default ws://127.0.0.1:9000/ocpp)
  --stations N              number of stations (default 1)
  --connectors N            connectors (1.6) / EVSEs (2.0.1) per station (default 2)
  --sessions N              planned sessions per connector (default 1)
  --protocol P              ocpp1.6 | ocpp2.0.1 | mixed (even stations 1.6, odd 2.0.1) (default ocpp1.6)
  --seed N                  PRNG seed: same seed, same plan and messages (default 1)
  --prefix STR              station ids <prefix>0001... (default SIM-<seed>-)
  --ids A,B,...             explicit station ids (instead of --stations/--prefix)
  --password STR            HTTP Basic password (security profile 1); {id} is replaced by the station id
  --tokens A,B,...          id tags presented by the drivers (default SIM<seed>T1..8)
  --shape NAME              realistic (hours) | quick (minutes) (default realistic)
  --charge-minutes A-B      longest active charging time per session
  --idle-minutes A-B        parking after charging (SuspendedEV) before the stop
  --gap-minutes A-B         time between sessions on a connector
  --power-kw A-B            maximum charging power
  --battery-kwh A-B         EV battery size
  --suspend-probability P   chance of a pause (SuspendedEV/SuspendedEVSE) while charging
  --fault-probability P     chance of a connector fault after a session
  --offline-probability P   chance of a connection loss during a session (messages queue)
  --speed X                 station seconds per real second (default 1); > 1 runs station clocks ahead
  --start-time T            station time at the start: RFC 3339, or =-30m / =-2h before now (default now);
                            fix it for identical timestamps
  --sample-interval S       MeterValueSampleInterval / TxUpdatedInterval in station seconds (default 60)
  --on-pending MODE         wait (retry BootNotification, the spec) | proceed (default wait)
  --start-interval-ms MS    spread station start-up (default 0)
  --no-strict               do not validate frames against the official schemas in the client
  --register URL            register stations (profile 1, --password) and tokens with the gateway API first
  --api-key KEY             bearer key for --register (or CSMS_API_KEY)
  --sign                    each station's meter signs its transaction begin/end readings (OCMF, a
                            secp256r1 key per station made at start; 1.6 SignedData, 2.0.1 signedMeterValue)
  --tamper-every N          with --sign: every Nth session of a connector gets its end reading changed
                            after signing (the CSMS must flag it)
  --confirm-keys URL        with --sign: confirm each station's meter key with the tariff service API
                            (POST URL/api/v1/meter-keys, --api-key with the operator role) before starting
  --stay                    stay connected after the plan (answer the CSMS) until Ctrl-C
  --log                     print every event (messages included) as a JSON line on stdout
  --quiet                   print only the summary
  --help
`;

export interface CliOptions {
  sim: SimulationOptions;
  /** password template ({id}) for --register */
  passwordTemplate?: string;
  register?: { url: string; apiKey?: string };
  /** the tariff service to confirm the meter keys with (--sign) */
  confirmKeys?: { url: string; apiKey?: string };
  stay: boolean;
  log: boolean;
  quiet: boolean;
  help: boolean;
}

export class CliError extends Error {}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(v) || Number(v) < min) throw new CliError(`--${name} must be an integer >= ${min} (got ${v})`);
  return Number(v);
}

function num(name: string, v: string | undefined, min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new CliError(`--${name} must be a number in [${min}, ${max}] (got ${v})`);
  return n;
}

/** "30-90" or "45" → [a, b] × factor (whole numbers). */
export function parseRange(name: string, v: string | undefined, factor: number): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:-\s*([0-9]+(?:\.[0-9]+)?))?\s*$/.exec(v);
  if (!m) throw new CliError(`--${name} must be N or A-B (got ${v})`);
  const a = Math.round(Number(m[1]) * factor);
  const b = Math.round(Number(m[2] ?? m[1]) * factor);
  if (a > b) throw new CliError(`--${name}: ${m[1]} is more than ${m[2]}`);
  return [a, b];
}

/** An RFC 3339 time, or `-90m` / `-2h` / `-30s` before now (whole seconds). */
export function parseStartTime(v: string | undefined, now: number): string | undefined {
  if (v === undefined) return undefined;
  const rel = /^-([0-9]+)(s|m|h)$/.exec(v.trim());
  if (rel) {
    const ms = Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[rel[2] as 's' | 'm' | 'h'];
    return new Date(Math.floor(now / 1000) * 1000 - ms).toISOString();
  }
  if (Number.isNaN(Date.parse(v))) throw new CliError(`--start-time must be an RFC 3339 time or -<n>s|m|h (got ${v})`);
  return v;
}

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

export function parseCli(argv: string[], env: Record<string, string | undefined> = {}): CliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        stations: { type: 'string' },
        connectors: { type: 'string' },
        sessions: { type: 'string' },
        protocol: { type: 'string' },
        seed: { type: 'string' },
        prefix: { type: 'string' },
        ids: { type: 'string' },
        password: { type: 'string' },
        tokens: { type: 'string' },
        shape: { type: 'string' },
        'charge-minutes': { type: 'string' },
        'idle-minutes': { type: 'string' },
        'gap-minutes': { type: 'string' },
        'power-kw': { type: 'string' },
        'battery-kwh': { type: 'string' },
        'suspend-probability': { type: 'string' },
        'fault-probability': { type: 'string' },
        'offline-probability': { type: 'string' },
        speed: { type: 'string' },
        'start-time': { type: 'string' },
        'sample-interval': { type: 'string' },
        'on-pending': { type: 'string' },
        'start-interval-ms': { type: 'string' },
        'no-strict': { type: 'boolean' },
        register: { type: 'string' },
        'api-key': { type: 'string' },
        sign: { type: 'boolean' },
        'tamper-every': { type: 'string' },
        'confirm-keys': { type: 'string' },
        stay: { type: 'boolean' },
        log: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const s = (k: string) => values[k] as string | undefined;
  const protocolArg = s('protocol') ?? 'ocpp1.6';
  const protocol = (
    { '1.6': 'ocpp1.6', '2.0.1': 'ocpp2.0.1', 'ocpp1.6': 'ocpp1.6', 'ocpp2.0.1': 'ocpp2.0.1', mixed: 'mixed' } as const
  )[protocolArg as '1.6'];
  if (!protocol) throw new CliError(`--protocol must be ocpp1.6, ocpp2.0.1 or mixed (got ${protocolArg})`);
  const shapeName = s('shape') ?? 'realistic';
  if (shapeName !== 'realistic' && shapeName !== 'quick')
    throw new CliError(`--shape must be realistic or quick (got ${shapeName})`);
  const onPending = s('on-pending') ?? 'wait';
  if (onPending !== 'wait' && onPending !== 'proceed')
    throw new CliError(`--on-pending must be wait or proceed (got ${onPending})`);
  const startTime = parseStartTime(s('start-time'), env.__NOW__ ? Number(env.__NOW__) : Date.now());
  const url = s('url') ?? 'ws://127.0.0.1:9000/ocpp';
  if (!/^wss?:\/\//.test(url)) throw new CliError(`--url must start with ws:// or wss:// (got ${url})`);

  const overrides: Partial<SessionShape> = {};
  const set = <K extends keyof SessionShape>(k: K, v: SessionShape[K] | undefined) => {
    if (v !== undefined) overrides[k] = v;
  };
  set('chargeSeconds', parseRange('charge-minutes', s('charge-minutes'), 60));
  set('idleSeconds', parseRange('idle-minutes', s('idle-minutes'), 60));
  set('gapSeconds', parseRange('gap-minutes', s('gap-minutes'), 60));
  set('maxPowerW', parseRange('power-kw', s('power-kw'), 1000));
  set('batteryWh', parseRange('battery-kwh', s('battery-kwh'), 1000));
  set('suspendProbability', num('suspend-probability', s('suspend-probability'), 0, 1));
  set('faultProbability', num('fault-probability', s('fault-probability'), 0, 1));
  set('offlineProbability', num('offline-probability', s('offline-probability'), 0, 1));
  if (overrides.maxPowerW) overrides.minPowerW = Math.min(1000, overrides.maxPowerW[0]);

  const passwordTemplate = s('password');
  const sim: SimulationOptions = {
    url,
    stations: int('stations', s('stations'), 1),
    connectors: int('connectors', s('connectors'), 1),
    sessions: int('sessions', s('sessions'), 0),
    protocol,
    seed: int('seed', s('seed'), 0),
    prefix: s('prefix'),
    stationIds: list(s('ids')),
    password:
      passwordTemplate === undefined
        ? undefined
        : passwordTemplate.includes('{id}')
          ? (id: string) => passwordTemplate.split('{id}').join(id)
          : passwordTemplate,
    tokens: list(s('tokens')),
    shape: Object.keys(overrides).length ? { base: shapeName, ...overrides } : shapeName,
    speed: num('speed', s('speed'), Number.MIN_VALUE),
    startTime,
    sampleIntervalSeconds: int('sample-interval', s('sample-interval'), 1),
    onPending,
    startIntervalMs: int('start-interval-ms', s('start-interval-ms'), 0),
    strict: values['no-strict'] ? false : true,
  };
  const tamperEvery = int('tamper-every', s('tamper-every'), 1);
  if ((tamperEvery !== undefined || s('confirm-keys') !== undefined) && !values.sign)
    throw new CliError('--tamper-every and --confirm-keys need --sign');
  if (values.sign)
    sim.signing =
      tamperEvery === undefined
        ? true
        : { tamper: (_station: string, _connector: number, n: number) => n % tamperEvery === 0 };
  for (const k of Object.keys(sim) as Array<keyof SimulationOptions>) if (sim[k] === undefined) delete sim[k];
  const registerUrl = s('register');
  return {
    sim,
    passwordTemplate,
    register: registerUrl
      ? { url: registerUrl.replace(/\/+$/, ''), apiKey: s('api-key') ?? env.CSMS_API_KEY }
      : undefined,
    confirmKeys: s('confirm-keys')
      ? { url: s('confirm-keys')!.replace(/\/+$/, ''), apiKey: s('api-key') ?? env.CSMS_API_KEY }
      : undefined,
    stay: !!values.stay,
    log: !!values.log,
    quiet: !!values.quiet,
    help: !!values.help,
  };
}
