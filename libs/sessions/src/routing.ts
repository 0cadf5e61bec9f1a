/**
 * Routing: which session a charger event goes to, or why it goes to none. Emits the internal fact (recorded,
 * discarded as a duplicate, or aliased) and the rule-based closing of a session a new transaction replaces.
 */
import * as kernel from '@csms/kernel';
import type { ChargerEvent } from '@csms/ocpp-normaliser';
import type { DeciderContext } from './context';
import * as decisionModule from './decision';
import type { Decision } from './decision';
import type { SessionFactDiscarded } from './events';
import * as factsModule from './facts';
import * as idsModule from './ids';
import * as publicEventsModule from './public-events';
import * as seqNosModule from './seq-nos';
import * as stateModule from './state';
import type { SessionState, SessionsState } from './state';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { compareDecimal } = kernel;
const { emit } = decisionModule;
const { connectorKeyOf, startIdentityOf, totalOf, txOf } = factsModule;
const { sessionIdOf } = idsModule;
const { ended } = publicEventsModule;
const { seqSource } = seqNosModule;
const { chunkedFindFromEnd, chunkedLast, sessionOf } = stateModule;

/**
 * Routes one charger event and returns the session whose public events may be due. `before` is the state
 * before the inbound record: duplicates are judged against earlier records only.
 */
export function route(e: ChargerEvent, before: SessionsState, d: Decision, ctx: DeciderContext): string | undefined {
  if (!('transactionId' in e) || e.transactionId === undefined) return routeConnectorStatus(e, d);
  const current = d.current;
  let sessionId = current.byTransaction[ctx.transactionKey(e.stationId, e.transactionId)];
  const identity = startIdentityOf(e);
  const firstStart = identity === undefined ? undefined : current.byStartIdentity[identity];
  if (firstStart !== undefined) {
    // a retried 1.6 StartTransaction: the same start again, or a second transactionId for the first session
    if (sessionId === firstStart)
      emit(d, { type: 'session.fact.discarded', sessionId: firstStart, eventId: e.eventId, reason: 'DUPLICATE_START' });
    else
      emit(d, {
        type: 'session.transaction.aliased',
        sessionId: firstStart,
        stationId: e.stationId,
        transactionId: e.transactionId,
        fact: e,
      });
    return undefined;
  }
  const existing = sessionId === undefined ? undefined : sessionOf(before, sessionId);
  const reason = existing ? duplicateReason(existing, e, ctx) : undefined;
  if (reason !== undefined) {
    emit(d, { type: 'session.fact.discarded', sessionId, eventId: e.eventId, reason });
    return undefined;
  }
  if (sessionId === undefined) {
    sessionId = sessionIdOf(e.stationId, e.transactionId);
    closeSessionReplacedOnConnector(e, d, ctx);
  }
  emit(d, { type: 'session.fact.recorded', sessionId, fact: e });
  return sessionId;
}

/** 1.6: a connector's status is the charging state of the session open on it (the fact always updates the connector). */
function routeConnectorStatus(e: ChargerEvent, d: Decision): string | undefined {
  if (e.type !== 'connector.status.changed') return undefined;
  const key = connectorKeyOf(e);
  const open = key ? d.current.connectors[key]?.openSessionId : undefined;
  const applies = open !== undefined && e.chargingState !== undefined;
  emit(d, { type: 'session.fact.recorded', fact: e, ...(applies ? { sessionId: open } : {}) });
  return applies ? open : undefined;
}

/** Why a fact of a known session repeats one already applied (README "Duplicates"), if it does. */
function duplicateReason(
  s: SessionState,
  e: ChargerEvent,
  ctx: DeciderContext,
): SessionFactDiscarded['reason'] | undefined {
  const tx = txOf(e);
  if (tx) {
    // 2.0.1: the first record carrying a seqNo wins
    const first = seqSource(s, tx.seqNo);
    if (first !== undefined && first !== e.source.eventId) return 'DUPLICATE_SEQNO';
  }
  if (e.protocol !== 'ocpp1.6') return undefined;
  if (e.type === 'transaction.ended' && s.end && s.end.at === e.occurredAt && s.end.meterStopWh === e.meterStopWh)
    return 'DUPLICATE_END';
  if (e.type === 'meter.sampled' && isRepeatedSample(s, e, ctx)) {
    // transactionData repeating what MeterValues already said is normal 1.6 behaviour, not a repeated message
    return e.source.action === 'StopTransaction' ? 'REPEATED_IN_TRANSACTION_DATA' : 'DUPLICATE_SAMPLE';
  }
  return undefined;
}

/**
 * A 1.6 sample group already applied: the session has a register reading of the same value at that instant
 * (a retried MeterValues, or transactionData repeating MeterValues).
 */
function isRepeatedSample(s: SessionState, e: ChargerEvent & { type: 'meter.sampled' }, ctx: DeciderContext): boolean {
  const t = ctx.ms(e.occurredAt);
  // the usual case: newer than every reading so far
  const last = chunkedLast(s.readings);
  if (last === undefined || last.ms < t) return false;
  const wh = totalOf(e.samples, 'Energy.Active.Import.Register', 'Wh');
  if (wh === undefined) return false;
  // newest first, stopping at the first reading older than t
  const hit = chunkedFindFromEnd(s.readings, (r) => r.ms < t || (r.ms === t && compareDecimal(r.wh, wh) === 0));
  return hit !== undefined && hit.ms === t;
}

/**
 * Never stopped (a): a new transaction starting on a connector at or after the start of the session still
 * open there closes that one at its last event time (`closure: 'new-transaction'`).
 */
function closeSessionReplacedOnConnector(e: ChargerEvent, d: Decision, ctx: DeciderContext): void {
  if (e.type !== 'transaction.started') return;
  const key = connectorKeyOf(e);
  const openId = key ? d.current.connectors[key]?.openSessionId : undefined;
  const open = openId ? sessionOf(d.current, openId) : undefined;
  const startMs = ctx.ms(e.occurredAt);
  if (!open || open.end || open.closure || open.startedAtMs > startMs) return;
  const endAt = open.lastEventMs <= startMs ? open.lastEventAt : e.occurredAt;
  emit(d, ended(open, 0, 'new-transaction', endAt, e.eventId, ctx));
}
