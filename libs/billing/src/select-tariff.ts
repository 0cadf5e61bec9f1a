import { parseRfc3339 } from '@csms/pricing';
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
export const SCOPE_PRECEDENCE: readonly ScopeLevel[] = ['account', 'token_group', 'connector', 'evse', 'station', 'site', 'default'];

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

export type TariffSelection<A extends TariffAssignment = TariffAssignment, V extends TariffVersionRef = TariffVersionRef> =
  | { ok: true; assignment: A; version: V; level: ScopeLevel }
  | { ok: false; code: 'NO_ASSIGNMENT'; detail: string }
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
      return fail('BILLING_INVALID_ASSIGNMENT', 'scope.kind', `unknown scope kind ${JSON.stringify((scope as { kind: unknown }).kind)}`);
  }
}

/**
 * Chooses the tariff and its version for a session (see README "Tariff selection"):
 * - scope levels by precedence account > token_group > connector > evse > station > site > default;
 * - within the first level with a matching assignment, the assignment with the greatest
 *   effectiveFrom <= ctx.at wins, ties by the greatest sequence; a winning `removed` assignment
 *   means that level has no tariff and the search goes on to the next level;
 * - the version in force is the chosen tariff's version with the greatest effectiveFrom <= ctx.at,
 *   ties by the greatest version; none is NO_VERSION_IN_FORCE (no fall-through to a weaker level).
 * Never a free session: no tariff is an explicit `{ ok: false }`. Pure and deterministic. Throws
 * BillingError for invalid input (a date that is not RFC 3339, a non-integer or repeated sequence).
 */
export function selectTariff<A extends TariffAssignment, V extends TariffVersionRef>(
  assignments: readonly A[],
  versions: readonly V[],
  ctx: TariffSelectionContext,
): TariffSelection<A, V> {
  const at = instant(ctx.at, 'at', 'BILLING_INVALID_CONTEXT');
  if (typeof ctx.stationId !== 'string' || ctx.stationId.length === 0) fail('BILLING_INVALID_CONTEXT', 'stationId', 'must be a non-empty string');

  const sequences = new Set<number>();
  const parsed = assignments.map((a, i) => {
    if (!Number.isSafeInteger(a.sequence)) fail('BILLING_INVALID_ASSIGNMENT', `assignments[${i}].sequence`, `must be an integer, got ${JSON.stringify(a.sequence)}`);
    if (sequences.has(a.sequence)) fail('BILLING_INVALID_ASSIGNMENT', `assignments[${i}].sequence`, `sequence ${a.sequence} appears twice in the log`);
    sequences.add(a.sequence);
    if (!SCOPE_PRECEDENCE.includes(a.scope?.kind)) fail('BILLING_INVALID_ASSIGNMENT', `assignments[${i}].scope.kind`, `unknown scope kind ${JSON.stringify(a.scope?.kind)}`);
    return { a, from: instant(a.effectiveFrom, `assignments[${i}].effectiveFrom`, 'BILLING_INVALID_ASSIGNMENT') };
  });

  const passed: string[] = [];
  for (const level of SCOPE_PRECEDENCE) {
    let best: { a: A; from: number } | null = null;
    for (const c of parsed) {
      if (c.a.scope.kind !== level || c.from > at || !matches(c.a.scope, ctx)) continue;
      if (best === null || c.from > best.from || (c.from === best.from && c.a.sequence > best.a.sequence)) best = c;
    }
    if (best === null) continue;
    if (best.a.removed === true) {
      passed.push(`${level} (removed by ${best.a.assignmentId})`);
      continue;
    }
    const assignment = best.a;
    let chosen: { v: V; from: number } | null = null;
    versions.forEach((v, i) => {
      if (v.tariffId !== assignment.tariffId) return;
      if (!Number.isSafeInteger(v.version)) fail('BILLING_INVALID_VERSION', `versions[${i}].version`, `must be an integer, got ${JSON.stringify(v.version)}`);
      const from = instant(v.effectiveFrom, `versions[${i}].effectiveFrom`, 'BILLING_INVALID_VERSION');
      if (from > at) return;
      if (chosen === null || from > chosen.from || (from === chosen.from && v.version > chosen.v.version)) chosen = { v, from };
    });
    if (chosen === null) {
      return {
        ok: false,
        code: 'NO_VERSION_IN_FORCE',
        detail: `tariff ${assignment.tariffId} (assignment ${assignment.assignmentId}, level ${level}) has no version with effectiveFrom <= ${ctx.at}`,
        assignment,
        level,
      };
    }
    return { ok: true, assignment, version: (chosen as { v: V }).v, level };
  }
  const tail = passed.length > 0 ? `; removed: ${passed.join(', ')}` : '';
  return { ok: false, code: 'NO_ASSIGNMENT', detail: `no tariff assignment in force at ${ctx.at} for station ${ctx.stationId}${tail}` };
}
