import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';

/**
 * What the tariff service knows of a running session that the payment service needs and cannot compute (it has
 * neither the tariff catalogue nor the pricing engine): which tariff will price it, with its OCPI `max_price`, at
 * the start; and what it costs so far, priced with the CDR's own engine, while it charges. Both on
 * `billing.events`, key = session id (so they come before the session's `cdr.created`, in order), ids derived
 * from the causing `session.started` / `session.updated`, times = those events' times ([ADR 0012]).
 */

const Instant = Type.String({ format: 'date-time', maxLength: 35 });
const Decimal = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const Code = Type.String({ pattern: '^[A-Z][A-Z0-9_]*$', maxLength: 64 });

export const SessionTariffSelectedV1 = defineEvent({
  type: 'billing.session_tariff_selected',
  version: 1,
  topic: Topics.billingEvents,
  description:
    'at session.started: the tariff that will price the session (libs/billing selectTariff, as the CDR will), its max_price incl. VAT, and the billing account of the token; or why none applies (`code`)',
  schema: closed({
    sessionId: Type.String({ format: 'uuid' }),
    stationId: Type.String({ minLength: 1, maxLength: 255 }),
    /** the session's address as session.started gave it (the payment service stops a session through it) */
    protocol: Type.Union([Type.Literal('ocpp1.6'), Type.Literal('ocpp2.0.1')]),
    transactionId: Type.String({ minLength: 1, maxLength: 64 }),
    evseId: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    connectorId: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    tokenUid: Type.Union([Type.String({ maxLength: 255 }), Type.Null()]),
    startedAt: Instant,
    /**
     * the token's billing account (as cdr.created's): what the gateway's registry said when the station was answered
     * where the session carries it, else the tariff service's registry copy; null: none
     */
    billingAccountId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
    /**
     * true: `billingAccountId` is what the gateway's registry said of the known token when the station was answered
     * (a null is final: no copy of the registry may name another); absent: from the tariff service's copy. Added to
     * v1 (additive).
     */
    accountAsAnswered: Type.Optional(Type.Literal(true)),
    /** null: no tariff applies (`code` says why) */
    tariffId: Type.Union([Type.String({ minLength: 1, maxLength: 36 }), Type.Null()]),
    tariffVersion: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    currency: Type.Union([Currency, Type.Null()]),
    /** the tariff's OCPI max_price.incl_vat (as written in the tariff), null when the tariff has none */
    maxPriceInclVat: Type.Union([Decimal, Type.Null()]),
    /** null when a tariff applies, else the pricing failure code the CDR would get (NO_ASSIGNMENT, NO_VALID_TARIFF, …) */
    code: Type.Union([Code, Type.Null()]),
    /** the session.started event this was decided from */
    sourceEventId: Type.String({ minLength: 1, maxLength: 64 }),
  }),
  example: {
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    stationId: 'CP-001',
    protocol: 'ocpp1.6',
    transactionId: '42',
    evseId: null,
    connectorId: 1,
    tokenUid: 'ABC123',
    startedAt: '2026-03-01T10:00:00Z',
    billingAccountId: 'acct-1001',
    tariffId: 'T-STD',
    tariffVersion: 2,
    currency: 'EUR',
    maxPriceInclVat: '40.00',
    code: null,
    sourceEventId: '7c9e6679-7425-50de-944b-e07fc1f90ae7',
  },
});

export const SessionCostEstimatedV1 = defineEvent({
  type: 'billing.session_cost_estimated',
  version: 1,
  topic: Topics.billingEvents,
  description:
    'while charging: the cost so far of a running session, priced by the CDR engine (libs/billing buildCdr) from the session as of a session.updated; throttled by event time',
  schema: closed({
    sessionId: Type.String({ format: 'uuid' }),
    stationId: Type.String({ minLength: 1, maxLength: 255 }),
    billingAccountId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
    tariffId: Type.String({ minLength: 1, maxLength: 36 }),
    tariffVersion: Type.Integer({ minimum: 0 }),
    currency: Currency,
    /** the session.updated's time the session was priced up to */
    asOf: Instant,
    /** energy so far (Wh, as session.updated carried it) */
    energyWh: Decimal,
    /** what the CDR would say if the session ended at `asOf` with these readings: total_cost, rounded as the CDR */
    costExclVat: Decimal,
    costInclVat: Decimal,
    /** the tariff's OCPI max_price.incl_vat (the CDR never costs more), null: none */
    maxPriceInclVat: Type.Union([Decimal, Type.Null()]),
    /** the session.updated event this was priced from */
    sourceEventId: Type.String({ minLength: 1, maxLength: 64 }),
  }),
  example: {
    sessionId: '1b4e28ba-2fa1-51d2-883f-0016d3cca427',
    stationId: 'CP-001',
    billingAccountId: 'acct-1001',
    tariffId: 'T-STD',
    tariffVersion: 2,
    currency: 'EUR',
    asOf: '2026-03-01T10:15:00Z',
    energyWh: '5230.5',
    costExclVat: '2.08',
    costInclVat: '2.52',
    maxPriceInclVat: '40.00',
    sourceEventId: '9c9e6679-7425-50de-944b-e07fc1f90ae7',
  },
});

export type SessionTariffSelected = EventOf<typeof SessionTariffSelectedV1>;
export type SessionCostEstimated = EventOf<typeof SessionCostEstimatedV1>;
