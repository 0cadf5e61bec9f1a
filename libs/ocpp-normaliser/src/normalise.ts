import { fastUuidV5, uuidNamespace } from '@csms/kernel';
import { OcppNormaliseError } from './errors';
import { isNoFact, stationAction, type Draft } from './actions';
import type { ChargerEvent, ChargerEventSource, IdToken, OcppProtocol } from './events';
import type { OcppInboundRecord, SourceIdentity, StationAsAnswered, TokenRegistryFacts } from './inbound-record';
import { arr, instantAt, obj, oneOf, str, type Unchecked } from './read';

/** Namespace of the charger-event ids: uuidv5(`${source.eventId}#${index}`, CHARGER_EVENT_NAMESPACE). */
export const CHARGER_EVENT_NAMESPACE = '6f1c3a52-8d0e-5b7a-9c41-2f6e0d9b7a13';
const CHARGER_EVENT_NS = uuidNamespace(CHARGER_EVENT_NAMESPACE);

export type NormaliseResult =
  | {
      ok: true;
      events: ChargerEvent[];
      /** why the record gives no events, when it gives none on purpose */ ignored?: string;
    }
  | { ok: false; error: OcppNormaliseError };

/**
 * Maps one raw inbound record to the charger events it states: a call through its action's declaration
 * (src/actions/v16.ts, v201.ts: a mapping, or no fact). Pure and deterministic: the same record
 * and source always give the same events with the same ids. Never throws: invalid input is an error
 * result with a stable code.
 */
export function normalise(record: OcppInboundRecord, source: SourceIdentity): NormaliseResult {
  try {
    return normaliseOrThrow(record, source);
  } catch (e: unknown) {
    if (e instanceof OcppNormaliseError) return { ok: false, error: e };
    return { ok: false, error: new OcppNormaliseError('INVALID_RECORD', e instanceof Error ? e.message : String(e)) };
  }
}

/** As normalise, but throws OcppNormaliseError. */
export function normaliseOrThrow(record: OcppInboundRecord, source: SourceIdentity): NormaliseResult & { ok: true } {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new OcppNormaliseError('INVALID_RECORD', 'the inbound record must be an object', 'record');
  }
  const r: Unchecked<OcppInboundRecord> = record;
  const stationId = str(r, 'stationId', 'record');
  if (r.protocol !== 'ocpp1.6' && r.protocol !== 'ocpp2.0.1') {
    throw new OcppNormaliseError(
      'UNSUPPORTED_PROTOCOL',
      `unsupported protocol ${String(r.protocol)}`,
      'record.protocol',
    );
  }
  const src = obj<SourceIdentity>(source, 'source');
  str(src, 'eventId', 'source');
  const receivedAt = instantAt(r.receivedAt, 'record.receivedAt').iso;
  const kind = oneOf(r, 'kind', 'record', [
    'call',
    'callresult',
    'callerror',
    'connected',
    'disconnected',
    'rejected',
  ] as const);
  const provenance: ChargerEventSource = {
    eventId: source.eventId,
    connectionId: str(r, 'connectionId', 'record'),
    gatewayInstance: str(r, 'gatewayInstance', 'record'),
  };
  if (source.topic !== undefined) provenance.topic = source.topic;
  if (source.partition !== undefined) provenance.partition = source.partition;
  if (source.offset !== undefined) provenance.offset = source.offset;
  if (record.messageId !== undefined) provenance.messageId = record.messageId;
  if (record.action !== undefined) provenance.action = record.action;

  let drafts: Draft[];
  let ignored: string | undefined;
  if (kind === 'connected') drafts = [{ type: 'station.connected' }];
  else if (kind === 'disconnected')
    drafts = [{ type: 'station.disconnected', ...(record.reason !== undefined ? { reason: record.reason } : {}) }];
  else if (kind !== 'call') {
    // Results of CSMS-initiated calls (reset, remote start, ...) are command outcomes, not charger facts;
    // a frame the gateway rejected (answered with a CALLERROR) is kept in the log for audit, and is no fact either.
    drafts = [];
    ignored = `${kind} records carry no charger event`;
  } else {
    const action = str(r, 'action', 'record');
    const payload = obj<object>(r.payload, 'payload');
    const declared = stationAction(r.protocol, action);
    if (declared === undefined)
      throw new OcppNormaliseError(
        'UNKNOWN_ACTION',
        `${r.protocol} action ${action} is not a charge point message`,
        'record.action',
      );
    if (isNoFact(declared.facts)) {
      drafts = [];
      ignored = `${action} carries no charger event`;
    } else {
      drafts = declared.facts({ payload, record });
      if (r.tokens !== undefined) drafts = withRegistryFacts(drafts, tokenFacts(r.tokens));
      if (r.station !== undefined) drafts = withStationFacts(drafts, stationFacts(r.station));
    }
  }

  const events = drafts.map((d, i): ChargerEvent => {
    const { occurredAt, flags, ...rest } = d;
    const e = {
      ...rest,
      eventId: fastUuidV5(`${source.eventId}#${i}`, CHARGER_EVENT_NS),
      stationId,
      protocol: r.protocol as OcppProtocol,
      occurredAt: occurredAt ?? receivedAt,
      receivedAt,
      source: provenance,
    } as ChargerEvent;
    if (occurredAt === undefined) e.occurredAtIsReceiveTime = true;
    if (flags && flags.length > 0) e.flags = flags;
    return e;
  });
  return ignored === undefined ? { ok: true, events } : { ok: true, events, ignored };
}

/** The record's `tokens`, checked, by uid. */
function tokenFacts(v: unknown): Map<string, TokenRegistryFacts> {
  const out = new Map<string, TokenRegistryFacts>();
  arr(v, 'record.tokens').forEach((t, i) => {
    const path = `record.tokens[${i}]`;
    const o = obj<{ uid: string }>(t, path) as Record<string, unknown>;
    const nullable = (k: string, ok: (x: unknown) => boolean, what: string) => {
      const x = o[k];
      if (x === null || ok(x)) return x;
      throw new OcppNormaliseError('INVALID_RECORD', `${path}.${k} must be ${what} or null`, `${path}.${k}`);
    };
    const isText = (x: unknown) => typeof x === 'string' && x.length > 0;
    out.set(str(o as Unchecked<{ uid: string }>, 'uid', path), {
      revision: nullable('revision', (x) => Number.isSafeInteger(x) && (x as number) >= 0, 'a revision') as
        number | null,
      groupId: nullable('groupId', isText, 'a text') as string | null,
      billingAccountId: nullable('billingAccountId', isText, 'a text') as string | null,
    });
  });
  return out;
}

/**
 * The record's `station`. The record passed the catalogue's schema check before it got here (libs/contracts
 * StationAsAnsweredSchema); what the rules rely on is checked again, so that a record built by hand fails here with
 * its field rather than deep inside pricing.
 */
function stationFacts(v: unknown): StationAsAnswered {
  const o = obj<StationAsAnswered>(v, 'record.station') as Record<string, unknown>;
  const bad = (k: string, what: string) =>
    new OcppNormaliseError('INVALID_RECORD', `record.station.${k} must be ${what}`, `record.station.${k}`);
  if (!Number.isSafeInteger(o.revision) || (o.revision as number) < 1) throw bad('revision', 'a revision');
  if (o.siteId !== null && (typeof o.siteId !== 'string' || o.siteId.length === 0))
    throw bad('siteId', 'a text or null');
  if (typeof o.timeZone !== 'string' || o.timeZone.length === 0) throw bad('timeZone', 'a text');
  if (o.location !== null && (typeof o.location !== 'object' || Array.isArray(o.location)))
    throw bad('location', 'an object or null');
  if (!Array.isArray(o.evses)) throw bad('evses', 'an array');
  return o as unknown as StationAsAnswered;
}

/** The transaction start with what the gateway's registry said of the station when the start was answered. */
function withStationFacts(drafts: Draft[], station: StationAsAnswered): Draft[] {
  return drafts.map((d) => (d.type === 'transaction.started' ? ({ ...d, station } as Draft) : d));
}

/** Each event's id token with what the gateway's registry said of it when the message was answered. */
function withRegistryFacts(drafts: Draft[], facts: Map<string, TokenRegistryFacts>): Draft[] {
  return drafts.map((d) => {
    const t = (d as { idToken?: IdToken }).idToken;
    const registry = t && facts.get(t.idToken);
    return registry ? ({ ...d, idToken: { ...t, registry } } as Draft) : d;
  });
}
