/**
 * `npm run simulate -- --url ws://127.0.0.1:9000/ocpp --stations 10 --connectors 2 --protocol mixed --sessions 3 --seed 42`
 * Progress goes to stderr; the summary (and with --log every event) is JSON on stdout.
 */
import { CliError, parseCli, USAGE, type CliOptions } from './cli-options';
import { defaultTokens } from './model/plan';
import { Simulation, type SimulationSummary } from './simulator';
import type { SimEvent } from './station';

async function register(opts: CliOptions, sim: Simulation): Promise<void> {
  const reg = opts.register!;
  if (!reg.apiKey) throw new CliError('--register needs --api-key (or CSMS_API_KEY)');
  if (opts.passwordTemplate === undefined)
    throw new CliError('--register needs --password (16 to 40 characters; {id} = station id)');
  const put = async (path: string, body: unknown) => {
    const r = await fetch(`${reg.url}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${reg.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new CliError(`PUT ${path}: HTTP ${r.status} ${await r.text()}`);
  };
  for (const [i, st] of sim.stations.entries()) {
    const password = opts.passwordTemplate.split('{id}').join(st.id);
    const evses = sim.plans[i].connectors.map((c) => ({ evseId: c.connectorId, connectors: [{ connectorId: 1 }] }));
    await put(`/api/v1/stations/${encodeURIComponent(st.id)}`, { securityProfile: 1, password, evses });
  }
  const tokens = opts.sim.tokens ?? defaultTokens(opts.sim.seed ?? 1);
  for (const uid of tokens)
    await put(`/api/v1/tokens/${encodeURIComponent(uid)}`, { type: 'ISO14443', status: 'Accepted' });
  process.stderr.write(`registered ${sim.stations.length} stations and ${tokens.length} tokens at ${reg.url}\n`);
}

/** Confirms each station's meter key with the tariff service (operator role), as an operator would from the meter's label. */
async function confirmKeys(opts: CliOptions, sim: Simulation): Promise<void> {
  const c = opts.confirmKeys!;
  if (!c.apiKey) throw new CliError('--confirm-keys needs --api-key (or CSMS_API_KEY)');
  for (const k of sim.meterKeys()) {
    const r = await fetch(`${c.url}/api/v1/meter-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        stationId: k.stationId,
        evseId: 0,
        publicKey: k.publicKeyHex,
        meterSerial: k.meterSerial,
      }),
    });
    if (!r.ok) throw new CliError(`POST /api/v1/meter-keys: HTTP ${r.status} ${await r.text()}`);
  }
  process.stderr.write(`confirmed ${sim.meterKeys().length} meter keys at ${c.url}\n`);
}

function describe(e: SimEvent): string | undefined {
  const d = e.detail ?? {};
  switch (e.kind) {
    case 'message':
    case 'connecting':
    case 'queued':
    case 'dropped':
      return undefined;
    case 'session-started':
      return `session started on ${d.connectorId} (tx ${d.transactionId}, ${d.idTag})`;
    case 'session-ended':
      return `session ended on ${d.connectorId} (tx ${d.transactionId}, ${d.reason}, ${d.energyWh} Wh)`;
    default:
      return `${e.kind}${Object.keys(d).length ? ` ${JSON.stringify(d)}` : ''}`;
  }
}

async function main(): Promise<void> {
  let opts: CliOptions;
  try {
    opts = parseCli(process.argv.slice(2), process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  const sim = new Simulation({ ...opts.sim, keepLog: false });
  sim.on('event', (e: SimEvent) => {
    if (opts.log) process.stdout.write(`${JSON.stringify(e)}\n`);
    else if (!opts.quiet) {
      const line = describe(e);
      if (line) process.stderr.write(`${e.time.slice(11, 23)} ${e.stationId} ${line}\n`);
    }
  });
  if (opts.register) await register(opts, sim);
  if (opts.sim.signing)
    for (const k of sim.meterKeys())
      process.stderr.write(`meter key ${k.stationId} (${k.meterSerial}): ${k.publicKeyHex}\n`);
  if (opts.confirmKeys) await confirmKeys(opts, sim);
  const clockNote =
    sim.clock.speed > 1
      ? ` (speed ${sim.clock.speed}: station clocks run ahead of real time; the CSMS flags clocks > 5 min ahead)`
      : '';
  process.stderr.write(
    `simulating ${sim.stations.length} station(s) against ${opts.sim.url}, seed ${opts.sim.seed ?? 1}${clockNote}\n`,
  );

  let finished = false;
  const finish = async (summary: SimulationSummary, code: number) => {
    if (finished) return;
    finished = true;
    process.stdout.write(`${JSON.stringify({ summary: summary.totals, stations: summary.stations })}\n`);
    process.exit(code);
  };
  process.on('SIGINT', () => void sim.stop().then((s) => finish(s, 130)));
  process.on('SIGTERM', () => void sim.stop().then((s) => finish(s, 143)));
  sim.start();
  await sim.whenDone();
  if (opts.stay) {
    process.stderr.write('plan complete; staying connected (Ctrl-C to stop)\n');
    return;
  }
  const summary = await sim.stop();
  await finish(summary, summary.totals.errors > 0 ? 1 : 0);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
