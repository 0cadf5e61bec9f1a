/**
 * The billing rules as a decider, per charging session: a `session.ended` revision, with the CDRs already
 * issued for the session and the catalogue and registry facts, gives
 * - nothing, when that revision was settled before (a re-delivered or re-emitted session.ended);
 * - a `session.pricing_failed` (no tariff applies, the engine refused the input or threw, the CDR would break
 *   its contract or be too large for a record: `settle`);
 * - a `cdr.created` — preceded, for a corrected session (a later revision), by one credit CDR per CDR of an
 *   earlier revision not credited yet: history is never edited.
 * The events are the contract's envelopes (`cdr.created` v4, `session.pricing_failed` v1), with name-based ids,
 * validated as they are made; the same command and state always give the same bytes.
 */
import {
  CdrCreatedV4,
  SessionPricingFailedV1,
  deriveId,
  type CdrAudit,
  type CdrCreated,
  type EventCatalogue,
  type OcpiCdr,
  type SessionPricingFailed,
} from '@csms/contracts';
import type { Decider } from '@csms/kernel';
import { KeyCache } from '@csms/ocmf';
import { CompiledTariffs, buildCdr, creditCdrOf, type SourcePosition } from './cdr';
import { sessionStationFacts, sessionTokenFacts, type PricingFacts } from './facts';
import { retriableOnly, settle, type InfrastructureFailure, type Pricer } from './settle';
import type { SessionEndedPayload } from './to-pricing-session';

/** Price one `session.ended` revision. */
export interface PriceEndedSession {
  type: 'PriceEndedSession';
  /** the session.ended envelope: its id (the events' causation) and correlation id, and its v2 payload */
  event: { id: string; correlationId: string | null; payload: SessionEndedPayload };
  /** where it was read (the CDR audit's sourceEvent) */
  source: SourcePosition;
  facts: PricingFacts;
}
export type BillingCommand = PriceEndedSession;

/** A CDR issued for the session (never a credit CDR), and whether a credit CDR cancels it. */
export interface IssuedCdr {
  cdr: OcpiCdr;
  audit: CdrAudit;
  billingAccountId: string | null;
  credited: boolean;
}

/** What the billing rules know of one session: the revisions settled and the CDRs issued for it. */
export interface BillingState {
  /** revisions with an outcome (a CDR or a pricing failure) */
  settled: readonly number[];
  /** the session's CDRs (not the credit CDRs), in the order issued */
  cdrs: readonly IssuedCdr[];
}

export type BillingEvent = CdrCreated | SessionPricingFailed;

export interface BillingDeciderConfig {
  /** validates the events as they are made (and measures a cdr.created as the outbox will write it) */
  catalogue: EventCatalogue;
  /** the envelopes' `source` */
  source: string;
  /** the largest cdr.created (bytes): a larger one is a CDR_TOO_LARGE pricing failure */
  maxEventBytes: number;
  /** the pricing function (default: buildCdr; tests inject one that throws or builds a bad CDR) */
  price?: Pricer;
  /** which errors thrown by the pricing are infrastructure failures, thrown on for a retry (default: `retriable: true`) */
  infrastructure?: InfrastructureFailure;
}

type Common = { key: string; occurredAt: string; source: string; causationId: string; correlationId: string };

/** The session.pricing_failed of a revision that could not be priced. */
export function pricingFailedEvent(
  catalogue: EventCatalogue,
  source: string,
  cmd: Pick<PriceEndedSession, 'event' | 'source'>,
  f: { code: string; detail: string; field?: string },
): SessionPricingFailed {
  const s = cmd.event.payload;
  return catalogue.create(SessionPricingFailedV1, {
    ...commonOf(source, cmd),
    id: deriveId('pricing-failed', s.sessionId, s.revision),
    payload: {
      sessionId: s.sessionId,
      sessionRevision: s.revision,
      stationId: s.stationId,
      code: f.code,
      detail: f.detail,
      ...(f.field ? { field: f.field } : {}),
      sessionEndedAt: s.endedAt,
      sourceEvent: cmd.source,
    },
  });
}

function commonOf(source: string, cmd: Pick<PriceEndedSession, 'event'>): Common {
  const s = cmd.event.payload;
  return {
    key: s.sessionId,
    occurredAt: s.endedAt,
    source,
    causationId: cmd.event.id,
    correlationId: cmd.event.correlationId ?? cmd.event.id,
  };
}

export function billingDecider(cfg: BillingDeciderConfig): Decider<BillingCommand, BillingEvent, BillingState> {
  const { catalogue } = cfg;
  const tariffs = new CompiledTariffs();
  const keyCache = new KeyCache();
  const price: Pricer = cfg.price ?? ((ctx) => buildCdr(ctx, { tariffs, keyCache }));
  const infrastructure = cfg.infrastructure ?? retriableOnly;
  const cdrCreated = (common: Common, payload: CdrCreated['payload']): CdrCreated =>
    catalogue.create(CdrCreatedV4, { ...common, id: deriveId('cdr-created', payload.cdr.id), payload });

  return {
    initialState: () => ({ settled: [], cdrs: [] }),

    decide(cmd, state) {
      const s = cmd.event.payload;
      if (state.settled.includes(s.revision)) return [];
      const common = commonOf(cfg.source, cmd);
      // the token as the gateway's registry had it when the station was answered, where the session carries it
      const token = sessionTokenFacts(s.idToken, cmd.facts.token);
      // and the station as it had it when the start was answered
      const station = sessionStationFacts(s.station, cmd.facts.station);
      const billingAccountId = token?.accountId ?? null;
      const outcome = settle(
        catalogue,
        price,
        { ...cmd.facts, station, token, session: s, source: cmd.source },
        (o) => cdrCreated(common, { cdr: o.cdr, audit: o.audit, billingAccountId }),
        cfg.maxEventBytes,
        infrastructure,
      );
      if (outcome.kind === 'failed') return [pricingFailedEvent(catalogue, cfg.source, cmd, outcome)];
      // a correction: credit every CDR of an earlier revision not credited yet, oldest first, to the account it was billed to
      const open = state.cdrs
        .filter((c) => !c.credited && c.audit.sessionRevision < s.revision)
        .sort((a, b) => a.audit.sessionRevision - b.audit.sessionRevision);
      const credits = open.map((o) => {
        const credit = creditCdrOf(o.cdr, { ...o.audit, sourceEvent: cmd.source }, s.endedAt);
        return cdrCreated(common, { ...credit, billingAccountId: o.billingAccountId });
      });
      return [...credits, outcome.event];
    },

    evolve(state, event) {
      if (event.type === SessionPricingFailedV1.type) {
        const p = (event as SessionPricingFailed).payload;
        return { ...state, settled: [...state.settled, p.sessionRevision] };
      }
      const p = (event as CdrCreated).payload;
      if (p.cdr.credit === true) {
        return {
          ...state,
          cdrs: state.cdrs.map((c) => (c.cdr.id === p.cdr.credit_reference_id ? { ...c, credited: true } : c)),
        };
      }
      return {
        settled: [...state.settled, p.audit.sessionRevision],
        cdrs: [...state.cdrs, { cdr: p.cdr, audit: p.audit, billingAccountId: p.billingAccountId, credited: false }],
      };
    },
  };
}
