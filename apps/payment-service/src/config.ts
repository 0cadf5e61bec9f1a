import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@csms/platform';

/** `EUR=50.00,USD=50.00,JPY=7000`: a hold per ISO 4217 currency, in major units as decimal strings. */
const HOLDS_PATTERN = '^[A-Z]{3}=[0-9]{1,12}(\\.[0-9]{1,3})?(,[A-Z]{3}=[0-9]{1,12}(\\.[0-9]{1,3})?)*$';

export const PaymentServiceConfigSchema = Type.Object({
  ...CommonConfig,
  DATABASE_URL: Type.String({
    default: 'postgres://postgres@127.0.0.1:5432/csms_payments',
    pattern: '^postgres(ql)?://',
  }),
  HTTP_PORT: Type.Integer({ default: 3004, minimum: 0, maximum: 65535 }),
  HTTP_HOST: Type.String({ default: '127.0.0.1' }),
  API_KEYS: Type.Optional(Type.String()),
  PAYMENT_CONSUMER_GROUP: Type.String({ default: 'payment-service', minLength: 1 }),
  /** topic names (overridable for tests and multi-tenant deployments) */
  BILLING_EVENTS_TOPIC: Type.String({ default: 'billing.events' }),
  SESSION_EVENTS_TOPIC: Type.String({ default: 'session.events' }),
  REGISTRY_TOKENS_TOPIC: Type.String({ default: 'registry.tokens' }),
  PAYMENT_EVENTS_TOPIC: Type.String({ default: 'payment.events' }),
  OCPP_COMMANDS_TOPIC: Type.String({ default: 'ocpp.commands' }),
  REGISTRY_ACCOUNTS_TOPIC: Type.String({ default: 'registry.accounts' }),
  /** the hold pre-authorised at session start, per currency (major units); a currency not listed: no card hold possible */
  PAYMENT_DEFAULT_HOLD: Type.String({
    default: 'EUR=50.00,USD=50.00,GBP=45.00,CHF=50.00,SEK=500.00,NOK=500.00,DKK=375.00,PLN=200.00,JPY=7000,KWD=15.000',
    pattern: HOLDS_PATTERN,
  }),
  /**
   * when a card session's hold is asked for: `tariff_selected` (default) when the tariff service names the session's
   * tariff (billing.session_tariff_selected: its max_price, else PAYMENT_DEFAULT_HOLD); `session_started` at
   * session.started with PAYMENT_DEFAULT_HOLD (for a deployment whose tariff service does not publish selections)
   */
  PAYMENT_HOLD_AT: Type.Union([Type.Literal('tariff_selected'), Type.Literal('session_started')], {
    default: 'tariff_selected',
  }),
  /**
   * monthly statements of invoice accounts: issued by the scheduler for the month before, from this day of the next
   * month (UTC; CDRs of the month arriving later go on the next statement); 0 turns the scheduler off
   */
  PAYMENT_STATEMENT_DAY: Type.Integer({ default: 1, minimum: 0, maximum: 28 }),
  /** how often the scheduler looks for statements due (ms) */
  PAYMENT_STATEMENT_SCAN_MS: Type.Integer({ default: 3_600_000, minimum: 100 }),
  /** the PSP: base URL of its API (the local emulator, or https://api.stripe.com), its secret key and webhook secret */
  PSP_API_URL: Type.String({ default: 'http://127.0.0.1:12111', pattern: '^https?://' }),
  /** unset: the service runs, and every PSP call waits (logged) until it is configured */
  PSP_API_KEY: Type.Optional(Type.String({ minLength: 8, pattern: '^(sk|rk)_(test|live)_' })),
  PSP_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 8 })),
  /** the PSP's webhooks are received on a port of their own (raw body, signature checked; no API key) */
  PAYMENT_WEBHOOK_PORT: Type.Integer({ default: 3006, minimum: 0, maximum: 65535 }),
  PAYMENT_WEBHOOK_HOST: Type.String({ default: '127.0.0.1' }),
  /**
   * the effect runner: every commit that records intents wakes it in this process; while idle it sleeps until the
   * next intent is due (a retry's back-off, a lapsed lease) or the next hold scan, at least PAYMENT_RUNNER_POLL_MS and
   * at most PAYMENT_RUNNER_IDLE_POLL_MS (intents another instance recorded); how many PSP calls at once, its back-off
   */
  PAYMENT_RUNNER_POLL_MS: Type.Integer({ default: 200, minimum: 10, maximum: 60_000 }),
  PAYMENT_RUNNER_IDLE_POLL_MS: Type.Integer({ default: 5000, minimum: 10, maximum: 600_000 }),
  /** the outbox relay's idle poll for this service alone (unset: OUTBOX_IDLE_POLL_MS, which every service reads) */
  PAYMENT_OUTBOX_IDLE_POLL_MS: Type.Optional(Type.Integer({ minimum: 10, maximum: 600_000 })),
  PAYMENT_RUNNER_CONCURRENCY: Type.Integer({ default: 16, minimum: 1, maximum: 256 }),
  /**
   * intents the runner claims per round and whose outcomes it records in one transaction (at least
   * PAYMENT_RUNNER_CONCURRENCY): each account's state is read and written once per round, however many of its
   * intents the round holds
   */
  PAYMENT_RUNNER_BATCH: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
  /** an intent claimed by a runner that died is claimed again (as an unknown outcome: retrieved first) after this */
  PAYMENT_RUNNER_LEASE_MS: Type.Integer({ default: 30_000, minimum: 1000 }),
  PAYMENT_RETRY_INITIAL_MS: Type.Integer({ default: 500, minimum: 1 }),
  PAYMENT_RETRY_MAX_MS: Type.Integer({ default: 60_000, minimum: 1 }),
  /** the hold-expiry scan: how often, and how long before a hold lapses it is captured for what is due */
  PAYMENT_HOLD_SCAN_MS: Type.Integer({ default: 60_000, minimum: 100 }),
  PAYMENT_HOLD_EXPIRY_MARGIN_S: Type.Integer({ default: 86_400, minimum: 0 }),
  /** a stop command sent after a declined hold is not delivered after this */
  PAYMENT_STOP_COMMAND_TTL_S: Type.Integer({ default: 300, minimum: 1, maximum: 86400 }),
  PAYMENT_CHUNK_SIZE: Type.Integer({ default: 100, minimum: 1, maximum: 10000 }),
  /** ad-hoc (QR) payment: where drivers reach the start pages (the QR codes and the PSP's return URL); unset: this service's own URL */
  PAYMENT_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 })),
  /** the tariff service's API, read for the tariff of an EVSE (an API key with the integration role); unset key: no ad-hoc payment */
  TARIFF_API_URL: Type.String({ default: 'http://127.0.0.1:3002', pattern: '^https?://' }),
  TARIFF_API_KEY: Type.Optional(Type.String({ minLength: 8 })),
  /** the paid hold is released when the station has not started a session this long after the remote start */
  PAYMENT_ADHOC_START_TIMEOUT_S: Type.Integer({ default: 180, minimum: 1, maximum: 86400 }),
  /** how often hosted payments are read back and unused holds looked for */
  PAYMENT_ADHOC_SCAN_MS: Type.Integer({ default: 5000, minimum: 50, maximum: 600_000 }),
  /** the OCPP version a station is started with before any session of it was seen (a `not_supported` answer switches) */
  PAYMENT_ADHOC_DEFAULT_PROTOCOL: Type.Union([Type.Literal('ocpp1.6'), Type.Literal('ocpp2.0.1')], {
    default: 'ocpp1.6',
  }),
  OCPP_COMMAND_RESULTS_TOPIC: Type.String({ default: 'ocpp.command_results' }),
});
export type PaymentServiceConfig = Static<typeof PaymentServiceConfigSchema>;

export function loadPaymentServiceConfig(env: NodeJS.ProcessEnv = process.env): PaymentServiceConfig {
  return loadConfig(PaymentServiceConfigSchema, env);
}

/** `PAYMENT_DEFAULT_HOLD` as a map currency -> decimal string in major units. */
export function defaultHolds(cfg: Pick<PaymentServiceConfig, 'PAYMENT_DEFAULT_HOLD'>): Map<string, string> {
  return new Map(
    cfg.PAYMENT_DEFAULT_HOLD.split(',').map((p) => {
      const [cur, amount] = p.split('=');
      return [cur, amount] as [string, string];
    }),
  );
}
