/**
 * Benchmark of the pure pricing engine (libs/pricing): CDRs priced per second, single core.
 *
 *   npx tsx bench/pricing-engine.ts [--seconds 5]
 *
 * Workload: a 4-element OCPI 2.2.1 tariff with time-of-day restrictions (one window wrapping past
 * midnight) and step sizes on ENERGY, TIME and PARKING_TIME, plus a start fee and a max_price;
 * 1,000 distinct sessions of 20 charging periods each (charging with energy, current and power,
 * then parking), spread over a year of start dates in Europe/Amsterdam (both DST changes
 * included). The tariff is compiled once, as the tariff service caches it; each iteration
 * validates and prices one session into a full PricedCdr (breakdown and audit included).
 * Prints one human line and one JSON line.
 */
import { compileTariff, priceSession } from '@csms/pricing';
import type { OcpiTariff, PricingSession } from '@csms/pricing';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 5;

const tariff: OcpiTariff = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'bench-4-elements',
  currency: 'EUR',
  max_price: { excl_vat: 250, incl_vat: 302.5 },
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 0.5, vat: 21, step_size: 1 },
        { type: 'ENERGY', price: 0.29, vat: 21, step_size: 100 },
        { type: 'TIME', price: 1.2, vat: 21, step_size: 300 },
      ],
      restrictions: {
        start_time: '07:00',
        end_time: '17:00',
        day_of_week: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'],
      },
    },
    {
      price_components: [
        { type: 'ENERGY', price: 0.39, vat: 21, step_size: 100 },
        { type: 'TIME', price: 2.4, vat: 21, step_size: 300 },
        { type: 'PARKING_TIME', price: 3.0, vat: 21, step_size: 900 },
      ],
      restrictions: { start_time: '17:00', end_time: '23:00' },
    },
    {
      price_components: [
        { type: 'ENERGY', price: 0.21, vat: 21, step_size: 100 },
        { type: 'PARKING_TIME', price: 0, vat: 21, step_size: 900 },
      ],
      restrictions: { start_time: '23:00', end_time: '07:00' },
    },
    {
      price_components: [
        { type: 'FLAT', price: 0.75, vat: 21, step_size: 1 },
        { type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 },
        { type: 'TIME', price: 1.8, vat: 21, step_size: 60 },
        { type: 'PARKING_TIME', price: 2.0, vat: 21, step_size: 900 },
      ],
    },
  ],
  last_updated: '2026-01-01T00:00:00Z',
};

/** Deterministic pseudo-random numbers (no Math.random: the benchmark input is reproducible). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function makeSession(i: number): PricingSession {
  const rnd = lcg(i + 1);
  const start = Date.UTC(2026, 0, 1) + Math.floor(rnd() * 365) * 86_400_000 + Math.floor(rnd() * 96) * 900_000;
  const periods: PricingSession['charging_periods'] = [];
  let t = start;
  let energy = 0; // in Wh, integer
  for (let p = 0; p < 20; p++) {
    const length = 300 + Math.floor(rnd() * 1500); // 5 to 30 min
    const parking = p >= 16;
    const wh = parking ? 0 : Math.floor(rnd() * 9000);
    energy += wh;
    const current = 8 + Math.floor(rnd() * 56);
    periods.push({
      start_date_time: new Date(t).toISOString(),
      dimensions: parking
        ? [{ type: 'PARKING_TIME', volume: String(length) }]
        : [
            { type: 'ENERGY', volume: (wh / 1000).toFixed(3) },
            { type: 'TIME', volume: String(length) },
            { type: 'MAX_CURRENT', volume: String(current) },
            { type: 'MAX_POWER', volume: ((current * 230) / 1000).toFixed(2) },
          ],
    });
    t += length * 1000;
  }
  return {
    session_id: `bench-${i}`,
    start_date_time: new Date(start).toISOString(),
    end_date_time: new Date(t).toISOString(),
    time_zone: 'Europe/Amsterdam',
    currency: 'EUR',
    total_energy: (energy / 1000).toFixed(3),
    charging_periods: periods,
  };
}

const compiled = compileTariff(tariff);
const sessions = Array.from({ length: 1000 }, (_, i) => makeSession(i));

// Warm-up (JIT, time zone offset cache), then measure.
for (let w = 0; w < 2000; w++) priceSession(compiled, sessions[w % sessions.length]);

let count = 0;
let checksum = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const deadline = t0 + BigInt(Math.round(seconds * 1e9));
let now = t0;
while (now < deadline) {
  for (let k = 0; k < 100; k++) {
    const cdr = priceSession(compiled, sessions[count % sessions.length]);
    checksum += cdr.total_cost.excl_vat.length;
    count++;
  }
  now = process.hrtime.bigint();
}
const elapsedS = Number(now - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
const cdrsPerSecond = Math.round(count / elapsedS);
// Per second of CPU time of this (single-threaded) process: less sensitive to other load on the machine.
const cdrsPerCpuSecond = Math.round(count / cpuS);

// Same loop including JSON serialisation of each CDR (what is stored / published). The engine
// builds every object in a fixed key order, so JSON.stringify is deterministic byte for byte.
let countJson = 0;
const t1 = process.hrtime.bigint();
const deadline1 = t1 + BigInt(Math.round((seconds / 2) * 1e9));
let now1 = t1;
while (now1 < deadline1) {
  for (let k = 0; k < 100; k++) {
    checksum += JSON.stringify(priceSession(compiled, sessions[countJson % sessions.length])).length;
    countJson++;
  }
  now1 = process.hrtime.bigint();
}
const withJsonPerSecond = Math.round(countJson / (Number(now1 - t1) / 1e9));

// Machine yardsticks, to compare figures across machines: JSON.parse of one session input (the
// least work any consumer of it does) and a plain integer loop.
const sessionJson = JSON.stringify(sessions[0]);
let parses = 0;
const t2 = process.hrtime.bigint();
while (parses < 20000) {
  checksum += (JSON.parse(sessionJson) as PricingSession).charging_periods.length;
  parses++;
}
const jsonParseNs = Math.round(Number(process.hrtime.bigint() - t2) / parses);
let acc = 0;
const t3 = process.hrtime.bigint();
for (let i = 0; i < 50_000_000; i++) acc = (acc + i) | 0;
const loopNsPerIteration = Number((Number(process.hrtime.bigint() - t3) / 50_000_000).toFixed(3));
checksum += acc & 1;

console.log(
  `pricing-engine: ${cdrsPerSecond.toLocaleString('en-US')} CDRs/s wall clock, ${cdrsPerCpuSecond.toLocaleString('en-US')} per CPU second ` +
    `(4-element tariff, 20 periods, single core, ${count} CDRs in ${elapsedS.toFixed(2)} s); ` +
    `${withJsonPerSecond.toLocaleString('en-US')} CDRs/s including JSON.stringify; target >= 20,000/s. ` +
    `Machine yardsticks: JSON.parse of one session input ${jsonParseNs.toLocaleString('en-US')} ns, integer loop ${loopNsPerIteration} ns/iteration`,
);
console.log(
  JSON.stringify({
    bench: 'pricing-engine',
    cdrsPerSecond,
    cdrsPerCpuSecond,
    cdrsPerSecondWithJson: withJsonPerSecond,
    periodsPerCdr: 20,
    tariffElements: 4,
    cdrs: count,
    seconds: Number(elapsedS.toFixed(3)),
    node: process.version,
    target: 20000,
    jsonParseOfSessionNs: jsonParseNs,
    loopNsPerIteration,
    checksum,
  }),
);
