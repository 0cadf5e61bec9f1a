/**
 * `npm run demo`: the CSMS in two minutes.
 * 1. Starts the system (`npm start`) unless its four services already answer on their ports.
 * 2. Registers a site, five stations (OCPP 1.6 and 2.0.1) with the site's location (OCPI: address,
 *    coordinates) and their connector types, and RFID tokens with the gateway, and a
 *    realistic tariff with the tariff service: a start fee, energy with an evening peak, a charging-time
 *    component, and an idle fee for parking after charging.
 * 3. Runs the charger simulator (seeded, real time) for about a minute and a half.
 * 4. Prints the resulting CDRs as a table with the totals.
 * A system the demo started is stopped at the end (its data stays: `npm start` shows the same CDRs).
 * Options: --seed N (default 7), --stations N (default 5), --keep (leave a system it started running).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import Decimal from 'decimal.js';
import { Simulation } from '../apps/simulator/src';

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const SEED = Number(opt('seed', '7'));
const STATIONS = Number(opt('stations', '5'));
const KEEP = args.includes('--keep');
const ports = {
  gateway: Number(process.env.GATEWAY_HTTP_PORT ?? 3000),
  tariffs: Number(process.env.TARIFF_HTTP_PORT ?? 3002),
};
const others = [Number(process.env.SESSION_HTTP_PORT ?? 3001), Number(process.env.REPORTING_HTTP_PORT ?? 3003)];
const OCPP = `ws://127.0.0.1:${process.env.OCPP_PORT ?? 9000}/ocpp`;

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200;
  } catch {
    return false;
  }
}

function adminKey(): string {
  if (process.env.CSMS_API_KEY) return process.env.CSMS_API_KEY;
  const file = path.join(process.env.XDG_CONFIG_HOME ?? path.join(homedir(), '.config'), 'csms', 'local.env');
  if (!existsSync(file))
    throw new Error(`no admin key: set CSMS_API_KEY, or start the system once with npm start (it writes ${file})`);
  const m = /^CSMS_ADMIN_KEY=(.+)$/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file} has no CSMS_ADMIN_KEY`);
  return m[1].trim();
}

async function ensureSystem(): Promise<ChildProcess | undefined> {
  const all = [ports.gateway, ports.tariffs, ...others];
  if ((await Promise.all(all.map(ready))).every(Boolean)) {
    console.log('the system is running: using it');
    return undefined;
  }
  console.log('starting the system (npm start)…');
  const child = spawn('npm', ['start'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const deadline = Date.now() + 240_000;
  while (!(await Promise.all(all.map(ready))).every(Boolean)) {
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`the system did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return child;
}

async function main(): Promise<void> {
  const system = await ensureSystem();
  const key = adminKey();
  const call = async (port: number, method: string, p: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  // a run of its own: station ids and tokens carry the minute it started
  const run = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
  const site = 'demo-site-amsterdam';
  const password = `demo-password-${run}`;
  const stationIds = Array.from({ length: STATIONS }, (_, i) => `DEMO-${run}-${String(i + 1).padStart(2, '0')}`);
  const tokens = ['04A1', '04B2', '04C3', '04D4'].map((t) => `${t}${run.slice(-6)}`);
  // the site's location (OCPI-shaped; its id defaults to the site id) and, per station, two DC EVSEs with one
  // cable each (the simulator's connector N is EVSE N, connector 1): what each CDR's cdr_location is made of
  const location = {
    name: 'Demo fast charging hub',
    address: 'Piet Heinkade 10',
    city: 'Amsterdam',
    postal_code: '1019 BR',
    country: 'NLD',
    coordinates: { latitude: '52.377956', longitude: '4.913460' },
  };
  const evses = [
    {
      evseId: 1,
      connectors: [
        {
          connectorId: 1,
          standard: 'IEC_62196_T2_COMBO',
          format: 'CABLE',
          power_type: 'DC',
          max_voltage: 920,
          max_amperage: 200,
          max_electric_power: 150000,
        },
      ],
    },
    {
      evseId: 2,
      connectors: [
        {
          connectorId: 1,
          standard: 'CHADEMO',
          format: 'CABLE',
          power_type: 'DC',
          max_voltage: 500,
          max_amperage: 125,
          max_electric_power: 62500,
        },
      ],
    },
  ];
  for (const id of stationIds)
    await call(ports.gateway, 'PUT', `/api/v1/stations/${id}`, {
      securityProfile: 1,
      password,
      siteId: site,
      timeZone: 'Europe/Amsterdam',
      location,
      evses,
    });
  for (const [i, uid] of tokens.entries())
    await call(ports.gateway, 'PUT', `/api/v1/tokens/${uid}`, {
      type: 'ISO14443',
      status: 'Accepted',
      groupId: 'DEMO-FLEET',
      billingAccountId: `acct-${i + 1}`,
    });
  const tariff = {
    country_code: 'NL',
    party_id: 'CSM',
    id: 'DEMO-AC-DC',
    currency: 'EUR',
    type: 'REGULAR',
    tariff_alt_text: [
      {
        language: 'en',
        text: '0.50 start, 0.35/kWh (0.45 from 17:00 to 21:00), 1.20/h charging, idle fee 0.10/min after charging',
      },
    ],
    elements: [
      { price_components: [{ type: 'FLAT', price: 0.5, vat: 21, step_size: 1 }] },
      {
        price_components: [{ type: 'ENERGY', price: 0.45, vat: 21, step_size: 1 }],
        restrictions: { start_time: '17:00', end_time: '21:00' },
      },
      {
        price_components: [
          { type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 },
          { type: 'TIME', price: 1.2, vat: 21, step_size: 60 },
        ],
      },
      { price_components: [{ type: 'PARKING_TIME', price: 6.0, vat: 21, step_size: 60 }] },
    ],
  };
  const version = await call(ports.tariffs, 'PUT', `/api/v1/tariffs/${tariff.id}`, tariff);
  await call(ports.tariffs, 'POST', '/api/v1/tariff-assignments', {
    tariffId: tariff.id,
    scope: { kind: 'site', siteId: site },
  });
  console.log(
    `registered ${STATIONS} stations at ${site} (${location.address}, ${location.city}), ${tokens.length} tokens, tariff ${tariff.id} v${version.version}`,
  );
  await new Promise((r) => setTimeout(r, 1500)); // the gateways' registry caches follow the compacted topics

  console.log('running the simulator (seed %d, real time, about 90 s)…', SEED);
  const sim = new Simulation({
    url: OCPP,
    stationIds,
    connectors: 2,
    sessions: 1,
    protocol: 'mixed',
    seed: SEED,
    password,
    tokens,
    shape: {
      base: 'quick',
      chargeSeconds: [30, 60],
      idleSeconds: [15, 30],
      gapSeconds: [0, 10],
      plugToAuthSeconds: [2, 5],
      authToChargeSeconds: [1, 3],
      maxPowerW: [50_000, 150_000],
      faultProbability: 0.2,
      faultSeconds: [10, 20],
      suspendProbability: 0.2,
      suspendSeconds: [5, 15],
      unplugAfterStopSeconds: [2, 5],
    },
    speed: 1,
    sampleIntervalSeconds: 10,
    keepLog: false,
  });
  sim.start();
  const summary = await sim.whenDone();
  await sim.stop();
  const completed = summary.totals?.sessionsCompleted ?? 0;
  console.log(`simulator: ${completed} sessions completed`);

  type Cdr = {
    id: string;
    session_id: string;
    total_energy: string;
    total_time: string;
    total_parking_time?: string;
    total_cost: { excl_vat: string; incl_vat: string };
    cdr_location: { evse_uid: string; connector_standard?: string };
    cdr_token: { uid: string };
  };
  let cdrs: Cdr[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const all: Cdr[] = [];
    for (const id of stationIds)
      all.push(...(await call(ports.tariffs, 'GET', `/api/v1/cdrs?stationId=${id}&limit=500`)).items);
    cdrs = all;
    if (cdrs.length >= completed) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const hm = (hours: string) => {
    const s = new Decimal(hours).times(3600).toDecimalPlaces(0).toNumber();
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  };
  const rows = cdrs.map((c) => [
    c.session_id.slice(0, 8),
    c.cdr_location.evse_uid,
    c.cdr_location.connector_standard ?? '(unknown)',
    c.cdr_token.uid,
    `${c.total_energy} kWh`,
    hm(c.total_time),
    hm(c.total_parking_time ?? '0'),
    c.total_cost.excl_vat,
    c.total_cost.incl_vat,
  ]);
  const head = [
    'session',
    'station*evse',
    'connector',
    'token',
    'energy',
    'duration',
    'parking',
    'EUR excl',
    'EUR incl',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
  const sum = (f: (c: Cdr) => string) => cdrs.reduce((a, c) => a.plus(f(c)), new Decimal(0));
  console.log(`${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  console.log(
    line([
      'total',
      `${cdrs.length} CDRs`,
      '',
      '',
      `${sum((c) => c.total_energy).toFixed()} kWh`,
      '',
      '',
      sum((c) => c.total_cost.excl_vat).toFixed(2),
      sum((c) => c.total_cost.incl_vat).toFixed(2),
    ]),
  );
  if (cdrs.length < completed)
    console.log(
      `\n(${completed - cdrs.length} sessions not priced yet: see GET /api/v1/pricing-failures on the tariff service)`,
    );
  console.log(
    `\nCDRs as OCPI JSON: curl -H "Authorization: Bearer <key>" http://127.0.0.1:${ports.tariffs}/api/v1/cdrs?include=audit`,
  );

  if (system && !KEEP) {
    console.log('\nstopping the system the demo started (npm start shows the same data again)…');
    process.kill(-system.pid!, 'SIGINT');
    await new Promise((r) => system.once('exit', r));
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
