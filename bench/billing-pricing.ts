/**
 * Benchmark of billing + pricing, pure (libs/billing, libs/pricing): session.ended payloads turned into
 * priced CDRs per CPU second, single core; what the tariff service does per session, without Kafka or
 * the database.
 *
 *   npx tsx bench/billing-pricing.ts [--seconds 5]
 *
 * Workload: the 399 session.ended payloads of libs/billing's golden corpus (the session decider's seeded
 * workloads: 1 to 5 periods, timelines of 2 to 19 readings) with a 4-element time-of-day tariff that
 * also has a kWh threshold, compiled once, in Europe/Amsterdam. Each iteration is toPricingSession
 * (splitting at the tariff's boundaries, exact interpolation) then priceSession on its result. Payloads
 * that billing refuses count too (their error is the work). Prints one human line and one JSON line.
 */
import * as fs from 'fs';
import * as path from 'path';
import { toPricingSession, type SessionEndedPayload } from '@csms/billing';
import { compileTariff, priceSession, type OcpiPriceComponent, type OcpiTariff } from '@csms/pricing';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 5;
const corpus = JSON.parse(
  fs.readFileSync(
    path.join(__dirname, '..', 'libs', 'billing', 'src', 'fixtures', 'session-ended-corpus.json'),
    'utf8',
  ),
) as SessionEndedPayload[];

const c = (type: OcpiPriceComponent['type'], price: number, step_size: number): OcpiPriceComponent => ({
  type,
  price,
  step_size,
  vat: 21,
});
const tariff: OcpiTariff = {
  id: 'bench-billing',
  currency: 'EUR',
  elements: [
    {
      price_components: [c('FLAT', 0.5, 1), c('ENERGY', 0.3, 1), c('TIME', 1.2, 60)],
      restrictions: { start_time: '07:00', end_time: '11:30' },
    },
    {
      price_components: [c('ENERGY', 0.4, 100), c('TIME', 2.4, 300), c('PARKING_TIME', 3, 900)],
      restrictions: { start_time: '11:30', end_time: '17:00', max_kwh: 1.5 },
    },
    {
      price_components: [c('ENERGY', 0.45, 100), c('TIME', 2.4, 300), c('PARKING_TIME', 3, 900)],
      restrictions: { start_time: '17:00', end_time: '23:00' },
    },
    { price_components: [c('ENERGY', 0.2, 100), c('PARKING_TIME', 0, 900)] },
  ],
};
const compiled = compileTariff(tariff);

let checksum = 0;
let refused = 0;
function one(p: SessionEndedPayload): void {
  try {
    checksum += priceSession(
      compiled,
      toPricingSession(p, { timeZone: 'Europe/Amsterdam', currency: 'EUR', tariff: compiled }),
    ).total_cost.excl_vat.length;
  } catch {
    refused++;
  }
}

// Warm-up (JIT, time zone offsets), then measure.
for (let w = 0; w < 3000; w++) one(corpus[w % corpus.length]);
refused = 0;
let count = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const deadline = t0 + BigInt(Math.round(seconds * 1e9));
let now = t0;
while (now < deadline) {
  for (let k = 0; k < 50; k++) one(corpus[count++ % corpus.length]);
  now = process.hrtime.bigint();
}
const elapsedS = Number(now - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const perSecond = Math.round(count / elapsedS);
const perCpuSecond = Math.round(count / ((cpu.user + cpu.system) / 1e6));

console.log(
  `billing-pricing: ${perSecond.toLocaleString('en-US')} session.ended -> CDR per second wall clock, ${perCpuSecond.toLocaleString('en-US')} per CPU second ` +
    `(${corpus.length} payloads, 4-element tariff, single core, ${count} in ${elapsedS.toFixed(2)} s, ${Math.round((refused / count) * 100)} % refused by billing)`,
);
console.log(
  JSON.stringify({
    bench: 'billing-pricing',
    perSecond,
    perCpuSecond,
    count,
    seconds: Number(elapsedS.toFixed(3)),
    refusedShare: refused / count,
    node: process.version,
    checksum,
  }),
);
