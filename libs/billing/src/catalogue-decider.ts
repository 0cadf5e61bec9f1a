/**
 * The tariff catalogue's write rules as a decider: a tariff's versions are numbered 1, 2, 3, … and kept for
 * ever; a version or an assignment applies from its `effectiveFrom`, which is never in the past (a price
 * change never rewrites sessions that already started: what-if is for the past); assignments are numbered in
 * the order they are set (`sequence`, which breaks ties of effectiveFrom), and name a tariff the catalogue has.
 * Here, beside the selection rules that read what these rules write (select-tariff.ts), and not in libs/pricing,
 * which prices one session under one tariff and knows nothing of a catalogue.
 *
 * `now` is the request's time, an input (never read here). Events are the contract's envelopes
 * (`tariff.version_published` v2, `tariff.assignment_set` v2) with name-based ids.
 */
import {
  TariffAssignmentSetV2,
  TariffVersionPublishedV2,
  deriveId,
  type EventCatalogue,
  type OcpiTariffDocument,
  type TariffAssignmentSet,
  type TariffVersionPublished,
} from '@csms/contracts';
import { DomainError, type Decider } from '@csms/kernel';
import { toCanonicalJson } from '@csms/pricing';
import { sha256 } from './cdr';
import type { AssignmentScope } from './select-tariff';

/** How far in the past an effectiveFrom may be (clock skew between client and server), in ms. */
export const BACKDATE_TOLERANCE_MS = 60_000;

type Writer = NonNullable<TariffVersionPublished['payload']['publishedBy']>;

export interface PublishTariffVersion {
  type: 'PublishTariffVersion';
  tariffId: string;
  /** the OCPI Tariff object, validated (libs/pricing validateTariff) */
  tariff: OcpiTariffDocument;
  /** RFC 3339; absent: now */
  effectiveFrom?: string;
  now: string;
  by: Writer;
}

export interface SetTariffAssignment {
  type: 'SetTariffAssignment';
  tariffId: string;
  scope: AssignmentScope;
  /** RFC 3339; absent: now */
  effectiveFrom?: string;
  removed: boolean;
  now: string;
  by: Writer;
}

export type CatalogueCommand = PublishTariffVersion | SetTariffAssignment;
export type CatalogueEvent = TariffVersionPublished | TariffAssignmentSet;

/** What the rules need of the catalogue: the latest version of each tariff (absent: none), the last assignment's sequence. */
export interface CatalogueState {
  latestVersion: Readonly<Record<string, number>>;
  lastSequence: number;
}

export type CatalogueErrorCode = 'RETROACTIVE_CHANGE' | 'TARIFF_NOT_FOUND';

/** A catalogue write the rules refuse (a kernel `DomainError`): a stable code, the command field at fault; never retriable. */
export class CatalogueError extends DomainError<CatalogueErrorCode> {
  declare readonly field: 'effectiveFrom' | 'tariffId';
  constructor(code: CatalogueErrorCode, field: 'effectiveFrom' | 'tariffId', message: string) {
    super(code, message, { field });
  }
}

/** The instant a write applies from: `effectiveFrom` (canonical UTC), or now; never more than the tolerance in the past. */
function notRetroactive(effectiveFrom: string | undefined, now: string): string {
  if (effectiveFrom === undefined) return new Date(Date.parse(now)).toISOString();
  const t = Date.parse(effectiveFrom);
  if (t < Date.parse(now) - BACKDATE_TOLERANCE_MS) {
    throw new CatalogueError(
      'RETROACTIVE_CHANGE',
      'effectiveFrom',
      `${effectiveFrom} is in the past: a price change never rewrites sessions that already started; use what-if re-pricing to study the past`,
    );
  }
  return new Date(t).toISOString();
}

export function catalogueDecider(cfg: {
  catalogue: EventCatalogue;
  source: string;
}): Decider<CatalogueCommand, CatalogueEvent, CatalogueState> {
  const { catalogue, source } = cfg;
  return {
    initialState: () => ({ latestVersion: {}, lastSequence: 0 }),

    decide(cmd, state) {
      const effectiveFrom = notRetroactive(cmd.effectiveFrom, cmd.now);
      const at = new Date(Date.parse(cmd.now)).toISOString();
      if (cmd.type === 'PublishTariffVersion') {
        const version = (state.latestVersion[cmd.tariffId] ?? 0) + 1;
        return [
          catalogue.create(TariffVersionPublishedV2, {
            id: deriveId('tariff-version', cmd.tariffId, version),
            key: cmd.tariffId,
            occurredAt: at,
            source,
            payload: {
              tariffId: cmd.tariffId,
              version,
              effectiveFrom,
              publishedAt: at,
              contentHash: sha256(toCanonicalJson(cmd.tariff)),
              tariff: cmd.tariff,
              publishedBy: cmd.by,
            },
          }),
        ];
      }
      if (state.latestVersion[cmd.tariffId] === undefined)
        throw new CatalogueError('TARIFF_NOT_FOUND', 'tariffId', `no tariff ${cmd.tariffId}`);
      const sequence = state.lastSequence + 1;
      return [
        catalogue.create(TariffAssignmentSetV2, {
          id: deriveId('tariff-assignment-set', sequence),
          key: cmd.tariffId,
          occurredAt: at,
          source,
          payload: {
            assignmentId: deriveId('tariff-assignment', sequence).slice(0, 36),
            tariffId: cmd.tariffId,
            scope: cmd.scope,
            effectiveFrom,
            setAt: at,
            sequence,
            removed: cmd.removed,
            setBy: cmd.by,
          },
        }),
      ];
    },

    evolve(state, event) {
      if (event.type === TariffVersionPublishedV2.type) {
        const p = (event as TariffVersionPublished).payload;
        return {
          ...state,
          latestVersion: {
            ...state.latestVersion,
            [p.tariffId]: Math.max(p.version, state.latestVersion[p.tariffId] ?? 0),
          },
        };
      }
      const p = (event as TariffAssignmentSet).payload;
      return { ...state, lastSequence: Math.max(state.lastSequence, p.sequence) };
    },
  };
}
