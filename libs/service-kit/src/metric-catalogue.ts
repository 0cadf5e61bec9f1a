/**
 * Every metric the service kit defines, in one place: the code creates its metrics from these definitions, the
 * top-level README's table lists them, and a test checks that the Grafana dashboard and the Prometheus alert rules
 * in infra/ name only metrics that exist. Every series also carries the registry's `service` label.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  name: string;
  type: MetricType;
  help: string;
  labelNames: readonly string[];
}

const def = <T extends MetricType>(type: T, name: string, labelNames: readonly string[], help: string) => ({
  type,
  name,
  labelNames,
  help,
});

export const SERVICE_METRICS = {
  // consumers (per consumer group; lag per partition assigned to this instance)
  consumerLagRecords: def(
    'gauge',
    'csms_consumer_lag_records',
    ['consumer', 'topic', 'partition'],
    'records written to the partition and not applied yet by this consumer group (high watermark − next offset)',
  ),
  consumerLagSeconds: def(
    'gauge',
    'csms_consumer_lag_seconds',
    ['consumer', 'topic', 'partition'],
    'how long the oldest record not applied yet has waited, at most (0 when caught up)',
  ),
  consumerRecordsApplied: def(
    'counter',
    'csms_consumer_records_applied_total',
    ['consumer', 'topic'],
    'records applied (state change committed), duplicates excluded',
  ),
  consumerDuplicates: def(
    'counter',
    'csms_consumer_duplicates_total',
    ['consumer'],
    'records delivered again and dropped (below the consumer position, or by the inbox)',
  ),
  consumerInboxPruned: def(
    'counter',
    'csms_consumer_inbox_pruned_total',
    ['consumer'],
    'expired inbox rows deleted (topics with an inbox retention: ocpp.inbound)',
  ),
  consumerChunkSeconds: def(
    'histogram',
    'csms_consumer_chunk_seconds',
    ['consumer'],
    'wall time of one chunk transaction (inbox, handlers, outbox, commit)',
  ),
  consumerFailures: def(
    'counter',
    'csms_consumer_failures_total',
    ['consumer', 'code', 'verdict'],
    'failed attempts to apply a record, by error code and verdict (retry, park, unknown)',
  ),
  consumerRetries: def('counter', 'csms_consumer_retries_total', ['consumer'], 'attempts retried after a failure'),
  consumerGiveUps: def(
    'counter',
    'csms_consumer_give_ups_total',
    ['consumer'],
    'records that failed for good and whose failure the service recorded (onGiveUp) instead of parking them',
  ),
  consumerRestarts: def(
    'counter',
    'csms_consumer_restarts_total',
    ['consumer'],
    'restarts of a stalled or crashed consumer by its watchdog',
  ),
  consumerUp: def('gauge', 'csms_consumer_up', ['consumer'], '1 while the consumer runs and is not stalled, else 0'),
  deadLettersOpen: def(
    'gauge',
    'csms_dead_letters_open',
    ['consumer'],
    'records parked by a consumer and not re-driven yet (from the database)',
  ),
  deadLettersParked: def(
    'counter',
    'csms_dead_letters_parked_total',
    ['consumer'],
    'records parked by a consumer of this process since it started',
  ),
  domainEvents: def(
    'counter',
    'csms_domain_events_total',
    ['consumer', 'type', 'code'],
    'events emitted (committed to the outbox) by a consumer, by event type and, for failure events, their payload code',
  ),
  // outbox
  outboxDepth: def(
    'gauge',
    'csms_outbox_depth',
    [],
    'outbox rows committed and not published yet (held rows included)',
  ),
  outboxOldestAge: def(
    'gauge',
    'csms_outbox_oldest_age_seconds',
    [],
    'age of the first unpublished outbox row (0 when empty): the relay’s delay',
  ),
  outboxParked: def(
    'gauge',
    'csms_outbox_parked',
    [],
    'outbox records the broker refused for good, parked until re-sent (GET /api/v1/outbox/parked)',
  ),
  outboxHeld: def(
    'gauge',
    'csms_outbox_held',
    [],
    'outbox records held behind a parked record of their key (published after it is re-sent)',
  ),
  outboxParks: def(
    'counter',
    'csms_outbox_parks_total',
    ['topic', 'code'],
    'outbox records this process parked since it started, by topic and refusal code',
  ),
  // the service
  ready: def('gauge', 'csms_service_ready', [], '1 when /health/ready answers 200 (ok or degraded), else 0'),
} as const satisfies Record<string, MetricDefinition>;

/** Buckets of `csms_consumer_chunk_seconds` (a chunk is up to 100 records in one transaction). */
export const CHUNK_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The names a Prometheus query can use for a metric (a histogram's series, a counter as prom-client names it). */
export function seriesNames(m: Pick<MetricDefinition, 'name' | 'type'>): string[] {
  return m.type === 'histogram' ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
}
