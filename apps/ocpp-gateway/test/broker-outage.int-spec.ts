import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import {
  TopicCollector,
  createTestDatabase,
  startDedicatedKafka,
  uniqueName,
  waitFor,
  type DedicatedKafka,
  type TestDatabase,
} from '@csms/testing';
import { createKafka } from '@csms/messaging';
import { silentLogger } from '@csms/platform';
import { gatewayMigrations } from '../src/migrations';
import { api, chargePoint, startTestGateway, type TestGateway } from './harness';

/*
 * Kafka stopped mid-run. The gateway runs against a broker of its own (free ports, temporary data
 * directory; the shared broker is not touched), stations send a steady stream of CALLs, and the broker is
 * killed with SIGKILL, restarted, stopped cleanly and restarted again, the gateway running throughout.
 * Asserted: every CALL answered with a CALLRESULT has its record in ocpp.inbound afterwards; calls during the
 * outage get CALLERROR InternalError within the publish timeout (no hang, no CALLRESULT); the stations stay
 * connected; publishing resumes without restarting the gateway; no record appears twice.
 */

const PASSWORD = 'correct-horse-battery-staple';
const PUBLISH_TIMEOUT_MS = 2000;
/** how late an answer may come during an outage on a slow shared machine before we call it a hang */
const NO_HANG_MS = PUBLISH_TIMEOUT_MS + 8000;
const STATIONS = 8;

type Phase = 'before' | 'killed' | 'after-kill' | 'stopped' | 'after-stop' | 'ready';

interface CallLog {
  stationId: string;
  messageId: string;
  action: string;
  phase: Phase;
  sentAt: number;
  ms?: number;
  outcome?: 'result' | 'error' | 'lost';
  errorCode?: string;
}

/** A charger on a raw WebSocket: one CALL at a time, its own message ids, every answer logged. */
class LoopStation {
  readonly calls: CallLog[] = [];
  connects = 0;
  private ws?: WebSocket;
  private waiting = new Map<string, (frame: unknown[] | null) => void>();
  private running = false;
  private loop?: Promise<void>;
  private n = 0;

  constructor(
    readonly id: string,
    readonly protocol: 'ocpp1.6' | 'ocpp2.0.1',
    private readonly url: string,
    private readonly phase: () => Phase,
  ) {}

  private connect(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.url}/${this.id}`, [this.protocol], {
        headers: { authorization: `Basic ${Buffer.from(`${this.id}:${PASSWORD}`).toString('base64')}` },
      });
      ws.once('open', () => {
        this.connects++;
        resolve(ws);
      });
      ws.once('error', reject);
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as unknown[];
        this.waiting.get(frame[1] as string)?.(frame);
      });
      ws.on('close', () => {
        if (this.ws === ws) this.ws = undefined;
        for (const w of [...this.waiting.values()]) w(null);
      });
    });
  }

  private payload(action: string): Record<string, unknown> {
    if (action === 'Heartbeat') return {};
    const timestamp = new Date().toISOString();
    this.n++;
    return this.protocol === 'ocpp1.6'
      ? { connectorId: 1, meterValue: [{ timestamp, sampledValue: [{ value: String(this.n) }] }] }
      : { evseId: 1, meterValue: [{ timestamp, sampledValue: [{ value: this.n }] }] };
  }

  private async callOnce(ws: WebSocket): Promise<void> {
    const action = this.n % 2 === 0 ? 'MeterValues' : 'Heartbeat';
    const log: CallLog = {
      stationId: this.id,
      messageId: randomUUID(),
      action,
      phase: this.phase(),
      sentAt: Date.now(),
    };
    if (action === 'Heartbeat') this.n++;
    this.calls.push(log);
    const frame = await new Promise<unknown[] | null>((resolve) => {
      const timer = setTimeout(() => done(null), 60_000);
      const done = (f: unknown[] | null) => {
        clearTimeout(timer);
        this.waiting.delete(log.messageId);
        resolve(f);
      };
      this.waiting.set(log.messageId, done);
      ws.send(JSON.stringify([2, log.messageId, action, this.payload(action)]));
    });
    log.ms = Date.now() - log.sentAt;
    if (!frame) log.outcome = 'lost';
    else if (frame[0] === 3) log.outcome = 'result';
    else {
      log.outcome = 'error';
      log.errorCode = frame[2] as string;
    }
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          this.ws ??= await this.connect();
          await this.callOnce(this.ws);
        } catch {
          this.ws = undefined;
        }
        await new Promise((r) => setTimeout(r, 40)); // pacing of the stream, not a wait for correctness
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.ws?.close();
  }

  count(phase: Phase, outcome: CallLog['outcome'], errorCode?: string): number {
    return this.calls.filter(
      (c) => c.phase === phase && c.outcome === outcome && (errorCode === undefined || c.errorCode === errorCode),
    ).length;
  }
}

interface Inbound {
  id: string;
  payload: { stationId: string; kind: string; messageId?: string };
}

describe('ocpp-gateway: the broker dies mid-run', () => {
  let broker: DedicatedKafka;
  let db: TestDatabase;
  let gw: TestGateway;
  let phase: Phase = 'before';
  const events: Array<[string, number]> = [];
  const mark = (p: Phase) => {
    phase = p;
    events.push([p, Date.now()]);
  };
  let stations: LoopStation[] = [];

  beforeAll(async () => {
    [broker, db] = await Promise.all([startDedicatedKafka(), createTestDatabase('gw_outage', gatewayMigrations)]);
    await db.dataSource.destroy();
    gw = await startTestGateway({
      KAFKA_BROKERS: broker.brokers.join(','),
      DATABASE_URL: db.url,
      PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
      OCPP_INBOUND_TOPIC: uniqueName('ocpp.inbound'),
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(stations.map((s) => s.stop()));
    await gw?.close();
    await broker?.destroy();
    await db?.drop();
  }, 60_000);

  it('answers no CALLRESULT without a durable record, InternalError during the outage, and publishes again once the broker is back', async () => {
    const prefix = uniqueName('OUT');
    for (let i = 0; i < STATIONS; i++) {
      const r = await api(gw, 'PUT', `/api/v1/stations/${prefix}-${i}`, { securityProfile: 1, password: PASSWORD });
      expect(r.status).toBe(200);
    }
    stations = Array.from(
      { length: STATIONS },
      (_, i) => new LoopStation(`${prefix}-${i}`, i % 2 ? 'ocpp1.6' : 'ocpp2.0.1', gw.wsUrl, () => phase),
    );
    stations.forEach((s) => s.start());
    const all = () => stations.flatMap((s) => s.calls);
    const each = (what: string, ok: (s: LoopStation) => boolean, timeoutMs: number) =>
      waitFor(() => stations.every(ok), { what, timeoutMs, intervalMs: 100 });

    await each('5 CALLRESULTs per station', (s) => s.count('before', 'result') >= 5, 30_000);
    events.push(['before', Date.now()]);

    // 1. the JVM is killed: no clean shutdown
    mark('killed');
    await broker.kill();
    await each(
      '2 InternalErrors per station after the kill',
      (s) => s.count('killed', 'error', 'InternalError') >= 2,
      30_000,
    );
    await broker.restart();
    mark('after-kill');
    await each('3 CALLRESULTs per station after the restart', (s) => s.count('after-kill', 'result') >= 3, 60_000);

    // 2. a clean stop
    mark('stopped');
    await broker.stop();
    await each(
      '2 InternalErrors per station after the stop',
      (s) => s.count('stopped', 'error', 'InternalError') >= 2,
      30_000,
    );
    await broker.restart();
    mark('after-stop');
    await each(
      '3 CALLRESULTs per station after the second restart',
      (s) => s.count('after-stop', 'result') >= 3,
      60_000,
    );

    await Promise.all(stations.map((s) => s.stop()));
    const calls = all();
    // the whole gateway is ready again (database, Kafka, publishing, registry consumer, outbox relay), never restarted
    let notReady: unknown;
    await waitFor(
      async () => {
        const r = await fetch(`${gw.httpUrl}/health/ready`);
        if (r.status !== 200) notReady = await r.json().catch(() => r.status);
        return r.status === 200;
      },
      { what: 'the gateway ready again', timeoutMs: 60_000, intervalMs: 250 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last /health/ready: ${JSON.stringify(notReady)}`);
    });
    mark('ready');
    // the command consumer followed too: a remote operation after the outages reaches its station and comes back
    const cmdStation = `${prefix}-cmd`;
    expect(
      (await api(gw, 'PUT', `/api/v1/stations/${cmdStation}`, { securityProfile: 1, password: PASSWORD })).status,
    ).toBe(200);
    const cp = chargePoint({ endpoint: gw.wsUrl, identity: cmdStation, protocols: ['ocpp1.6'], password: PASSWORD });
    cp.handle('ClearCache', async () => ({ status: 'Accepted' }));
    await cp.connect();
    try {
      await cp.call('Heartbeat', {});
      const sent = await api(gw, 'POST', `/api/v1/stations/${cmdStation}/commands`, {
        action: 'ClearCache',
        payload: {},
      });
      expect(sent.status).toBe(202);
      const commandId = (sent.body as { commandId: string }).commandId;
      const done = await waitFor(
        async () => {
          const r = (await api(gw, 'GET', `/api/v1/commands/${commandId}`)).body as { status: string };
          return r.status !== 'pending' && r;
        },
        { what: 'the command result after the outages', timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(done.status).toBe('accepted');
    } finally {
      await cp.close({ force: true });
    }

    // every call was answered, none hung beyond the publish timeout (+ slack for a slow shared machine)
    expect(calls.filter((c) => c.outcome === undefined || c.outcome === 'lost')).toEqual([]);
    expect(
      calls.filter((c) => c.ms! > NO_HANG_MS).map((c) => ({ phase: c.phase, ms: c.ms, outcome: c.outcome })),
    ).toEqual([]);
    // the only CALLERROR is InternalError (the record could not be made durable)
    expect(new Set(calls.filter((c) => c.outcome === 'error').map((c) => c.errorCode))).toEqual(
      new Set(['InternalError']),
    );
    // the connections stayed up throughout
    expect(stations.map((s) => s.connects)).toEqual(stations.map(() => 1));

    // every CALLRESULT has its record; no record twice
    const topic = gw.runtime.config.OCPP_INBOUND_TOPIC;
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'outage-reader', logger: silentLogger() });
    const collector = await new TopicCollector(kafka, [topic]).start();
    try {
      const answered = calls.filter((c) => c.outcome === 'result');
      const key = (stationId: string, messageId: string) => `${stationId}/${messageId}`;
      const recordedCalls = () => {
        const m = new Map<string, number>();
        for (const r of collector.records) {
          const e = JSON.parse(r.value!) as Inbound;
          if (e.payload.kind === 'call')
            m.set(
              key(e.payload.stationId, e.payload.messageId!),
              (m.get(key(e.payload.stationId, e.payload.messageId!)) ?? 0) + 1,
            );
        }
        return m;
      };
      const missing = () => {
        const m = recordedCalls();
        return answered.filter((c) => !m.has(key(c.stationId, c.messageId)));
      };
      await waitFor(() => missing().length === 0, {
        what: 'every answered call on ocpp.inbound',
        timeoutMs: 30_000,
        intervalMs: 200,
      }).catch(() => undefined);
      if (missing().length > 0) {
        const byPhase: Record<string, number> = {};
        for (const c of missing()) byPhase[c.phase] = (byPhase[c.phase] ?? 0) + 1;
        const admin = kafka.admin();
        await admin.connect();
        const offsets = await admin.fetchTopicOffsets(topic);
        await admin.disconnect();
        console.log(
          JSON.stringify({
            missingByPhase: byPhase,
            offsets,
            records: collector.records.length,
            events,
            missing: missing().slice(0, 5),
          }),
        );
      }
      expect(missing().map((c) => ({ phase: c.phase, messageId: c.messageId }))).toEqual([]);
      const ids = collector.records.map((r) => (JSON.parse(r.value!) as Inbound).id);
      expect(ids.length).toBe(new Set(ids).size);
      const recorded = recordedCalls();
      expect([...recorded.values()].every((n) => n === 1)).toBe(true);
      // what was answered InternalError and still landed: the batch that was in flight when the broker went
      const failedButRecorded = calls.filter(
        (c) => c.outcome === 'error' && recorded.has(key(c.stationId, c.messageId)),
      ).length;
      const shards = gw.runtime.batcher.shards;
      console.log(
        JSON.stringify({
          calls: calls.length,
          results: answered.length,
          internalErrors: calls.filter((c) => c.outcome === 'error').length,
          failedButRecorded,
          droppedAfterTimeout: shards.reduce((n, s) => n + s.droppedAfterTimeout, 0),
          acknowledgedAfterTimeout: shards.reduce((n, s) => n + s.acknowledgedAfterTimeout, 0),
          maxOutageAnswerMs: Math.max(...calls.filter((c) => c.outcome === 'error').map((c) => c.ms!)),
          records: collector.records.length,
          notReady,
          phasesAtS: events.map(([p, t]) => `${p}@${((t - events[0][1]) / 1000).toFixed(1)}`).join(' '),
        }),
      );
    } finally {
      await collector.close();
    }
  }, 240_000);
});
