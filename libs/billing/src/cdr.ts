/**
 * Pure: a session.ended payload + the catalogue + registry facts -> an OCPI 2.2.1 CDR with its audit
 * section, or an explicit pricing failure. No framework, no clock, no randomness: the same inputs give
 * byte-identical output (ids are name-based, last_updated is the session's end). The CDR and audit types are
 * the cdr.created contract's (libs/contracts), nothing else.
 */
import { createHash } from 'node:crypto';
import {
  CDR_LOCATION_REQUIRED_FIELDS,
  deriveId,
  sessionConnectorOf,
  type CdrAudit,
  type CdrLocation,
  type CdrLocationField,
  type CdrSourceEvent,
  type OcpiCdr,
  type OcpiTariffDocument,
} from '@csms/contracts';
import { Money } from '@csms/money';
import {
  PRICING_ENGINE_VERSION,
  compileTariff,
  priceSession,
  toCanonicalJson,
  type CompiledTariff,
  type PricedCdr,
} from '@csms/pricing';
import type { PricingFacts, StationFacts, StoredVersion } from './facts';
import { TariffIndex, type TariffAssignment, type TariffVersionRef } from './select-tariff';
import type { SessionEndedPayload } from './to-pricing-session';
import { toPricingSession } from './to-pricing-session';
import { checkSignedMeterValues } from './signed-data';
import type { KeyCache } from '@csms/ocmf';

/** Where the session.ended being priced was read: its envelope id and log position (the CDR audit's `sourceEvent`). */
export type SourcePosition = CdrSourceEvent;

/** Everything buildCdr needs: the session, where it was read, and the catalogue and registry facts. */
export interface PricingContext extends PricingFacts {
  session: SessionEndedPayload;
  source: SourcePosition;
}

export type PricingOutcome =
  { kind: 'priced'; cdr: OcpiCdr; audit: CdrAudit } | { kind: 'failed'; code: string; detail: string; field?: string };

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** CDR ids: 35 characters for a CDR (OCPI: at most 36), the original id + "-C" for its credit CDR. */
export function cdrIdOf(sessionId: string, revision: number): string {
  return `CDR${deriveId('cdr', sessionId, revision).replace(/-/g, '').toUpperCase()}`;
}

const TOKEN_TYPES: Record<string, OcpiCdr['cdr_token']['type']> = {
  ISO14443: 'RFID',
  ISO15693: 'RFID',
  'ocpp1.6-idTag': 'RFID',
  eMAID: 'APP_USER',
  Central: 'AD_HOC_USER',
  NoAuthorization: 'AD_HOC_USER',
};

/** An OCPI id of at most `max` characters: the readable one when it fits, else a name-based UUID (36) of it. */
function fitted(kind: string, readable: string, max: number): string {
  return readable.length <= max ? readable : deriveId('ocpi-id', kind, readable);
}

/**
 * OCPI cdr_location from the station facts (as answered at the start, else the registry copy).
 * - id: the registered location's id; without one, the site id, else the station id.
 * - evse_uid: `<stationId>*<EVSE>` (OCPP 1.6: the connector number, which is the EVSE); evse_id: the EVSE's
 *   eMI3 EVSE ID when the operator registered one, else the same as evse_uid. Ids longer than OCPI allows
 *   (36 / 48) become a name-based UUID of the readable id.
 * - connector_id: the connector within that EVSE (1.6: always 1).
 * - location and connector fields: copied from the registry when it has them; the OCPI-required ones that
 *   are missing are returned, for the audit's LOCATION_INCOMPLETE flag.
 */
export function cdrLocationOf(
  s: SessionEndedPayload,
  station: StationFacts | undefined,
): { location: CdrLocation; missing: CdrLocationField[] } {
  const { evseNo, evse, connectorNo, connector } = sessionConnectorOf(station?.evses, s);
  const loc = station?.location ?? null;
  const readableEvse = `${s.stationId}*${evseNo}`;
  const location: CdrLocation = {
    id: loc ? loc.id : fitted('location', station?.siteId ?? s.stationId, 36),
    ...(loc?.name !== undefined ? { name: loc.name } : {}),
    ...(loc ? { address: loc.address, city: loc.city } : {}),
    ...(loc?.postal_code !== undefined ? { postal_code: loc.postal_code } : {}),
    ...(loc?.state !== undefined ? { state: loc.state } : {}),
    ...(loc
      ? {
          country: loc.country,
          coordinates: { latitude: loc.coordinates.latitude, longitude: loc.coordinates.longitude },
        }
      : {}),
    evse_uid: fitted('evse_uid', readableEvse, 36),
    evse_id: evse?.emi3EvseId ?? fitted('evse_id', readableEvse, 48),
    connector_id: String(connectorNo),
    ...(connector?.standard !== undefined ? { connector_standard: connector.standard } : {}),
    ...(connector?.format !== undefined ? { connector_format: connector.format } : {}),
    ...(connector?.power_type !== undefined ? { connector_power_type: connector.power_type } : {}),
  };
  const missing = CDR_LOCATION_REQUIRED_FIELDS.filter((f) => location[f] === undefined);
  return { location, missing };
}

/** The selection index of a catalogue snapshot: the one `tariffs` keeps for it (built once), or one for this call. */
export function catalogueIndex<A extends TariffAssignment, V extends TariffVersionRef>(
  assignments: readonly A[],
  versions: readonly V[],
  tariffs: CompiledTariffs | undefined,
): TariffIndex<A, V> {
  return tariffs?.index(assignments, versions) ?? new TariffIndex(assignments, versions);
}

/**
 * Each tariff object compiled once (validated and parsed): a consumer prices a chunk of sessions with the
 * tariff objects of one catalogue snapshot. Keyed by the object itself (held weakly), which is never
 * modified; an invalid tariff is not cached (it is priced through the checking path, for its error).
 * An explicit object: whoever prices (the billing decider, what-if) makes one and passes it in.
 */
export class CompiledTariffs {
  private readonly compiled = new WeakMap<OcpiTariffDocument, CompiledTariff>();
  /** the selection index of each assignment log (by the array), with the versions it was built over */
  private readonly indexes = new WeakMap<
    readonly TariffAssignment[],
    { versions: readonly TariffVersionRef[]; index: object }
  >();

  /**
   * The selection index (libs/billing `TariffIndex`) of one catalogue snapshot, built once for the arrays and kept
   * while the same two arrays are passed (the tariff service keeps its frozen snapshot while the catalogue's
   * revision stands): a chunk's sessions, and the chunks after it, select without scanning the catalogue.
   */
  index<A extends TariffAssignment, V extends TariffVersionRef>(
    assignments: readonly A[],
    versions: readonly V[],
  ): TariffIndex<A, V> {
    const kept = this.indexes.get(assignments);
    if (kept !== undefined && kept.versions === versions) return kept.index as TariffIndex<A, V>;
    const index = new TariffIndex(assignments, versions);
    this.indexes.set(assignments, { versions, index });
    return index;
  }

  of(tariff: OcpiTariffDocument): CompiledTariff | undefined {
    let compiled = this.compiled.get(tariff);
    if (compiled === undefined) {
      try {
        compiled = compileTariff(tariff);
      } catch {
        return undefined;
      }
      this.compiled.set(tariff, compiled);
    }
    return compiled;
  }
}

/** Selects the tariff, prices the session and assembles the CDR. Never a free CDR: failures are explicit. */
export function buildCdr(
  ctx: PricingContext,
  opts: {
    /** what-if: price with this tariff instead of the catalogue's */ draft?: OcpiTariffDocument;
    tariffs?: CompiledTariffs;
    /** meter verification keys already built (libs/ocmf KeyCache) */ keyCache?: KeyCache;
  } = {},
): PricingOutcome {
  const s = ctx.session;
  const draft = opts.draft === undefined ? undefined : { tariff: opts.draft };
  let chosen: { version: StoredVersion; assignment: CdrAudit['assignment'] };
  if (draft) {
    chosen = {
      version: {
        tariffId: draft.tariff.id,
        version: 0,
        effectiveFrom: s.startedAt,
        publishedAt: s.startedAt,
        contentHash: sha256(toCanonicalJson(draft.tariff)),
        tariff: draft.tariff,
      },
      assignment: { draft: true },
    };
  } else {
    const select = catalogueIndex(ctx.assignments, ctx.versions, opts.tariffs);
    const sel = select.select({
      at: s.startedAt,
      stationId: s.stationId,
      siteId: ctx.station?.siteId ?? undefined,
      evseId: s.evseId,
      connectorId: s.connectorId,
      tokenGroupId: ctx.token?.groupId ?? undefined,
      accountId: ctx.token?.accountId ?? undefined,
    });
    if (!sel.ok) return { kind: 'failed', code: sel.code, detail: sel.detail };
    const version = sel.version; // the catalogue's own object (the index answers with the versions it was given)
    chosen = {
      version,
      assignment: {
        assignmentId: sel.assignment.assignmentId,
        level: sel.level,
        scope: sel.assignment.scope,
        effectiveFrom: sel.assignment.effectiveFrom,
        // candidates passed over because their tariff's OCPI validity window excludes the session start
        ...(sel.skipped.length > 0 ? { skipped: [...sel.skipped] } : {}),
      },
    };
  }
  const tariff = chosen.version.tariff;
  const timeZone = ctx.station?.timeZone ?? ctx.defaultTimeZone;
  let priced: PricedCdr;
  try {
    const compiled = opts.tariffs?.of(tariff) ?? tariff;
    const input = toPricingSession(s, { timeZone, currency: tariff.currency, tariff: compiled });
    priced = priceSession(compiled, input, { rounding: ctx.rounding });
  } catch (e) {
    const err = e as { code?: string; message?: string; field?: string };
    if (typeof err.code === 'string')
      return { kind: 'failed', code: err.code, detail: err.message ?? String(e), field: err.field };
    throw e;
  }
  // signed meter values (Eichrecht): OCPI signed_data on the CDR, how they were checked in the audit; a session
  // without any gets neither, its CDR is byte for byte what it was before
  const signed = checkSignedMeterValues(
    s,
    priced.total_energy,
    {
      keys: ctx.meterKeys ?? [],
      policies: ctx.signaturePolicies ?? [],
      siteId: ctx.station?.siteId,
    },
    { keyCache: opts.keyCache },
  );
  if (signed?.block) return { kind: 'failed', code: signed.block.code, detail: signed.block.detail };
  const uid = s.idToken?.idToken ?? 'UNKNOWN';
  const where = cdrLocationOf(s, ctx.station);
  const cdr: OcpiCdr = {
    country_code: ctx.cpo.countryCode,
    party_id: ctx.cpo.partyId,
    id: cdrIdOf(s.sessionId, s.revision),
    start_date_time: priced.start_date_time,
    end_date_time: priced.end_date_time,
    session_id: s.sessionId,
    cdr_token: {
      country_code: ctx.cpo.countryCode,
      party_id: ctx.cpo.partyId,
      uid,
      type: s.idToken ? (TOKEN_TYPES[s.idToken.type] ?? 'OTHER') : 'OTHER',
      contract_id: ctx.token?.accountId ?? uid,
    },
    auth_method: 'WHITELIST',
    cdr_location: where.location,
    currency: priced.currency,
    tariffs: [tariff],
    charging_periods: priced.charging_periods,
    total_cost: priced.total_cost,
    total_fixed_cost: priced.total_fixed_cost,
    total_energy: priced.total_energy,
    total_energy_cost: priced.total_energy_cost,
    total_time: priced.total_time,
    total_time_cost: priced.total_time_cost,
    total_parking_time: priced.total_parking_time,
    total_parking_cost: priced.total_parking_cost,
    total_reservation_cost: priced.total_reservation_cost,
    ...(s.dataQuality.needsReview ? { remark: `data quality: ${s.dataQuality.flags.join(', ')}`.slice(0, 255) } : {}),
    ...(signed ? { signed_data: signed.cdr } : {}),
    last_updated: priced.end_date_time,
  };

  const audit: CdrAudit = {
    sessionId: s.sessionId,
    sessionRevision: s.revision,
    stationId: s.stationId,
    tariffId: chosen.version.tariffId,
    tariffVersion: chosen.version.version,
    tariffContentHash: chosen.version.contentHash,
    assignment: chosen.assignment,
    engineVersion: PRICING_ENGINE_VERSION,
    timeZone,
    timeZoneSource: ctx.station ? 'registry' : 'default',
    sourceEvent: ctx.source,
    inboundRecords: s.sources,
    energyTimeline: s.energyTimelineResolution,
    pricing: { breakdown: priced.breakdown, audit: priced.audit },
    contentHash: sha256(toCanonicalJson(cdr)),
    // no location (or no connector type) registered: still priced, never free, but said explicitly
    ...(where.missing.length > 0
      ? { dataQuality: { flags: ['LOCATION_INCOMPLETE'], missingLocationFields: where.missing } }
      : {}),
    ...(signed ? { signedMeterValues: signed.audit } : {}),
  };
  return { kind: 'priced', cdr, audit };
}

/**
 * The credit CDR of `original` (OCPI: same data, its own id, only total_cost negated, with the Money type of the
 * CDR's currency: a zero stays zero, never "-0.00").
 */
export function creditCdrOf(original: OcpiCdr, audit: CdrAudit, at: string): { cdr: OcpiCdr; audit: CdrAudit } {
  const negate = (v: string) => Money.of(v, original.currency).negate().toMinorUnitString();
  const cdr: OcpiCdr = {
    ...original,
    id: `${original.id}-C`,
    total_cost: { excl_vat: negate(original.total_cost.excl_vat), incl_vat: negate(original.total_cost.incl_vat) },
    credit: true,
    credit_reference_id: original.id,
    last_updated: at,
  };
  return { cdr, audit: { ...audit, contentHash: sha256(toCanonicalJson(cdr)) } };
}
