import * as fs from 'fs';
import * as path from 'path';
import { load } from 'js-yaml';
import { DataSource } from 'typeorm';
import {
  HealthRegistry,
  SERVICE_METRICS,
  createMetricsRegistry,
  observeConsumers,
  observeReadiness,
  seriesNames,
} from '@csms/service-kit';
import { registerCompletenessMetrics } from '../apps/reporting-service/src/completeness';
import { registerReconciliationMetrics } from '../apps/reporting-service/src/reconciliation.handler';
import { reconciliationRunMetrics } from '../apps/reporting-service/src/reconciliation.run';

/**
 * The Grafana dashboard and the Prometheus alert rules in infra/ cannot drift from the code: both parse, and every
 * metric their queries name is one the services define (the service kit's catalogue and what it registers, the
 * default Node.js metrics, the reporting service's completeness gauges and reconciliation metrics, the gateway's OCPP metrics), or `up`, which
 * Prometheus itself writes per scrape target.
 */
const root = path.resolve(__dirname, '..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

/** Metric series a query may name, with the labels known for each (undefined: not checked). */
function knownSeries(): Map<string, readonly string[] | undefined> {
  const known = new Map<string, readonly string[] | undefined>([['up', ['job', 'instance']]]);
  const registry = createMetricsRegistry('monitoring-test');
  observeConsumers(registry, []);
  observeReadiness(registry, new HealthRegistry());
  // never queried: the gauges only read it at scrape time, and nothing scrapes here
  registerCompletenessMetrics(registry, new DataSource({ type: 'postgres' }), 60);
  registerReconciliationMetrics(registry, new DataSource({ type: 'postgres' }));
  reconciliationRunMetrics(registry);
  for (const m of registry.getMetricsAsArray()) {
    for (const s of seriesNames({ name: m.name, type: String(m.type) === 'histogram' ? 'histogram' : 'gauge' }))
      known.set(s, undefined);
  }
  for (const m of Object.values(SERVICE_METRICS)) for (const s of seriesNames(m)) known.set(s, m.labelNames);
  known.set('csms_billing_sessions', ['outcome']);
  // the gateway defines its OCPP metrics inside its Nest module's factory: read their names from the source
  const gateway = read('apps/ocpp-gateway/src/gateway.module.ts');
  const found = [...gateway.matchAll(/new (Counter|Gauge|Histogram)\(\{\s*name: '([a-z_]+)'/g)];
  expect(found.length).toBeGreaterThan(5);
  for (const [, kind, name] of found)
    for (const s of seriesNames({ name, type: kind === 'Histogram' ? 'histogram' : 'counter' }))
      known.set(s, undefined);
  return known;
}

const METRIC = /\b(?:csms|ocpp|process|nodejs)_[a-z0-9_]+\b|\bup\b(?=\{)/g;
const GENERIC_LABELS = new Set(['service', 'instance', 'job', 'le']);

/** Every metric a query names exists; every label it groups by is one of those metrics' labels. */
function checkQuery(expr: string, known: Map<string, readonly string[] | undefined>, where: string): void {
  const names = [...new Set(expr.match(METRIC) ?? [])];
  expect({ where, names: names.length > 0 }).toEqual({ where, names: true });
  const unknown = names.filter((n) => !known.has(n));
  expect({ where, unknown }).toEqual({ where, unknown: [] });
  const labels = names.map((n) => known.get(n));
  if (labels.some((l) => l === undefined)) return;
  const allowed = new Set([...GENERIC_LABELS, ...labels.flatMap((l) => [...l!])]);
  for (const [, list] of expr.matchAll(/\bby \(([^)]*)\)/g)) {
    const bad = list
      .split(',')
      .map((s) => s.trim())
      .filter((l) => l && !allowed.has(l));
    expect({ where, bad }).toEqual({ where, bad: [] });
  }
}

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

describe('infra/grafana/csms-dashboard.json', () => {
  const dash = JSON.parse(read('infra/grafana/csms-dashboard.json')) as {
    schemaVersion: number;
    uid: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query: unknown; definition?: string }> };
  };
  const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

  it('is a recent Grafana dashboard with a Prometheus data source variable used by every panel', () => {
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dash.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dash.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    for (const p of panels)
      expect({ title: p.title, ds: (p as { datasource?: { uid?: string } }).datasource?.uid }).toEqual({
        title: p.title,
        ds: '${datasource}',
      });
  });

  it('has panels for lag, throughput, chunk latency, failures, outbox, dead letters, domain counters and process CPU and memory', () => {
    const exprs = panels
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr)
      .join('\n');
    for (const m of [
      'csms_consumer_lag_seconds',
      'csms_consumer_lag_records',
      'csms_consumer_records_applied_total',
      'csms_consumer_chunk_seconds_bucket',
      'csms_consumer_failures_total',
      'csms_outbox_depth',
      'csms_outbox_oldest_age_seconds',
      'csms_dead_letters_open',
      'type="session.started"',
      'type="cdr.created"',
      'type="session.pricing_failed"',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect({ m, found: exprs.includes(m) }).toEqual({ m, found: true });
    }
  });

  it('names only metrics the code defines, grouped by labels they have', () => {
    const known = knownSeries();
    for (const p of panels) {
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets!) checkQuery(t.expr, known, `panel ${p.title}`);
    }
    for (const v of dash.templating.list.filter((x) => x.type === 'query'))
      checkQuery(v.definition!, known, `variable ${v.name}`);
  });
});

describe('infra/prometheus/alerts.yml', () => {
  const doc = load(read('infra/prometheus/alerts.yml')) as {
    groups: Array<{
      name: string;
      rules: Array<{
        alert?: string;
        expr: string;
        for?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      }>;
    }>;
  };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('is a Prometheus rule file: named groups of alerts, each with an expression, a severity and a summary', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.alert).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(typeof r.expr).toBe('string');
      if (r.for !== undefined) expect(r.for).toMatch(/^[0-9]+[smh]$/);
      expect(['warning', 'critical']).toContain(r.labels?.severity);
      expect(r.annotations?.summary).toBeTruthy();
    }
  });

  it('alerts on a service down or not ready, lag growing, the outbox stuck, dead letters and pricing failures', () => {
    const exprs = rules.map((r) => r.expr).join('\n');
    for (const m of [
      'up{',
      'csms_service_ready',
      'delta(csms_consumer_lag_records',
      'csms_outbox_oldest_age_seconds',
      'csms_dead_letters_open',
      'type="session.pricing_failed"',
    ]) {
      expect({ m, found: exprs.includes(m) }).toEqual({ m, found: true });
    }
  });

  it('names only metrics the code defines, grouped by labels they have', () => {
    const known = knownSeries();
    for (const r of rules) checkQuery(r.expr, known, `alert ${r.alert}`);
  });
});
