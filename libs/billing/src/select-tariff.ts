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
 * Whoever selects for many sessions over one catalogue builds a `TariffIndex` once and asks it instead.
 */
export function selectTariff<A extends TariffAssignment, V extends TariffVersionRef>(
  assignments: readonly A[],
  versions: readonly V[],
  ctx: TariffSelectionContext,
): TariffSelection<A, V> {
  return new TariffIndex(assignments, versions).select(ctx);
}

/** The versions of one tariff, checked (or the first of them that is invalid, thrown when the tariff is asked for). */
type VersionsOf<V> = { ok: true; list: { v: V; index: number; from: number }[] } | { ok: false; error: BillingError };

/**
 * `selectTariff` over one catalogue, for many sessions: the assignment log and the versions checked and their
 * instants parsed once, the assignments filed by what they match (account, token group, station, site, default),
 * the versions by tariff. A selection then reads only the assignments that can match the session and the versions
 * of the tariffs it tries, instead of parsing and matching the whole catalogue: the cost of a selection no longer
 * grows with the number of tariffs. Same answers and the same errors, at the same points, as the rule applied to
 * the arrays (`select-tariff.spec.ts` checks both against the rule written as a plain scan, on random catalogues).
 * The arrays and their objects must not be modified while the index is used (the tariff service's catalogue
 * snapshot is frozen).
 */
export class TariffIndex<A extends TariffAssignment = TariffAssignment, V extends TariffVersionRef = TariffVersionRef> {
  /** the first invalid assignment of the log: every selection throws it, as a scan of the log would */
  private readonly invalid?: { field: string; reason: string };
  private readonly byAccount = new Map<unknown, Candidate<A>[]>();
  private readonly byTokenGroup = new Map<unknown, Candidate<A>[]>();
  /** connector, EVSE and station scopes, by station id (the connector and EVSE are matched per selection) */
  private readonly byStation = new Map<unknown, Candidate<A>[]>();
  private readonly bySite = new Map<unknown, Candidate<A>[]>();
  private readonly defaults: Candidate<A>[] = [];
  /** the positions of each tariff's versions in the array; checked and parsed when the tariff is first tried */
  private readonly versionsFiled = new Map<unknown, number[]>();
  private readonly versionsChecked = new Map<unknown, VersionsOf<V>>();
  /** the validity windows' instants, parsed when first needed (start and end apart: a scan reads end only after start) */
  private readonly windowStarts = new Map<number, number>();
  private readonly windowEnds = new Map<number, number>();

  constructor(
    assignments: readonly A[],
    private readonly versions: readonly V[],
  ) {
    const sequences = new Set<number>();
    for (let i = 0; i < assignments.length; i++) {
      const c = checked(assignments[i], i, sequences);
      if (!('a' in c)) {
        this.invalid = c;
        break;
      }
      const a = c.a;
      const scope = a.scope;
      if (scope.kind === 'account') file(this.byAccount, scope.accountId, c);
      else if (scope.kind === 'token_group') file(this.byTokenGroup, scope.groupId, c);
      else if (scope.kind === 'site') file(this.bySite, scope.siteId, c);
      else if (scope.kind === 'default') this.defaults.push(c);
      else file(this.byStation, scope.stationId, c);
    }
    for (let index = 0; index < versions.length; index++) file(this.versionsFiled, versions[index].tariffId, index);
  }

  /** selectTariff's answer for this catalogue. */
  select(ctx: TariffSelectionContext): TariffSelection<A, V> {
    const at = instant(ctx.at, 'at', 'BILLING_INVALID_CONTEXT');
    if (typeof ctx.stationId !== 'string' || ctx.stationId.length === 0)
      fail('BILLING_INVALID_CONTEXT', 'stationId', 'must be a non-empty string');
    if (this.invalid !== undefined) fail('BILLING_INVALID_ASSIGNMENT', this.invalid.field, this.invalid.reason);

    // (no closures on this path: the dev runner's keepNames wraps each one created in a defineProperty)
    const candidates: Candidate<A>[] = [];
    if (ctx.accountId !== undefined) take(this.byAccount.get(ctx.accountId), at, ctx, candidates);
    if (ctx.tokenGroupId !== undefined) take(this.byTokenGroup.get(ctx.tokenGroupId), at, ctx, candidates);
    take(this.byStation.get(ctx.stationId), at, ctx, candidates);
    if (ctx.siteId !== undefined) take(this.bySite.get(ctx.siteId), at, ctx, candidates);
    take(this.defaults, at, ctx, candidates);
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
      const chosen = this.versionInForce(assignment.tariffId, at);
      if (chosen === null) {
        return {
          ok: false,
          code: 'NO_VERSION_IN_FORCE',
          detail: `tariff ${assignment.tariffId} (assignment ${assignment.assignmentId}, level ${level}) has no version with effectiveFrom <= ${ctx.at}`,
          assignment,
          level,
        };
      }
      const outside = this.outsideWindow(chosen.v, chosen.index, at);
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
  private versionInForce(tariffId: string, at: number): { v: V; index: number; from: number } | null {
    const of = this.versionsOf(tariffId);
    if (!of.ok) throw new BillingError(of.error.code, of.error.field, of.error.reason);
    let chosen: { v: V; index: number; from: number } | null = null;
    for (const x of of.list) {
      if (x.from > at) continue;
      // VERSION_ORDER: effectiveFrom, then version, greatest first
      if (chosen === null || x.from > chosen.from || (x.from === chosen.from && x.v.version > chosen.v.version))
        chosen = x;
    }
    return chosen;
  }

  /** A tariff's versions checked when the tariff is first tried (in the order of the array: its first invalid one). */
  private versionsOf(tariffId: string): VersionsOf<V> {
    let of = this.versionsChecked.get(tariffId);
    if (of !== undefined) return of;
    of = { ok: true, list: [] };
    for (const index of this.versionsFiled.get(tariffId) ?? []) {
      const v = this.versions[index];
      if (!Number.isSafeInteger(v.version)) {
        const reason = `must be an integer, got ${JSON.stringify(v.version)}`;
        of = { ok: false, error: new BillingError('BILLING_INVALID_VERSION', `versions[${index}].version`, reason) };
        break;
      }
      const from = typeof v.effectiveFrom === 'string' ? parseRfc3339(v.effectiveFrom) : null;
      if (from === null) {
        const reason = `must be an RFC 3339 date-time, got ${JSON.stringify(v.effectiveFrom)}`;
        of = {
          ok: false,
          error: new BillingError('BILLING_INVALID_VERSION', `versions[${index}].effectiveFrom`, reason),
        };
        break;
      }
      of.list.push({ v, index, from });
    }
    this.versionsChecked.set(tariffId, of);
    return of;
  }

  /** null when the version's OCPI validity window contains `at` (start inclusive, end exclusive). */
  private outsideWindow(v: V, index: number, at: number): SkippedCandidate['reason'] | null {
    const w = v.tariff;
    if (w === undefined || w === null) return null;
    if (w.start_date_time !== undefined) {
      let start = this.windowStarts.get(index);
      if (start === undefined) {
        start = instant(w.start_date_time, `versions[${index}].tariff.start_date_time`, 'BILLING_INVALID_VERSION');
        this.windowStarts.set(index, start);
      }
      if (at < start) return 'NOT_YET_VALID';
    }
    if (w.end_date_time !== undefined) {
      let end = this.windowEnds.get(index);
      if (end === undefined) {
        end = instant(w.end_date_time, `versions[${index}].tariff.end_date_time`, 'BILLING_INVALID_VERSION');
        this.windowEnds.set(index, end);
      }
      if (at >= end) return 'EXPIRED';
    }
    return null;
  }
}

/** The assignment at position `i` of the log checked: its candidate form, or what is wrong with it. */
function checked<A extends TariffAssignment>(
  a: A,
  i: number,
  sequences: Set<number>,
): Candidate<A> | { field: string; reason: string } {
  if (!Number.isSafeInteger(a.sequence))
    return { field: `assignments[${i}].sequence`, reason: `must be an integer, got ${JSON.stringify(a.sequence)}` };
  if (sequences.has(a.sequence))
    return { field: `assignments[${i}].sequence`, reason: `sequence ${a.sequence} appears twice in the log` };
  sequences.add(a.sequence);
  const level = SCOPE_PRECEDENCE.indexOf(a.scope?.kind);
  if (level < 0)
    return { field: `assignments[${i}].scope.kind`, reason: `unknown scope kind ${JSON.stringify(a.scope?.kind)}` };
  const from = typeof a.effectiveFrom === 'string' ? parseRfc3339(a.effectiveFrom) : null;
  if (from === null)
    return {
      field: `assignments[${i}].effectiveFrom`,
      reason: `must be an RFC 3339 date-time, got ${JSON.stringify(a.effectiveFrom)}`,
    };
  return { a, level, from };
}

/** The filed candidates that apply to the session (in force at `at`, matching its context), added to `into`. */
function take<A extends TariffAssignment>(
  filed: readonly Candidate<A>[] | undefined,
  at: number,
  ctx: TariffSelectionContext,
  into: Candidate<A>[],
): void {
  if (filed === undefined) return;
  for (const c of filed) if (c.from <= at && matches(c.a.scope, ctx)) into.push(c);
}

function file<T>(filed: Map<unknown, T[]>, key: unknown, c: T): void {
  const list = filed.get(key);
  if (list === undefined) filed.set(key, [c]);
  else list.push(c);
}
