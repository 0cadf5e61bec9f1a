import type { EntityManager } from 'typeorm';
import { CdrCreatedV1, SessionPricingFailedV1, deriveId, type EventCatalogue, type SessionEndedEvent } from '@csms/contracts';
import type { EventHandler } from '@csms/messaging';
import type { TariffAssignment } from '@csms/billing';
import { allAssignments, stationOf, tokenOf, versionsOf, type StoredVersion } from './catalogue';
import { buildCdr, creditCdrOf, type CdrAudit, type OcpiCdr, type PricingContext, type SourcePosition } from './cdr-builder';
import type { TariffServiceConfig } from './config';

export const SERVICE_SOURCE = 'tariff-service';

export async function storeCdr(m: EntityManager, cdr: OcpiCdr, audit: CdrAudit): Promise<void> {
  await m.query(
    `insert into cdrs (cdr_id, session_id, revision, station_id, token_uid, start_at, end_at, currency, total_excl_vat, total_incl_vat, credit,
       credit_reference_id, tariff_id, tariff_version, content_hash, cdr, audit)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) on conflict (cdr_id) do nothing`,
    [
      cdr.id,
      audit.sessionId,
      audit.sessionRevision,
      audit.stationId,
      cdr.cdr_token.uid,
      cdr.start_date_time,
      cdr.end_date_time,
      cdr.currency,
      cdr.total_cost.excl_vat,
      cdr.total_cost.incl_vat,
      cdr.credit === true,
      cdr.credit_reference_id ?? null,
      audit.tariffId,
      audit.tariffVersion,
      audit.contentHash,
      JSON.stringify(cdr),
      JSON.stringify(audit),
    ],
  );
}

/** The catalogue as the transaction sees it (read once per chunk of sessions). */
export interface CatalogueSnapshot {
  assignments: TariffAssignment[];
  versions: StoredVersion[];
}

export async function catalogueSnapshot(m: EntityManager): Promise<CatalogueSnapshot> {
  return { assignments: await allAssignments(m), versions: await versionsOf(m) };
}

/** Everything buildCdr needs, read from the service's tables inside the consumer's transaction. */
export async function pricingContext(
  m: EntityManager,
  cfg: TariffServiceConfig,
  session: SessionEndedEvent['payload'],
  source: SourcePosition,
  snapshot?: CatalogueSnapshot,
): Promise<PricingContext> {
  const cat = snapshot ?? (await catalogueSnapshot(m));
  return {
    session,
    source,
    station: await stationOf(m, session.stationId),
    token: session.idToken ? await tokenOf(m, session.idToken.idToken) : undefined,
    assignments: cat.assignments,
    versions: cat.versions,
    cpo: { countryCode: cfg.CPO_COUNTRY_CODE, partyId: cfg.CPO_PARTY_ID },
    defaultTimeZone: cfg.DEFAULT_TIME_ZONE,
    rounding: cfg.PRICING_ROUNDING as PricingContext['rounding'],
  };
}

/**
 * Prices each session.ended (each revision once) into a CDR, or a session.pricing_failed event.
 * A later revision of an already priced session first credits the earlier CDR (credit CDR), then
 * emits the new one: history is never edited.
 */
export function makePricingHandler(catalogue: EventCatalogue, cfg: TariffServiceConfig): EventHandler {
  return async (event, ctx) => {
    if (event.type !== 'session.ended') return;
    const s = (event as SessionEndedEvent).payload;
    const m = ctx.manager;
    const source: SourcePosition = { eventId: event.id, topic: ctx.position.topic, partition: ctx.position.partition, offset: ctx.position.offset };
    // the catalogue cannot change under a chunk: the catalogue consumer commits separately, and a chunk reads one snapshot
    let snapshot = ctx.scratch.get('catalogue') as CatalogueSnapshot | undefined;
    if (!snapshot) {
      snapshot = await catalogueSnapshot(m);
      ctx.scratch.set('catalogue', snapshot);
    }
    const pc = await pricingContext(m, cfg, s, source, snapshot);
    const outcome = buildCdr(pc);
    const inserted: unknown[] = await m.query(
      `insert into priced_sessions (session_id, revision, station_id, site_id, started_at, ended_at, session, source, outcome)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (session_id, revision) do nothing returning 1`,
      [s.sessionId, s.revision, s.stationId, pc.station?.siteId ?? null, s.startedAt, s.endedAt, JSON.stringify(s), JSON.stringify(source), outcome.kind],
    );
    if (inserted.length === 0) return; // this revision was priced before (a re-emitted session.ended)
    const common = { key: s.sessionId, occurredAt: s.endedAt, source: SERVICE_SOURCE, causationId: event.id, correlationId: event.correlationId ?? event.id };
    if (outcome.kind === 'failed') {
      await m.query(
        'insert into pricing_failures (session_id, revision, station_id, code, detail, field, ended_at) values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing',
        [s.sessionId, s.revision, s.stationId, outcome.code, outcome.detail, outcome.field ?? null, s.endedAt],
      );
      ctx.emit(
        catalogue.create(SessionPricingFailedV1, {
          ...common,
          id: deriveId('pricing-failed', s.sessionId, s.revision),
          payload: { sessionId: s.sessionId, sessionRevision: s.revision, stationId: s.stationId, code: outcome.code, detail: outcome.detail, ...(outcome.field ? { field: outcome.field } : {}), sessionEndedAt: s.endedAt, sourceEvent: source },
        }),
      );
      return;
    }
    // a correction: credit every CDR of this session that is not credited yet
    const open: Array<{ cdr: OcpiCdr; audit: CdrAudit }> = await m.query(
      `select cdr, audit from cdrs c where session_id = $1 and not credit and revision < $2
         and not exists (select 1 from cdrs k where k.credit and k.credit_reference_id = c.cdr_id) order by revision`,
      [s.sessionId, s.revision],
    );
    for (const o of open) {
      const credit = creditCdrOf(o.cdr, { ...o.audit, sourceEvent: source }, s.endedAt);
      await storeCdr(m, credit.cdr, credit.audit);
      ctx.emit(catalogue.create(CdrCreatedV1, { ...common, id: deriveId('cdr-created', credit.cdr.id), payload: credit as never }));
    }
    if (outcome.audit.dataQuality) {
      ctx.logger.warn(
        { sessionId: s.sessionId, stationId: s.stationId, cdrId: outcome.cdr.id, missing: outcome.audit.dataQuality.missingLocationFields },
        'CDR priced with an incomplete cdr_location (LOCATION_INCOMPLETE): register the station location and connector types',
      );
    }
    await storeCdr(m, outcome.cdr, outcome.audit);
    ctx.emit(catalogue.create(CdrCreatedV1, { ...common, id: deriveId('cdr-created', outcome.cdr.id), payload: { cdr: outcome.cdr, audit: outcome.audit } as never }));
  };
}
