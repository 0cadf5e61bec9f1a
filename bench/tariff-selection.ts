/**
 * Tariff selection per session against the catalogue's size, pure (libs/billing, one core, no I/O).
 *   npx tsx bench/tariff-selection.ts [tariffs=1,300,3000] [sessions=20000]
 * A catalogue of N tariffs with three versions each (the validity window of the newest one set), N − 1 assigned to
 * sites and one as the default, plus a station-level assignment for a tenth of the stations; sessions at stations of
 * those sites and others. For each size: µs per selection through `selectTariff` (what a one-off caller pays: the
 * catalogue checked and filed for that one session) and through a `TariffIndex` built once (what the tariff
 * service's pricing and running-cost consumers pay since 2026-12-07: the index kept with the catalogue snapshot),
 * and the time to build the index. Until then every selection scanned and parsed the whole catalogue, as
 * `selectTariff` still does for its one session. Both give the same answers (checked here for every session).
 * Prints a human line per size and a JSON line.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { TariffIndex, selectTariff, type TariffAssignment, type TariffVersionRef } from '@csms/billing';

function catalogue(n: number): { assignments: TariffAssignment[]; versions: TariffVersionRef[] } {
  const assignments: TariffAssignment[] = [];
  const versions: TariffVersionRef[] = [];
  let sequence = 0;
  for (let t = 0; t < n; t++) {
    const tariffId = `TARIFF-${t}`;
    for (let v = 1; v <= 3; v++)
      versions.push({
        tariffId,
        version: v,
        effectiveFrom: `2026-0${v}-01T00:00:00Z`,
        publishedAt: `2026-0${v}-01T00:00:00Z`,
        ...(v === 3
          ? { tariff: { start_date_time: '2026-01-01T00:00:00Z', end_date_time: '2027-01-01T00:00:00Z' } }
          : {}),
      });
    const scope = t === 0 ? { kind: 'default' as const } : { kind: 'site' as const, siteId: `SITE-${t}` };
    assignments.push({
      assignmentId: `A-${t}`,
      tariffId,
      scope,
      effectiveFrom: '2026-01-01T00:00:00Z',
      sequence: ++sequence,
    });
  }
  for (let s = 0; s < 1000; s += 10)
    assignments.push({
      assignmentId: `A-station-${s}`,
      tariffId: `TARIFF-${s % n}`,
      scope: { kind: 'station', stationId: `CP-${s}` },
      effectiveFrom: '2026-02-15T00:00:00Z',
      sequence: ++sequence,
    });
  return { assignments, versions };
}

function main(): void {
  const sizes = (process.argv[2] ?? '1,300,3000').split(',').map(Number);
  const sessions = Number(process.argv[3] ?? 20000);
  const contexts = Array.from({ length: sessions }, (_, i) => ({
    at: `2026-0${1 + (i % 9)}-1${i % 10}T12:00:00Z`,
    stationId: `CP-${i % 1000}`,
    siteId: i % 3 === 0 ? undefined : `SITE-${i % 997}`,
    evseId: 1,
    connectorId: 1,
  }));
  const rows = sizes.map((n) => {
    const { assignments, versions } = catalogue(n);
    const time = (f: () => void) => {
      const t0 = performance.now();
      f();
      return performance.now() - t0;
    };
    // the scan on fewer sessions at large sizes (it is the slow one), the index on all of them
    const scanned = Math.max(200, Math.min(sessions, Math.round(2_000_000 / (n * 4 + 100))));
    let scan: unknown[] = [];
    // a first pass unmeasured (compiled code, not the interpreter, is timed), then the measured one
    for (let i = 0; i < Math.min(scanned, 200); i++) new TariffIndex(assignments, versions).select(contexts[i]);
    for (let i = 0; i < Math.min(scanned, 200); i++) scan.push(selectTariff(assignments, versions, contexts[i]));
    scan = [];
    const scanMs = time(() => {
      for (let i = 0; i < scanned; i++) scan.push(selectTariff(assignments, versions, contexts[i]));
    });
    let index!: TariffIndex;
    const buildMs = time(() => (index = new TariffIndex(assignments, versions)));
    const indexed: unknown[] = [];
    const indexMs = time(() => {
      for (const ctx of contexts) indexed.push(index.select(ctx));
    });
    for (let i = 0; i < scanned; i++)
      if (JSON.stringify(scan[i]) !== JSON.stringify(indexed[i])) throw new Error(`session ${i}: different answers`);
    return {
      tariffs: n,
      assignments: assignments.length,
      versions: versions.length,
      scanUsPerSelection: Number(((scanMs * 1000) / scanned).toFixed(2)),
      indexUsPerSelection: Number(((indexMs * 1000) / sessions).toFixed(2)),
      indexBuildMs: Number(buildMs.toFixed(2)),
    };
  });
  for (const r of rows)
    console.log(
      `tariff selection, ${r.tariffs} tariffs (${r.assignments} assignments, ${r.versions} versions): ${r.scanUsPerSelection} µs a selection scanning the catalogue, ${r.indexUsPerSelection} µs through the index (built once in ${r.indexBuildMs} ms)`,
    );
  console.log(
    JSON.stringify({
      bench: 'tariff-selection',
      sessions,
      rows,
      loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    }),
  );
}

main();
