import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ChunkApplied, EventConsumer } from '@csms/messaging';
import type { Envelope } from '@csms/contracts';
import type { HealthRegistry } from './health';
import { CHUNK_SECONDS_BUCKETS, SERVICE_METRICS as M } from './metric-catalogue';

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

type LagOfPartition = ReturnType<EventConsumer['lagSnapshot']>[number];

/** The `code` label of an emitted event: its payload's error code when it has one (a failure event), else empty. */
export function eventCode(e: Envelope): string {
  const code = (e.payload as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && CODE.test(code) ? code : '';
}

/**
 * The consumers' metrics (names and labels in metric-catalogue.ts). Cheap on the hot path: the consumer calls one
 * listener per committed chunk (applied counter, chunk histogram, emitted events by type, each incremented once
 * per chunk and label set); lag, failures, retries, give-ups and restarts are read from the consumer at scrape time,
 * the lag after a broker read of the partitions' ends (at most every 5 s, `EventConsumer.refreshLag`).
 */
export function observeConsumers(registry: Registry, consumers: readonly EventConsumer[]): void {
  const registers = [registry];
  const applied = new Counter({
    ...M.consumerRecordsApplied,
    labelNames: [...M.consumerRecordsApplied.labelNames],
    registers,
  });
  const duplicates = new Counter({
    ...M.consumerDuplicates,
    labelNames: [...M.consumerDuplicates.labelNames],
    registers,
  });
  const chunkSeconds = new Histogram({
    ...M.consumerChunkSeconds,
    labelNames: [...M.consumerChunkSeconds.labelNames],
    buckets: CHUNK_SECONDS_BUCKETS,
    registers,
  });
  const domainEvents = new Counter({ ...M.domainEvents, labelNames: [...M.domainEvents.labelNames], registers });
  for (const c of consumers) {
    const consumer = c.name;
    c.onChunkApplied((chunk: ChunkApplied) => {
      if (chunk.kind === 'apply') {
        if (chunk.records > 0) applied.inc({ consumer, topic: chunk.topic }, chunk.records);
        if (chunk.duplicates > 0) duplicates.inc({ consumer }, chunk.duplicates);
        chunkSeconds.observe({ consumer }, chunk.seconds);
      }
      if (chunk.emitted.length === 0) return;
      const counts = new Map<string, { type: string; code: string; n: number }>();
      for (const e of chunk.emitted) {
        const code = eventCode(e);
        const k = `${e.type}\u0000${code}`;
        const x = counts.get(k);
        if (x) x.n += 1;
        else counts.set(k, { type: e.type, code, n: 1 });
      }
      for (const x of counts.values()) domainEvents.inc({ consumer, type: x.type, code: x.code }, x.n);
    });
  }
  // lag in records and in seconds: one refresh of each consumer's lag per scrape (refreshLag reads the broker at most every 5 s)
  for (const [metric, value] of [
    [M.consumerLagRecords, (p: LagOfPartition) => p.records],
    [M.consumerLagSeconds, (p: LagOfPartition) => p.seconds],
  ] as const) {
    new Gauge({
      ...metric,
      labelNames: [...metric.labelNames],
      registers,
      async collect() {
        await Promise.all(consumers.map((c) => c.refreshLag()));
        this.reset();
        for (const c of consumers)
          for (const p of c.lagSnapshot())
            this.set({ consumer: c.name, topic: p.topic, partition: String(p.partition) }, value(p));
      },
    });
  }
  new Counter({
    ...M.consumerFailures,
    labelNames: [...M.consumerFailures.labelNames],
    registers,
    collect() {
      this.reset();
      for (const c of consumers)
        for (const f of c.failureCounts()) this.inc({ consumer: c.name, code: f.code, verdict: f.verdict }, f.count);
    },
  });
  const fromStats = (
    m: typeof M.consumerRetries | typeof M.consumerGiveUps | typeof M.consumerRestarts | typeof M.consumerInboxPruned,
    pick: (s: ReturnType<EventConsumer['stats']>) => number,
  ) =>
    new Counter({
      ...m,
      labelNames: [...m.labelNames],
      registers,
      collect() {
        this.reset();
        for (const c of consumers) this.inc({ consumer: c.name }, pick(c.stats()));
      },
    });
  fromStats(M.consumerRetries, (s) => s.retries);
  fromStats(M.consumerGiveUps, (s) => s.givenUp);
  fromStats(M.consumerRestarts, (s) => s.restarts);
  fromStats(M.consumerInboxPruned, (s) => s.inboxPruned);
  new Gauge({
    ...M.consumerUp,
    labelNames: [...M.consumerUp.labelNames],
    registers,
    collect() {
      for (const c of consumers) this.set({ consumer: c.name }, c.health().ok ? 1 : 0);
    },
  });
}

/** `csms_service_ready`: 1 when the readiness checks pass (what `/health/ready` answers), computed at scrape time. */
export function observeReadiness(registry: Registry, health: HealthRegistry): void {
  new Gauge({
    ...M.ready,
    labelNames: [],
    registers: [registry],
    async collect() {
      this.set((await health.run()).ok ? 1 : 0);
    },
  });
}
