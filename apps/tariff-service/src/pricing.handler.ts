import {
  SettleFailureCode,
  billingDecider,
  pricingFailedEvent,
  type BillingEvent,
  type PricingFacts,
  type Pricer,
  type SourcePosition,
} from '@csms/billing';
import type { Envelope, EventCatalogue, SessionEndedEvent } from '@csms/contracts';
import {
  classifyFailure,
  type ChunkEndHook,
  type ChunkStartHook,
  type EventHandler,
  type GiveUpHandler,
  type HandlerContext,
} from '@csms/messaging';
import type { RoundingMode } from '@csms/money';
import type { TariffServiceConfig } from './config';
import { PricingStore, sessionKey, type CatalogueSnapshot, type ChunkState, type PendingWrites } from './pricing.store';

export const SERVICE_SOURCE = 'tariff-service';
const CHUNK = 'pricing';

/** The catalogue and registry facts of one session, from what the chunk read (or read now, for a station or token it did not). */
export function factsOf(
  cfg: TariffServiceConfig,
  snapshot: CatalogueSnapshot,
  station: PricingFacts['station'],
  token: PricingFacts['token'],
): PricingFacts {
  return {
    station,
    token,
    assignments: snapshot.assignments,
    versions: snapshot.versions,
    cpo: { countryCode: cfg.CPO_COUNTRY_CODE, partyId: cfg.CPO_PARTY_ID },
    defaultTimeZone: cfg.DEFAULT_TIME_ZONE,
    rounding: cfg.PRICING_ROUNDING as RoundingMode,
    meterKeys: snapshot.meterKeys,
    signaturePolicies: snapshot.signaturePolicies,
  };
}

const positionOf = (event: Envelope, ctx: Pick<HandlerContext, 'position'>): SourcePosition => ({
  eventId: event.id,
  topic: ctx.position.topic,
  partition: ctx.position.partition,
  offset: ctx.position.offset,
});

/**
 * Prices each session.ended (each revision once) into a CDR, or a session.pricing_failed event: exactly
 * one of the two. The rules are libs/billing's decider (credit CDRs for a corrected session, the failure
 * codes, the contract and size checks); this class loads what it needs, decides and saves:
 * - load: per chunk transaction (the consumer's, with the inbox and outbox rows) the catalogue snapshot, the
 *   stations and tokens, and each session's billing state (revisions settled, CDRs not credited yet) are read
 *   in a few statements at its start (`onChunkStart`);
 * - decide: `billingDecider().decide` for the session, then `evolve` into the chunk's copy of its state;
 * - save: the rows are written in one statement per table at the chunk's end (`onChunkEnd`), the events go to
 *   the outbox with them. Nothing is cached across transactions but the catalogue's versions and assignments, kept
 *   while the catalogue's revision (read in each chunk's transaction) stands. Only infrastructure failures are thrown (and
 *   retried by the consumer).
 * One method per consumed event type (`sessionEnded`); `handle` routes an envelope to it.
 */
export class PricingHandler {
  private readonly store: PricingStore;
  private readonly decider: ReturnType<typeof billingDecider>;

  constructor(
    private readonly catalogue: EventCatalogue,
    private readonly cfg: TariffServiceConfig,
    opts: {
      /** the pricing function (default buildCdr; tests inject one that throws or builds a bad CDR) */ price?: Pricer;
    } = {},
  ) {
    this.store = new PricingStore(catalogue);
    this.decider = billingDecider({
      catalogue,
      source: SERVICE_SOURCE,
      maxEventBytes: cfg.TARIFF_MAX_EVENT_BYTES,
      price: opts.price,
      infrastructure: (e) => classifyFailure(e) === 'retry',
    });
  }

  readonly onChunkStart: ChunkStartHook = async ({ manager, scratch, events }) => {
    const ended = events.filter((e) => e.type === 'session.ended').map((e) => (e as SessionEndedEvent).payload);
    scratch.set(CHUNK, await this.store.loadChunk(manager, ended));
  };

  readonly onChunkEnd: ChunkEndHook = async ({ manager, scratch }) => {
    const c = scratch.get(CHUNK) as ChunkState | undefined;
    if (c) await this.store.flush(manager, c.pending);
  };

  readonly handle: EventHandler = async (event, ctx) => {
    if (event.type === 'session.ended') await this.sessionEnded(event as SessionEndedEvent, ctx);
  };

  /** A session.ended revision: load its state and facts, decide, save what was decided and emit it. */
  async sessionEnded(event: SessionEndedEvent, ctx: HandlerContext): Promise<void> {
    const s = event.payload;
    const m = ctx.manager;
    // the chunk hooks did not run (a caller without them): read now, write at once
    const c = (ctx.scratch.get(CHUNK) as ChunkState | undefined) ?? (await this.store.loadChunk(m, [s]));
    const source = positionOf(event, ctx);
    const station = c.stations.has(s.stationId)
      ? c.stations.get(s.stationId)
      : (await this.store.stationsOf(m, [s.stationId])).get(s.stationId);
    const uid = s.idToken?.idToken;
    const token =
      uid === undefined
        ? undefined
        : c.tokens.has(uid)
          ? c.tokens.get(uid)
          : (await this.store.tokensOf(m, [uid])).get(uid);
    const key = sessionKey(s.sessionId);
    if (c.fresh.has(key)) {
      await this.store.flush(m, c.pending);
      c.sessions.set(key, (await this.store.loadStates(m, [s.sessionId])).get(key) ?? this.decider.initialState());
      c.fresh.delete(key);
    }
    const state = c.sessions.get(key) ?? this.decider.initialState();

    const events = this.decider.decide(
      { type: 'PriceEndedSession', event, source, facts: factsOf(this.cfg, c.snapshot, station, token) },
      state,
    );
    if (events.length === 0) return; // this revision was settled before (a re-emitted session.ended)
    c.sessions.set(key, events.reduce(this.decider.evolve, state));
    if (events.some((e) => e.type === 'cdr.created')) c.fresh.add(key);
    this.store.record(c.pending, s, source, station?.siteId ?? null, events);
    this.log(ctx, s, events);
    ctx.emit(...events);
    if (!ctx.scratch.has(CHUNK)) await this.store.flush(m, c.pending);
  }

  /**
   * The pricing of a revision failed for good outside the pricing function (the service's own SQL refused what
   * it wrote, retried 5 times, e.g. a CDR with a character PostgreSQL does not store): recorded as a pricing
   * failure (HANDLER_FAILED) in a transaction of its own instead of parking the session.ended. A revision that
   * was settled meanwhile is left as it is; if this fails too, the consumer parks the event.
   */
  readonly onGiveUp: GiveUpHandler = async (event, error, ctx) => {
    if (event.type !== 'session.ended') throw error;
    const ended = event as SessionEndedEvent;
    const s = ended.payload;
    if (await this.store.isSettled(ctx.manager, s.sessionId, s.revision)) return;
    const source = positionOf(event, ctx);
    const e = error as { code?: unknown; message?: unknown };
    const detail =
      `${typeof e?.code === 'string' ? `${e.code}: ` : ''}${typeof e?.message === 'string' ? e.message : String(error)}`.slice(
        0,
        2000,
      );
    const failed = pricingFailedEvent(
      this.catalogue,
      SERVICE_SOURCE,
      { event: ended, source },
      { code: SettleFailureCode.handlerFailed, detail },
    );
    const pending: PendingWrites = { priced: [], failures: [], cdrs: [] };
    this.store.record(pending, s, source, null, [failed]);
    await this.store.flush(ctx.manager, pending);
    ctx.logger.error(
      { err: error, sessionId: s.sessionId, revision: s.revision },
      'session not priced (the service failed to record it): session.pricing_failed HANDLER_FAILED',
    );
    ctx.emit(failed);
  };

  private log(ctx: HandlerContext, s: SessionEndedEvent['payload'], events: readonly BillingEvent[]): void {
    for (const e of events) {
      if (e.type === 'session.pricing_failed') {
        const f = (e as Extract<BillingEvent, { type: 'session.pricing_failed' }>).payload;
        ctx.logger.warn(
          { sessionId: s.sessionId, revision: s.revision, stationId: s.stationId, code: f.code, detail: f.detail },
          'session not priced: session.pricing_failed',
        );
        continue;
      }
      const p = (e as Extract<BillingEvent, { type: 'cdr.created' }>).payload;
      const signed = p.audit.signedMeterValues;
      if (p.cdr.credit !== true && signed?.result === 'FAILED') {
        ctx.logger.warn(
          { sessionId: s.sessionId, stationId: s.stationId, cdrId: p.cdr.id, flags: signed.flags },
          'CDR priced although its signed meter values failed their check (the policy flags): see its audit',
        );
      }
      if (p.cdr.credit !== true && p.audit.dataQuality) {
        ctx.logger.warn(
          {
            sessionId: s.sessionId,
            stationId: s.stationId,
            cdrId: p.cdr.id,
            missing: p.audit.dataQuality.missingLocationFields,
          },
          'CDR priced with an incomplete cdr_location (LOCATION_INCOMPLETE): register the station location and connector types',
        );
      }
    }
  }
}

/** The pricing consumer's handler and hooks (see PricingHandler). */
export function makePricingConsumer(
  catalogue: EventCatalogue,
  cfg: TariffServiceConfig,
  opts: { price?: Pricer } = {},
): { handler: EventHandler; onChunkStart: ChunkStartHook; onChunkEnd: ChunkEndHook; onGiveUp: GiveUpHandler } {
  const h = new PricingHandler(catalogue, cfg, opts);
  return { handler: h.handle, onChunkStart: h.onChunkStart, onChunkEnd: h.onChunkEnd, onGiveUp: h.onGiveUp };
}

/** The pricing handler alone (without the chunk hooks it reads and writes per session). */
export function makePricingHandler(catalogue: EventCatalogue, cfg: TariffServiceConfig): EventHandler {
  return makePricingConsumer(catalogue, cfg).handler;
}
