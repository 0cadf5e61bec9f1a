/**
 * Pure: a session.ended payload + the catalogue + registry facts -> an OCPI 2.2.1 CDR with its audit
 * section, or an explicit pricing failure. No framework, no clock, no randomness: the same inputs give
 * byte-identical output (ids are name-based, last_updated is the session's end).
 */
import { createHash } from 'node:crypto';
import { CDR_LOCATION_REQUIRED_FIELDS, deriveId, type EnergyTimelineResolution, type OcpiConnectorFormat, type OcpiConnectorType, type OcpiPowerType, type SessionEndedEvent, type SourceRange } from '@csms/contracts';
import { selectTariff, toPricingSession, type TariffAssignment } from '@csms/billing';
import { PRICING_ENGINE_VERSION, compileTariff, priceSession, toCanonicalJson, type CompiledTariff, type OcpiTariff, type PricedCdr, type PricingOptions } from '@csms/pricing';
import type { StationFacts, StoredVersion } from './catalogue';

export type SessionEndedPayload = SessionEndedEvent['payload'];

export interface SourcePosition {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
}

export interface PricingContext {
  session: SessionEndedPayload;
  source: SourcePosition;
  /** the registry copy's facts; undefined: the registry does not know the station */
  station?: StationFacts;
  token?: { groupId: string | null; accountId: string | null };
  assignments: readonly TariffAssignment[];
  versions: readonly StoredVersion[];
  cpo: { countryCode: string; partyId: string };
  defaultTimeZone: string;
  rounding: NonNullable<PricingOptions['rounding']>;
}

export interface OcpiCdr {
  country_code: string;
  party_id: string;
  id: string;
  start_date_time: string;
  end_date_time: string;
  session_id: string;
  cdr_token: { country_code: string; party_id: string; uid: string; type: string; contract_id: string };
  auth_method: string;
  cdr_location: CdrLocation;
  currency: string;
  tariffs: OcpiTariff[];
  charging_periods: PricedCdr['charging_periods'];
  total_cost: { excl_vat: string; incl_vat: string };
  total_fixed_cost?: { excl_vat: string; incl_vat: string };
  total_energy: string;
  total_energy_cost?: { excl_vat: string; incl_vat: string };
  total_time: string;
  total_time_cost?: { excl_vat: string; incl_vat: string };
  total_parking_time?: string;
  total_parking_cost?: { excl_vat: string; incl_vat: string };
  total_reservation_cost?: { excl_vat: string; incl_vat: string };
  remark?: string;
  credit?: boolean;
  credit_reference_id?: string;
  last_updated: string;
}

/** OCPI 2.2.1 CdrLocation; the OCPI-required location and connector fields are absent when the registry lacks them. */
export interface CdrLocation {
  id: string;
  name?: string;
  address?: string;
  city?: string;
  postal_code?: string;
  state?: string;
  country?: string;
  coordinates?: { latitude: string; longitude: string };
  evse_uid: string;
  evse_id: string;
  connector_id: string;
  connector_standard?: OcpiConnectorType;
  connector_format?: OcpiConnectorFormat;
  connector_power_type?: OcpiPowerType;
}

export type CdrLocationField = (typeof CDR_LOCATION_REQUIRED_FIELDS)[number];

export interface CdrDataQuality {
  flags: Array<'LOCATION_INCOMPLETE'>;
  missingLocationFields: CdrLocationField[];
}

export interface CdrAudit {
  sessionId: string;
  sessionRevision: number;
  stationId: string;
  tariffId: string;
  tariffVersion: number;
  tariffContentHash: string;
  assignment: Record<string, unknown>;
  engineVersion: string;
  timeZone: string;
  timeZoneSource: 'registry' | 'default';
  sourceEvent: SourcePosition;
  /** the session's inbound records as compact ranges (per topic + partition: offsets, count, hash) */
  inboundRecords: SourceRange[];
  /** whether the energy timeline the periods were cut on was exact or resampled (and its grid) */
  energyTimeline?: EnergyTimelineResolution;
  pricing: Record<string, unknown>;
  contentHash: string;
  /** present when the CDR lacks data OCPI requires (LOCATION_INCOMPLETE: which cdr_location fields) */
  dataQuality?: CdrDataQuality;
}

export type PricingOutcome =
  | { kind: 'priced'; cdr: OcpiCdr; audit: CdrAudit }
  | { kind: 'failed'; code: string; detail: string; field?: string };

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** CDR ids: 35 characters for a CDR (OCPI: at most 36), the original id + "-C" for its credit CDR. */
export function cdrIdOf(sessionId: string, revision: number): string {
  return `CDR${deriveId('cdr', sessionId, revision).replace(/-/g, '').toUpperCase()}`;
}

const TOKEN_TYPES: Record<string, string> = {
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
 * The EVSE the session used in the registry's numbering: 2.0.1 as reported; OCPP 1.6 connector N is EVSE N
 * with connector 1 (as the gateway registers reported connectors). The connector is the session's, or the
 * EVSE's only connector when a 2.0.1 session did not name one.
 */
function registryConnectorOf(s: SessionEndedPayload, station: StationFacts | undefined) {
  const evseNo = s.evseId ?? s.connectorId ?? 1;
  const evse = station?.evses.find((e) => e.evseId === evseNo);
  let connectorNo = s.protocol === 'ocpp1.6' ? 1 : s.connectorId;
  if (connectorNo === undefined && evse?.connectors.length === 1) connectorNo = evse.connectors[0].connectorId;
  const connector = connectorNo === undefined ? undefined : evse?.connectors.find((c) => c.connectorId === connectorNo);
  return { evseNo, evse, connectorNo: connectorNo ?? 1, connector };
}

/**
 * OCPI cdr_location from the registry copy.
 * - id: the registered location's id; without one, the site id, else the station id.
 * - evse_uid: `<stationId>*<EVSE>` (OCPP 1.6: the connector number, which is the EVSE); evse_id: the EVSE's
 *   eMI3 EVSE ID when the operator registered one, else the same as evse_uid. Ids longer than OCPI allows
 *   (36 / 48) become a name-based UUID of the readable id.
 * - connector_id: the connector within that EVSE (1.6: always 1).
 * - location and connector fields: copied from the registry when it has them; the OCPI-required ones that
 *   are missing are returned, for the audit's LOCATION_INCOMPLETE flag.
 */
export function cdrLocationOf(s: SessionEndedPayload, station: StationFacts | undefined): { location: CdrLocation; missing: CdrLocationField[] } {
  const { evseNo, evse, connectorNo, connector } = registryConnectorOf(s, station);
  const loc = station?.location ?? null;
  const readableEvse = `${s.stationId}*${evseNo}`;
  const location: CdrLocation = {
    id: loc ? loc.id : fitted('location', station?.siteId ?? s.stationId, 36),
    ...(loc?.name !== undefined ? { name: loc.name } : {}),
    ...(loc ? { address: loc.address, city: loc.city } : {}),
    ...(loc?.postal_code !== undefined ? { postal_code: loc.postal_code } : {}),
    ...(loc?.state !== undefined ? { state: loc.state } : {}),
    ...(loc ? { country: loc.country, coordinates: { latitude: loc.coordinates.latitude, longitude: loc.coordinates.longitude } } : {}),
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

/**
 * Each tariff object compiled once (validated and parsed): the consumer prices a chunk of sessions with the
 * tariff objects of one catalogue snapshot. Keyed by the object itself (held weakly), which is never
 * modified; an invalid tariff is not cached (it is priced through the checking path, for its error).
 */
const compiledTariffs = new WeakMap<OcpiTariff, CompiledTariff>();

function compiledOf(tariff: OcpiTariff): CompiledTariff | undefined {
  let compiled = compiledTariffs.get(tariff);
  if (compiled === undefined) {
    try {
      compiled = compileTariff(tariff);
    } catch {
      return undefined;
    }
    compiledTariffs.set(tariff, compiled);
  }
  return compiled;
}

/** Selects the tariff, prices the session and assembles the CDR. Never a free CDR: failures are explicit. */
export function buildCdr(ctx: PricingContext, draft?: { tariff: OcpiTariff }): PricingOutcome {
  const s = ctx.session;
  let chosen: { version: StoredVersion; assignment: Record<string, unknown> };
  if (draft) {
    chosen = {
      version: { tariffId: draft.tariff.id, version: 0, effectiveFrom: s.startedAt, publishedAt: s.startedAt, contentHash: sha256(toCanonicalJson(draft.tariff)), tariff: draft.tariff },
      assignment: { draft: true },
    };
  } else {
    const sel = selectTariff(ctx.assignments, ctx.versions, {
      at: s.startedAt,
      stationId: s.stationId,
      siteId: ctx.station?.siteId ?? undefined,
      evseId: s.evseId,
      connectorId: s.connectorId,
      tokenGroupId: ctx.token?.groupId ?? undefined,
      accountId: ctx.token?.accountId ?? undefined,
    });
    if (!sel.ok) return { kind: 'failed', code: sel.code, detail: sel.detail };
    const version = ctx.versions.find((v) => v.tariffId === sel.version.tariffId && v.version === sel.version.version)!;
    chosen = {
      version,
      assignment: {
        assignmentId: sel.assignment.assignmentId,
        level: sel.level,
        scope: sel.assignment.scope,
        effectiveFrom: sel.assignment.effectiveFrom,
        // candidates passed over because their tariff's OCPI validity window excludes the session start
        ...(sel.skipped.length > 0 ? { skipped: sel.skipped } : {}),
      },
    };
  }
  const tariff = chosen.version.tariff;
  const timeZone = ctx.station?.timeZone ?? ctx.defaultTimeZone;
  let priced: PricedCdr;
  try {
    const compiled = compiledOf(tariff) ?? tariff;
    const input = toPricingSession(s, { timeZone, currency: tariff.currency, tariff: compiled });
    priced = priceSession(compiled, input, { rounding: ctx.rounding });
  } catch (e) {
    const err = e as { code?: string; message?: string; field?: string };
    if (typeof err.code === 'string') return { kind: 'failed', code: err.code, detail: err.message ?? String(e), field: err.field };
    throw e;
  }
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
    pricing: { breakdown: priced.breakdown, audit: priced.audit } as unknown as Record<string, unknown>,
    contentHash: sha256(toCanonicalJson(cdr)),
    // no location (or no connector type) registered: still priced, never free, but said explicitly
    ...(where.missing.length > 0 ? { dataQuality: { flags: ['LOCATION_INCOMPLETE'], missingLocationFields: where.missing } } : {}),
  };
  return { kind: 'priced', cdr, audit };
}

/** The credit CDR of `original` (OCPI: same data, its own id, only total_cost negated). */
export function creditCdrOf(original: OcpiCdr, audit: CdrAudit, at: string): { cdr: OcpiCdr; audit: CdrAudit } {
  const negate = (v: string) => (v.startsWith('-') ? v.slice(1) : /^0(\.0*)?$/.test(v) ? v : `-${v}`);
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
