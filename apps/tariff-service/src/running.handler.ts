import type { EntityManager } from 'typeorm';
import {
  CompiledTariffs,
  estimateDue,
  estimateRunningCost,
  foldUpdate,
  selectSessionTariff,
  sessionStationFacts,
  sessionTokenFacts,
  startRunning,
  type RunningSession,
  type StationFacts,
  type TokenFacts,
} from '@csms/billing';
import {
  SessionCostEstimatedV1,
  SessionTariffSelectedV1,
  answeredToken,
  deriveId,
  type Envelope,
  type EventCatalogue,
  type SessionStartedEvent,
  type SessionUpdatedEvent,
} from '@csms/contracts';
import type { ChunkEndHook, ChunkStartHook, HandlerContext } from '@csms/messaging';
import type { TariffServiceConfig } from './config';
import { factsOf, SERVICE_SOURCE } from './pricing.handler';
import { PricingStore, type CatalogueSnapshot } from './pricing.store';

const CHUNK = 'running';

interface Row {
  run: RunningSession;
  /** the token's billing account when the session started (as cdr.created will name it) */
  billingAccountId: string | null;
  ended: boolean;
}

interface RunningChunk {
  snapshot: CatalogueSnapshot;
  stations: Map<string, StationFacts | undefined>;
  tokens: Map<string, TokenFacts | undefined>;
  rows: Map<string, Row>;
  dirty: Set<string>;
}

const keyOf = (sessionId: string) => sessionId.toLowerCase();

/**
 * What the payment service needs of a running session, from session.events (consumer group
 * `<TARIFF_CONSUMER_GROUP>.running`, libs/billing `running-cost.ts`):
 * - session.started -> `billing.session_tariff_selected`: the tariff the CDR will be priced with (the same
 *   selection rule), its `max_price` incl. VAT, and the token's billing account;
 * - session.updated -> folded into the session's running state (`running_sessions`); at most once per
 *   TARIFF_ESTIMATE_INTERVAL_S of session time (and at each charging-state change) the session is priced as the
 *   CDR would be if it ended at that update -> `billing.session_cost_estimated` when the cost changed;
 * - session.ended -> the running state is closed (a late update changes nothing).
 * Ids are derived from the causing event, times are the events' times: a replay gives the same events.
 */
export class RunningCostHandler {
  private readonly store: PricingStore;
  private readonly tariffs = new CompiledTariffs();

  constructor(
    private readonly catalogue: EventCatalogue,
    private readonly cfg: TariffServiceConfig,
  ) {
    this.store = new PricingStore(catalogue);
  }

  readonly onChunkStart: ChunkStartHook = async ({ manager, scratch, events }) => {
    scratch.set(CHUNK, await this.load(manager, events));
  };

  readonly onChunkEnd: ChunkEndHook = async ({ manager, scratch }) => {
    const c = scratch.get(CHUNK) as RunningChunk | undefined;
    if (c) await this.flush(manager, c);
  };

  private async load(m: EntityManager, events: readonly Envelope[]): Promise<RunningChunk> {
    const sessions = [
      ...new Set(events.map((e) => (e.payload as { sessionId?: string }).sessionId).filter((x) => x !== undefined)),
    ];
    const stationIds = [
      ...new Set(events.map((e) => (e.payload as { stationId?: string }).stationId).filter((x) => x !== undefined)),
    ];
    const uids = [
      ...new Set(
        events
          .filter((e) => e.type === 'session.started')
          .flatMap((e) => {
            const uid = (e as SessionStartedEvent).payload.idToken?.idToken;
            return uid === undefined ? [] : [uid];
          }),
      ),
    ];
    const rows: Array<{ session_id: string; state: Omit<Row, 'ended'>; ended: boolean }> =
      sessions.length === 0
        ? []
        : await m.query('select session_id, state, ended from running_sessions where session_id = any($1::text[])', [
            sessions.map(keyOf),
          ]);
    const needsCatalogue = events.some(
      (e) => e.type === 'session.started' || (e.type === 'session.updated' && this.cfg.TARIFF_ESTIMATE_INTERVAL_S > 0),
    );
    return {
      snapshot: needsCatalogue
        ? { ...(await this.store.catalogueSnapshot(m, [])), meterKeys: [], signaturePolicies: [] }
        : { assignments: [], versions: [], meterKeys: [], signaturePolicies: [] },
      stations: stationIds.length > 0 ? await this.store.stationsOf(m, stationIds) : new Map(),
      tokens: uids.length > 0 ? await this.store.tokensOf(m, uids) : new Map(),
      rows: new Map(rows.map((r) => [r.session_id, { ...r.state, ended: r.ended }])),
      dirty: new Set(),
    };
  }

  private async flush(m: EntityManager, c: RunningChunk): Promise<void> {
    if (c.dirty.size === 0) return;
    const rows = [...c.dirty].map((k) => {
      const r = c.rows.get(k)!;
      return { session_id: k, state: { run: r.run, billingAccountId: r.billingAccountId }, ended: r.ended };
    });
    await m.query(
      `insert into running_sessions (session_id, state, ended)
       select x.session_id, x.state, x.ended from json_to_recordset($1::json) as x(session_id text, state jsonb, ended boolean)
       on conflict (session_id) do update set state = excluded.state, ended = excluded.ended`,
      [JSON.stringify(rows)],
    );
    c.dirty.clear();
  }

  private async chunkOf(ctx: HandlerContext, events: Envelope[]): Promise<{ c: RunningChunk; own: boolean }> {
    const c = ctx.scratch.get(CHUNK) as RunningChunk | undefined;
    return c ? { c, own: false } : { c: await this.load(ctx.manager, events), own: true };
  }

  async sessionStarted(event: SessionStartedEvent, ctx: HandlerContext): Promise<void> {
    const { c, own } = await this.chunkOf(ctx, [event]);
    const s = event.payload;
    const k = keyOf(s.sessionId);
    if (c.rows.has(k)) return; // redelivered, or its first update came first
    const station = sessionStationFacts(s.station, c.stations.get(s.stationId));
    const uid = s.idToken?.idToken;
    const token = sessionTokenFacts(s.idToken, uid === undefined ? undefined : c.tokens.get(uid));
    const sel = selectSessionTariff(s, { ...c.snapshot, station, token }, { tariffs: this.tariffs });
    const billingAccountId = token?.accountId ?? null;
    c.rows.set(k, { run: startRunning(s), billingAccountId, ended: false });
    c.dirty.add(k);
    ctx.emit(
      this.catalogue.create(SessionTariffSelectedV1, {
        id: deriveId('billing.session_tariff_selected', event.id),
        key: s.sessionId,
        occurredAt: event.occurredAt,
        source: SERVICE_SOURCE,
        causationId: event.id,
        correlationId: event.correlationId ?? event.id,
        payload: {
          sessionId: s.sessionId,
          stationId: s.stationId,
          protocol: s.protocol,
          transactionId: s.transactionId,
          evseId: s.evseId ?? null,
          connectorId: s.connectorId ?? null,
          tokenUid: uid ?? null,
          startedAt: s.startedAt,
          billingAccountId,
          ...(answeredToken(s.idToken) ? { accountAsAnswered: true as const } : {}),
          tariffId: sel.ok ? sel.tariffId : null,
          tariffVersion: sel.ok ? sel.tariffVersion : null,
          currency: sel.ok ? sel.currency : null,
          maxPriceInclVat: sel.ok ? sel.maxPriceInclVat : null,
          code: sel.ok ? null : sel.code,
          sourceEventId: event.id,
        },
      }),
    );
    if (own) await this.flush(ctx.manager, c);
  }

  async sessionUpdated(event: SessionUpdatedEvent, ctx: HandlerContext): Promise<void> {
    if (this.cfg.TARIFF_ESTIMATE_INTERVAL_S === 0) return;
    const { c, own } = await this.chunkOf(ctx, [event]);
    const u = event.payload;
    const k = keyOf(u.sessionId);
    let row = c.rows.get(k);
    if (row?.ended) return;
    if (!row) {
      // its start was not seen here (the consumer began after it): the update names the session and its start
      row = {
        run: startRunning({ ...u, startKnown: true, sources: [] } as never),
        billingAccountId: null,
        ended: false,
      };
    }
    const before = row.run.segments.length;
    const run = foldUpdate(row.run, u, event.occurredAt);
    const next: Row = { ...row, run };
    c.rows.set(k, next);
    c.dirty.add(k);
    if (
      run !== row.run &&
      estimateDue(run, run.segments.length !== before && before > 0, this.cfg.TARIFF_ESTIMATE_INTERVAL_S)
    )
      this.estimate(event, ctx, c, next);
    if (own) await this.flush(ctx.manager, c);
  }

  private estimate(event: SessionUpdatedEvent, ctx: HandlerContext, c: RunningChunk, row: Row): void {
    const u = event.payload;
    const station = sessionStationFacts(row.run.station, c.stations.get(u.stationId));
    const token = row.billingAccountId === null ? undefined : { groupId: null, accountId: row.billingAccountId };
    const uid = row.run.idToken?.idToken;
    const known = uid === undefined ? undefined : c.tokens.get(uid);
    const facts = factsOf(this.cfg, c.snapshot, station, sessionTokenFacts(row.run.idToken, known ?? token));
    const source = {
      eventId: event.id,
      topic: ctx.position.topic,
      partition: ctx.position.partition,
      offset: ctx.position.offset,
    };
    const est = estimateRunningCost(row.run, facts, source, { tariffs: this.tariffs });
    if (!est || !est.ok) {
      // not priceable (no tariff: the CDR will be a pricing failure): nothing to estimate; priced again after the interval
      row.run = { ...row.run, estimate: { asOf: row.run.last!.at, costInclVat: row.run.estimate?.costInclVat ?? '' } };
      return;
    }
    const changed = row.run.estimate?.costInclVat !== est.costInclVat;
    row.run = { ...row.run, estimate: { asOf: est.asOf, costInclVat: est.costInclVat } };
    if (!changed) return;
    ctx.emit(
      this.catalogue.create(SessionCostEstimatedV1, {
        id: deriveId('billing.session_cost_estimated', event.id),
        key: u.sessionId,
        occurredAt: event.occurredAt,
        source: SERVICE_SOURCE,
        causationId: event.id,
        correlationId: event.correlationId ?? event.id,
        payload: {
          sessionId: u.sessionId,
          stationId: u.stationId,
          billingAccountId: row.billingAccountId,
          tariffId: est.tariffId,
          tariffVersion: est.tariffVersion,
          currency: est.currency,
          asOf: est.asOf,
          energyWh: est.energyWh,
          costExclVat: est.costExclVat,
          costInclVat: est.costInclVat,
          maxPriceInclVat: est.maxPriceInclVat,
          sourceEventId: event.id,
        },
      }),
    );
  }

  async sessionEnded(event: Envelope, ctx: HandlerContext): Promise<void> {
    const { c, own } = await this.chunkOf(ctx, [event]);
    const k = keyOf((event.payload as { sessionId: string }).sessionId);
    const row = c.rows.get(k);
    if (!row || row.ended) return;
    // closed: its points are not needed any more (a later revision is priced by the CDR path, not here)
    c.rows.set(k, { ...row, run: { ...row.run, points: [], segments: [] }, ended: true });
    c.dirty.add(k);
    if (own) await this.flush(ctx.manager, c);
  }
}
