/**
 * The public events: session.started, session.updated and session.ended (contracts in @csms/contracts), which
 * of them a session owes after a fact, and their payloads. Payloads are built by adding fields to the
 * identity object (see the README, "Performance").
 */
import * as contracts from '@csms/contracts';
import * as kernel from '@csms/kernel';
import type { ChargerEvent } from '@csms/ocpp-normaliser';
import type { DeciderContext } from './context';
import * as decisionModule from './decision';
import type { Decision } from './decision';
import * as energyModule from './energy';
import * as eventsModule from './events';
import type {
  PublicSessionEvent,
  SessionClosure,
  SessionEnded,
  SessionEndedPayload,
  SessionFlag,
  SessionStarted,
  SessionUpdated,
  SourceRef,
} from './events';
import * as idsModule from './ids';
import * as seqNosModule from './seq-nos';
import * as stateModule from './state';
import type { SessionState } from './state';
import * as summaryModule from './summary';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { formatScaled, toIsoString } = kernel;
const { emit } = decisionModule;
const { computeEnergy, toDecimal } = energyModule;
const { REVIEW_FLAGS } = eventsModule;
const { sessionEventIdOf } = idsModule;
const { hasGap, missingSeqNos } = seqNosModule;
const { chunkedToArray, currentState } = stateModule;
const { boundedDetail, chargingPeriods, totals } = summaryModule;
const { sessionStationOf } = contracts;

/**
 * Emits the public events owed by a session after a fact was applied to it. All of them are computed from
 * `s`, the session as it was before the first of them (their per-session numbers are s.published + 0, 1).
 */
export function emitPublicEvents(d: Decision, s: SessionState, e: ChargerEvent, ctx: DeciderContext): void {
  let n = 0;
  if (!s.startedEmitted) emit(d, started(s, n++, e.eventId));
  if (s.end || s.closure !== undefined) emitEnd(d, s, n, e, ctx);
  else if (s.startedEmitted && isUpdateDue(s, e, ctx)) emit(d, updated(s, n, e.occurredAt, e.eventId, ctx));
}

/**
 * A session with an end (or closed by a rule): held while incomplete (one session.updated says so), else
 * session.ended, re-emitted as a revision only when the result changes.
 */
function emitEnd(d: Decision, s: SessionState, n: number, e: ChargerEvent, ctx: DeciderContext): void {
  const incomplete = !s.startKnown || hasGap(s);
  if (s.end && incomplete && !s.ended) {
    if (!s.heldIncomplete) emit(d, updated(s, n, e.occurredAt, e.eventId, ctx));
    return;
  }
  const closure: SessionClosure = s.end
    ? s.closure?.rule === 'incomplete-timeout' && incomplete
      ? 'incomplete-timeout'
      : 'stop'
    : s.closure!.rule;
  const candidate = ended(s, n, closure, undefined, e.eventId, ctx);
  if (!s.ended || digestOf(s.ended.payload, ctx) !== digestOf(candidate.payload, ctx)) emit(d, candidate);
}

/** Throttling: on a change of charging state, or once updateIntervalSeconds of station time passed since the last update. */
function isUpdateDue(s: SessionState, e: ChargerEvent, ctx: DeciderContext): boolean {
  const stateChanged = (s.lastUpdateState ?? s.initialState ?? 'Charging') !== currentState(s);
  return (
    stateChanged || ctx.ms(e.occurredAt) >= (s.lastUpdateMs ?? s.startedAtMs) + ctx.cfg.updateIntervalSeconds * 1000
  );
}

/** What a revision compares: the payload without revision, provenance and the revision flag (remembered per payload). */
function digestOf(p: SessionEndedPayload, ctx: DeciderContext): string {
  let digest = ctx.endedDigests.get(p);
  if (digest === undefined) {
    const { revision: _r, sources: _s, dataQuality, ...rest } = p;
    digest = JSON.stringify({
      ...rest,
      flags: dataQuality.flags.filter((f) => f !== 'REVISED_AFTER_CLOSE'),
      missing: dataQuality.missingSeqNos,
    });
    ctx.endedDigests.set(p, digest);
  }
  return digest;
}

/** Provenance in first-seen order, each record once. */
function sourcesOf(s: SessionState): SourceRef[] {
  const seen = new Set<string>();
  return chunkedToArray(s.sources).filter((x) => !seen.has(x.eventId) && seen.add(x.eventId) !== undefined);
}

function envelope<T extends PublicSessionEvent['type'], P>(
  s: SessionState,
  type: T,
  n: number,
  occurredAt: string,
  causationId: string,
  payload: P,
) {
  return {
    id: sessionEventIdOf(s.sessionId, type, s.published + n),
    type,
    version: type === 'session.ended' ? 2 : 1,
    occurredAt,
    key: s.sessionId,
    causationId,
    correlationId: s.sessionId,
    payload,
  };
}

function identity(s: SessionState) {
  const id: {
    sessionId: string;
    stationId: string;
    protocol: SessionState['protocol'];
    transactionId: string;
    evseId?: number;
    connectorId?: number;
  } = {
    sessionId: s.sessionId,
    stationId: s.stationId,
    protocol: s.protocol,
    transactionId: s.transactionId,
  };
  if (s.evseId !== undefined) id.evseId = s.evseId;
  if (s.connectorId !== undefined) id.connectorId = s.connectorId;
  return id;
}

function started(s: SessionState, n: number, causationId: string): SessionStarted {
  const p = identity(s) as SessionStarted['payload'];
  p.startedAt = s.startedAt;
  p.startKnown = s.startKnown;
  p.sources = sourcesOf(s);
  if (s.idToken) p.idToken = s.idToken;
  if (s.station) p.station = sessionStationOf(s.station, p);
  if (s.meterStartWh !== undefined) p.meterStartWh = s.meterStartWh;
  if (s.reservationId !== undefined) p.reservationId = s.reservationId;
  if (s.remoteStartId !== undefined) p.remoteStartId = s.remoteStartId;
  return envelope(s, 'session.started', n, s.startedAt, causationId, p);
}

/** Energy so far (to the last event), state, flags; `incomplete` when the end arrived but seqNos or the start are missing. */
function updated(
  s: SessionState,
  n: number,
  occurredAt: string,
  causationId: string,
  ctx: DeciderContext,
): SessionUpdated {
  const energy = computeEnergy(s, Math.max(s.lastEventMs, s.startedAtMs), ctx.cfg, ctx.energyChunks, false);
  const flags = [
    ...new Set<SessionFlag>([
      ...s.flags,
      ...energy.flags.filter((f) => f !== 'ENERGY_FROM_LAST_SAMPLE' && f !== 'NO_ENERGY_DATA'),
    ]),
  ].sort();
  const missing = hasGap(s) ? missingSeqNos(s) : [];
  if (missing.length > 0) flags.push('SEQNO_GAP');
  if (!s.startKnown) flags.push('START_MISSING');
  const p = identity(s) as SessionUpdated['payload'];
  p.status = s.end && (missing.length > 0 || !s.startKnown) ? 'incomplete' : 'active';
  p.startedAt = s.startedAt;
  p.chargingState = currentState(s);
  p.energyWh = formatScaled(energy.total, energy.scale);
  p.missingSeqNos = missing;
  p.flags = [...new Set(flags)].sort();
  if (energy.lastAt !== undefined) p.lastReadingAt = energy.lastAt;
  return envelope(s, 'session.updated', n, occurredAt, causationId, p);
}

/** When a session ended: its stop, else the time a rule gave, else its last event; never before its start. */
function endOf(
  s: SessionState,
  endedAtOverride: string | undefined,
  ctx: DeciderContext,
): { endMs: number; beforeStart: boolean } {
  const endMs = ctx.ms(s.end?.at ?? endedAtOverride ?? s.closure?.endedAt ?? s.lastEventAt);
  return endMs < s.startedAtMs ? { endMs: s.startedAtMs, beforeStart: true } : { endMs, beforeStart: false };
}

/** The flags a session.ended states besides the session's own and its energy's. */
function closingFlags(
  flags: Set<SessionFlag>,
  s: SessionState,
  closure: SessionClosure,
  missing: number[],
  revision: number,
): void {
  if (missing.length > 0) flags.add('SEQNO_GAP');
  if (!s.startKnown) flags.add('START_MISSING');
  if (closure === 'new-transaction') flags.add('NEVER_STOPPED').add('CLOSED_BY_NEW_TRANSACTION');
  if (closure === 'timeout') flags.add('NEVER_STOPPED').add('CLOSED_BY_TIMEOUT');
  if (revision > 1) flags.add('REVISED_AFTER_CLOSE');
}

export function ended(
  s: SessionState,
  n: number,
  closure: SessionClosure,
  endedAtOverride: string | undefined,
  causationId: string,
  ctx: DeciderContext,
): SessionEnded {
  const flags = new Set<SessionFlag>(s.flags);
  const { endMs, beforeStart } = endOf(s, endedAtOverride, ctx);
  if (beforeStart) flags.add('END_BEFORE_START');
  const energy = computeEnergy(s, endMs, ctx.cfg, ctx.energyChunks);
  energy.flags.forEach((f) => flags.add(f));
  const { periods, parkingMs } = chargingPeriods(s, s.startedAtMs, endMs, energy);
  const missing = hasGap(s) ? missingSeqNos(s) : [];
  const revision = (s.ended?.revision ?? 0) + 1;
  closingFlags(flags, s, closure, missing, revision);
  // bounded whatever the session's length: periods, timeline, signed values and sources (summary.ts)
  const detail = boundedDetail(periods, energy, s.startedAtMs, endMs, s.signed, sourcesOf(s));
  if (detail.merged) flags.add('CHARGING_PERIODS_MERGED');
  const sorted = [...flags].sort();
  const p = identity(s) as SessionEndedPayload;
  p.revision = revision;
  p.closure = closure;
  p.startedAt = s.startedAt;
  p.endedAt = toIsoString(endMs);
  p.totals = totals(toDecimal(energy.total, energy.scale), endMs - s.startedAtMs, parkingMs);
  p.chargingPeriods = detail.chargingPeriods;
  p.energyTimeline = detail.energyTimeline;
  p.energyTimelineResolution = detail.energyTimelineResolution;
  p.signedMeterValues = detail.signedMeterValues;
  p.signedMeterValuesOmitted = detail.signedMeterValuesOmitted;
  p.dataQuality = {
    flags: sorted,
    needsReview: sorted.some((f) => REVIEW_FLAGS.includes(f)),
    estimated:
      sorted.includes('ENERGY_FROM_LAST_SAMPLE') ||
      sorted.includes('NEVER_STOPPED') ||
      sorted.includes('NO_ENERGY_DATA'),
    missingSeqNos: missing,
    duplicatesIgnored: s.duplicatesIgnored,
  };
  p.sources = detail.sources;
  if (s.end?.reason !== undefined) p.stoppedReason = s.end.reason;
  if (s.idToken) p.idToken = s.idToken;
  if (s.end?.stopIdToken) p.stopIdToken = s.end.stopIdToken;
  if (s.station) p.station = sessionStationOf(s.station, p);
  if (s.meterStartWh !== undefined) p.meterStartWh = s.meterStartWh;
  if (s.end?.meterStopWh !== undefined) p.meterStopWh = s.end.meterStopWh;
  return envelope(s, 'session.ended', n, p.endedAt, causationId, p);
}
