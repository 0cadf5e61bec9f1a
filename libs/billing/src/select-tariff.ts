import { parseRfc3339 } from '@csms/kernel';
import { BillingError } from './errors';

/** Where a tariff assignment applies. */
export type AssignmentScope =
  | { kind: 'account'; accountId: string }
  | { kind: 'token_group'; groupId: string }
  | { kind: 'connector'; stationId: string; evseId?: number; connectorId: number }
  | { kind: 'evse'; stationId: string; evseId: number }
  | { kind: 'station'; stationId: string }
  | { kind: 'site'; siteId: string }
  | { kind: 'default' };

export type ScopeLevel = AssignmentScope['kind'];

/** Precedence, strongest first: a driver's contract beats the location's price. */
export const SCOPE_PRECEDENCE: readonly ScopeLevel[] = [
  'account',
  'token_group',
  'connector',
  'evse',
  'station',
  'site',
  'default',
];

/**
 * The order of the candidate list, most significant key first. The candidates of a session are the
 * matching assignments in force at its start (effectiveFrom <= at); like an OCPI Connector's
 * `tariff_ids`, the list is ordered and **the first candidate whose tariff is valid at the session
 * start applies** (OCPI validity window: start_date_time <= at < end_date_time, UTC):
 * - `level`: by SCOPE_PRECEDENCE (account first, default last);
 * - `effectiveFrom`: within a level, the latest assignment first (a new assignment supersedes the
 *   older ones while its tariff is valid; they apply again around its validity window);
 * - `sequence`: same effectiveFrom, the later log entry first.
 * A `removed` candidate ends its level (older assignments of that level do not apply), the search
 * goes on at the next level. The list order, never the start dates alone, decides between tariffs in
 * force together.
 */
export const CANDIDATE_ORDER = ['level', 'effectiveFrom', 'sequence'] as const;

/**
 * The version of a tariff in force at the session start: among its versions with effectiveFrom <= at,
 * the greatest `effectiveFrom`, then the greatest `version`. A version replaces the whole tariff
 * object: its OCPI validity window is the tariff's window from then on (an earlier version is never
 * revived because the current one's window excludes the session start).
 */
export const VERSION_ORDER = ['effectiveFrom', 'version'] as const;

/** One entry of the assignment log (tariff.events). */
export interface TariffAssignment {
  assignmentId: string;
  tariffId: string;
  scope: AssignmentScope;
  /** RFC 3339: the assignment applies to sessions starting at or after this instant. */
  effectiveFrom: string;
  /** Integer position in the assignment log; unique. */
  sequence: number;
  /** true: from effectiveFrom on, this scope has no tariff (the search goes on to the next level). */
  removed?: boolean;
}

/** One published version of a tariff. */
export interface TariffVersionRef {
  tariffId: string;
  /** Integer, increasing per tariff. */
  version: number;
  /** RFC 3339: the version prices sessions starting at or after this instant. */
  effectiveFrom: string;
  /** RFC 3339: when it was published (recorded, not used by the selection rule). */
  publishedAt: string;
  /**
   * The OCPI Tariff object of the version (only its validity window is read): `start_date_time`
   * (inclusive) and `end_date_time` (exclusive), UTC. Absent fields: valid from / until forever.
   */
  tariff?: { readonly start_date_time?: string; readonly end_date_time?: string };
}

/** A candidate passed over because its tariff is not valid at the session start. */
export interface SkippedCandidate {
  assignmentId: string;
  tariffId: string;
  version: number;
  level: ScopeLevel;
  reason: 'NOT_YET_VALID' | 'EXPIRED';
  /** the version's window as written (absent: unbounded on that side) */
  start_date_time?: string;
  end_date_time?: string;
}

/** What is known of the session when its tariff is chosen. */
export interface TariffSelectionContext {
  /** RFC 3339: the session start (the tariff in force at the start prices the whole session). */
  at: string;
  stationId: string;
  siteId?: string;
  evseId?: number;
  connectorId?: number;
  tokenGroupId?: string;
  accountId?: string;
}

export type TariffSelection<
  A extends TariffAssignment = TariffAssignment,
  V extends TariffVersionRef = TariffVersionRef,
> =
  | { ok: true; assignment: A; version: V; level: ScopeLevel; skipped: readonly SkippedCandidate[] }
  | { ok: false; code: 'NO_ASSIGNMENT'; detail: string }
  | { ok: false; code: 'NO_VALID_TARIFF'; detail: string; skipped: readonly SkippedCandidate[] }
  | { ok: false; code: 'NO_VERSION_IN_FORCE'; detail: string; assignment: A; level: ScopeLevel };

function fail(code: BillingError['code'], field: string, reason: string): never {
  throw new BillingError(code, field, reason);
}

function instant(text: unknown, field: string, code: BillingError['code']): number {
  const ms = typeof text === 'string' ? parseRfc3339(text) : null;
  if (ms === null) fail(code, field, `must be an RFC 3339 date-time, got ${JSON.stringify(text)}`);
  return ms;
}

function matches(scope: AssignmentScope, ctx: TariffSelectionContext): boolean {
  switch (scope.kind) {
    case 'account':
      return ctx.accountId !== undefined && scope.accountId === ctx.accountId;
    case 'token_group':
      return ctx.tokenGroupId !== undefined && scope.groupId === ctx.tokenGroupId;
    case 'connector':
      // Without evseId the connector id is the station's (OCPP 1.6 numbering); with it, the EVSE's (2.0.1).
      return (
        scope.stationId === ctx.stationId &&
        ctx.connectorId !== undefined &&
        scope.connectorId === ctx.connectorId &&
        (scope.evseId === undefined || scope.evseId === ctx.evseId)
      );
    case 'evse':
      return scope.stationId === ctx.stationId && ctx.evseId !== undefined && scope.evseId === ctx.evseId;
    case 'station':
      return scope.stationId === ctx.stationId;
    case 'site':
      return ctx.siteId !== undefined && scope.siteId === ctx.siteId;
    case 'default':
      return true;
    default:
      return fail(
        'BILLING_INVALID_ASSIGNMENT',
        'scope.kind',
        `unknown scope kind ${JSON.stringify((scope as { kind: unknown }).kind)}`,
      );
  }
}

interface Candidate<A> {
  a: A;
  /** index in SCOPE_PRECEDENCE */
  level: number;
  from: number;
}

/** CANDIDATE_ORDER as a comparator: < 0 when x comes before y. */
function compareCandidates<A extends TariffAssignment>(x: Candidate<A>, y: Candidate<A>): number {
  for (const key of CANDIDATE_ORDER) {
    const d =
      key === 'level' ? x.level - y.level : key === 'effectiveFrom' ? y.from - x.from : y.a.sequence - x.a.sequence;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Chooses the tariff and its version for a session (see README "Tariff selection"):
 * - the candidates are the matching assignments with effectiveFrom <= ctx.at, in CANDIDATE_ORDER
 *   (scope level account > token_group > connector > evse > station > site > default; within a level
 *   the latest effectiveFrom first, ties by the greatest sequence); a `removed` candidate ends its level;
 * - a candidate's version in force is its tariff's version by VERSION_ORDER (greatest effectiveFrom <=
 *   ctx.at, ties by the greatest version); none is NO_VERSION_IN_FORCE (no fall-through: an operator
 *   error to fix, not a reason to charge another price);
 * - the first candidate whose version's OCPI validity window (start_date_time <= at < end_date_time)
 *   contains ctx.at applies; the others before it are reported in `skipped`. None: NO_VALID_TARIFF.
 * Never a free session: no tariff is an explicit `{ ok: false }`. Pure and deterministic. Throws
 * BillingError for invalid input (a date that is not RFC 3339, a non-integer or repeated sequence).
 */
export function selectTariff<A extends TariffAssignment, V extends TariffVersionRef>(
  assignments: readonly A[],
  versions: readonly V[],
  ctx: TariffSelectionContext,
): TariffSelection<A, V> {
  const at = instant(ctx.at, 'at', 'BILLING_INVALID_CONTEXT');
  if (typeof ctx.stationId !== 'string' || ctx.stationId.length === 0)
    fail('BILLING_INVALID_CONTEXT', 'stationId', 'must be a non-empty string');

  const sequences = new Set<number>();
  const candidates: Candidate<A>[] = [];
  assignments.forEach((a, i) => {
    if (!Number.isSafeInteger(a.sequence))
      fail(
        'BILLING_INVALID_ASSIGNMENT',
        `assignments[${i}].sequence`,
        `must be an integer, got ${JSON.stringify(a.sequence)}`,
      );
    if (sequences.has(a.sequence))
      fail(
        'BILLING_INVALID_ASSIGNMENT',
        `assignments[${i}].sequence`,
        `sequence ${a.sequence} appears twice in the log`,
      );
    sequences.add(a.sequence);
    const level = SCOPE_PRECEDENCE.indexOf(a.scope?.kind);
    if (level < 0)
      fail(
        'BILLING_INVALID_ASSIGNMENT',
        `assignments[${i}].scope.kind`,
        `unknown scope kind ${JSON.stringify(a.scope?.kind)}`,
      );
    const from = instant(a.effectiveFrom, `assignments[${i}].effectiveFrom`, 'BILLING_INVALID_ASSIGNMENT');
    if (from <= at && matches(a.scope, ctx)) candidates.push({ a, level, from });
  });
  candidates.sort(compareCandidates);

  const removedAt: string[] = [];
  const skipped: SkippedCandidate[] = [];
  let endedLevel = -1;
  for (const c of candidates) {
    if (c.level === endedLevel) continue;
    const assignment = c.a;
    const level = SCOPE_PRECEDENCE[c.level];
    if (assignment.removed === true) {
      removedAt.push(`${level} (removed by ${assignment.assignmentId})`);
      endedLevel = c.level;
      continue;
    }
    const chosen = versionInForce(versions, assignment.tariffId, at);
    if (chosen === null) {
      return {
        ok: false,
        code: 'NO_VERSION_IN_FORCE',
        detail: `tariff ${assignment.tariffId} (assignment ${assignment.assignmentId}, level ${level}) has no version with effectiveFrom <= ${ctx.at}`,
        assignment,
        level,
      };
    }
    const outside = outsideWindow(chosen.v, chosen.index, at);
    if (outside === null) return { ok: true, assignment, version: chosen.v, level, skipped };
    const w = chosen.v.tariff;
    skipped.push({
      assignmentId: assignment.assignmentId,
      tariffId: assignment.tariffId,
      version: chosen.v.version,
      level,
      reason: outside,
      ...(w?.start_date_time !== undefined ? { start_date_time: w.start_date_time } : {}),
      ...(w?.end_date_time !== undefined ? { end_date_time: w.end_date_time } : {}),
    });
  }
  const tail = removedAt.length > 0 ? `; removed: ${removedAt.join(', ')}` : '';
  if (skipped.length > 0) {
    const list = skipped
      .map(
        (k) =>
          `${k.tariffId} v${k.version} (${k.level}, ${k.reason === 'EXPIRED' ? `ended ${k.end_date_time}` : `starts ${k.start_date_time}`})`,
      )
      .join(', ');
    return {
      ok: false,
      code: 'NO_VALID_TARIFF',
      detail: `no assigned tariff is valid at ${ctx.at} for station ${ctx.stationId}: ${list}${tail}`,
      skipped,
    };
  }
  return {
    ok: false,
    code: 'NO_ASSIGNMENT',
    detail: `no tariff assignment in force at ${ctx.at} for station ${ctx.stationId}${tail}`,
  };
}

/** The version of `tariffId` in force at `at` by VERSION_ORDER, or null. */
function versionInForce<V extends TariffVersionRef>(
  versions: readonly V[],
  tariffId: string,
  at: number,
): { v: V; index: number; from: number } | null {
  let chosen: { v: V; index: number; from: number } | null = null;
  versions.forEach((v, i) => {
    if (v.tariffId !== tariffId) return;
    if (!Number.isSafeInteger(v.version))
      fail('BILLING_INVALID_VERSION', `versions[${i}].version`, `must be an integer, got ${JSON.stringify(v.version)}`);
    const from = instant(v.effectiveFrom, `versions[${i}].effectiveFrom`, 'BILLING_INVALID_VERSION');
    if (from > at) return;
    // VERSION_ORDER: effectiveFrom, then version, greatest first
    if (chosen === null || from > chosen.from || (from === chosen.from && v.version > chosen.v.version))
      chosen = { v, index: i, from };
  });
  return chosen;
}

/** null when the version's OCPI validity window contains `at` (start inclusive, end exclusive). */
function outsideWindow(v: TariffVersionRef, index: number, at: number): SkippedCandidate['reason'] | null {
  const w = v.tariff;
  if (w === undefined || w === null) return null;
  if (
    w.start_date_time !== undefined &&
    at < instant(w.start_date_time, `versions[${index}].tariff.start_date_time`, 'BILLING_INVALID_VERSION')
  )
    return 'NOT_YET_VALID';
  if (
    w.end_date_time !== undefined &&
    at >= instant(w.end_date_time, `versions[${index}].tariff.end_date_time`, 'BILLING_INVALID_VERSION')
  )
    return 'EXPIRED';
  return null;
}
