import { Type, type Static } from '@sinclair/typebox';
import { deadLetterTopic } from '@csms/contracts';
import { CommonConfig, InboundInboxConfig, loadConfig } from '@csms/platform';

export const ReportingServiceConfigSchema = Type.Object({
  ...CommonConfig,
  ...InboundInboxConfig,
  DATABASE_URL: Type.String({
    default: 'postgres://postgres@127.0.0.1:5432/csms_reporting',
    pattern: '^postgres(ql)?://',
  }),
  HTTP_PORT: Type.Integer({ default: 3003, minimum: 0, maximum: 65535 }),
  HTTP_HOST: Type.String({ default: '127.0.0.1' }),
  API_KEYS: Type.Optional(Type.String()),
  REPORTING_CONSUMER_GROUP: Type.String({ default: 'reporting-service', minLength: 1 }),
  /**
   * most records of the monitoring (ocpp.inbound) and completeness (session and billing events) groups applied in one
   * transaction when there is a backlog: a chunk reads and writes each station's view once, however many of its
   * records it holds
   */
  REPORTING_CHUNK_SIZE: Type.Integer({ default: 1000, minimum: 1, maximum: 10000 }),
  OCPP_INBOUND_TOPIC: Type.String({ default: 'ocpp.inbound' }),
  MONITORING_EVENTS_TOPIC: Type.String({ default: 'monitoring.events' }),
  /** billing completeness: the sessions ended, their CDRs and pricing failures, and the tariff service's dead letters */
  SESSION_EVENTS_TOPIC: Type.String({ default: 'session.events' }),
  BILLING_EVENTS_TOPIC: Type.String({ default: 'billing.events' }),
  /** the tariff service's consumer group prefix: its pricing dead letters are on `dlq.<TARIFF_CONSUMER_GROUP>.pricing` */
  TARIFF_CONSUMER_GROUP: Type.String({ default: 'tariff-service', minLength: 1 }),
  /** a session ended less than this long before the newest event seen (event time), still without an outcome, is pending, not missing */
  COMPLETENESS_GRACE_SECONDS: Type.Integer({ default: 300, minimum: 0 }),
  /** finance: period closes (written and read here) and the registry's stations (site and time zone of uptime and utilisation) */
  FINANCE_EVENTS_TOPIC: Type.String({ default: 'finance.events' }),
  REGISTRY_STATIONS_TOPIC: Type.String({ default: 'registry.stations' }),
  /**
   * OCPI 2.2.1 CDRs sender interface: the parties that may pull CDRs, a comma-separated list of `name:sha256hex`
   * (the SHA-256 of the credentials token the party sends, base64-encoded, as `Authorization: Token <base64>`).
   * Unset: every OCPI request is refused (401).
   */
  OCPI_TOKENS: Type.Optional(Type.String()),
  /** payments report and reconciliation: the payment service's events (captures, refunds, ledger, settlement lines) */
  PAYMENT_EVENTS_TOPIC: Type.String({ default: 'payment.events' }),
  /** reconciliation: a PSP charge not paid out this many days (event time) after it was booked is a break */
  RECONCILIATION_UNSETTLED_DAYS: Type.Integer({ default: 3, minimum: 0, maximum: 365 }),
  /** reconciliation: what ended, was priced or captured less than this before the run's time is not a break yet */
  RECONCILIATION_GRACE_SECONDS: Type.Integer({ default: 3600, minimum: 0 }),
  /**
   * reconciliation: seconds between scheduled runs (0: none, runs on demand only). Every instance has the timer;
   * the run lock makes one run at a time across instances (the others skip that turn). Five minutes: a run reads only
   * what changed since the last one (nothing: no rows), so a doubled or wrong capture, or a late fact that heals a
   * break, shows within minutes rather than within the hour.
   */
  RECONCILIATION_INTERVAL_S: Type.Integer({ default: 300, minimum: 0, maximum: 86_400 }),
  /** the largest page of GET /ocpi/2.2.1/cdrs (OCPI: the server's own maximum, announced in X-Limit) */
  OCPI_MAX_LIMIT: Type.Integer({ default: 1000, minimum: 1, maximum: 10000 }),
  /** OCPI party registrations (opened, registered, credentials updated, unregistered): written and folded here */
  OCPI_EVENTS_TOPIC: Type.String({ default: 'ocpi.events' }),
  /**
   * The public base URL of this CPO's OCPI interface (e.g. `https://cpo.example.com`, no trailing slash): our versions
   * URL and endpoints are under it. Unset: the request's own scheme and host.
   */
  OCPI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*[^/?#\\s])?$', maxLength: 200 })),
  /** our CredentialsRole in the credentials module (role CPO): OCPI country code and party id, business name */
  CPO_COUNTRY_CODE: Type.String({ default: 'NL', pattern: '^[A-Z]{2}$' }),
  CPO_PARTY_ID: Type.String({ default: 'CSM', pattern: '^[A-Z0-9]{3}$' }),
  CPO_BUSINESS_NAME: Type.String({ default: 'CSMS', minLength: 1, maxLength: 100 }),
  /** how long the credentials handshake waits for each of a party's answers (its versions, its version details) */
  OCPI_PARTY_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 60000 }),
  /**
   * Where the credentials handshake may call a party although the address is not public: a comma-separated list of
   * host names (`localhost`, `emsp.internal`), IP addresses (`127.0.0.1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
   * Unset: a party's URL whose host is, or resolves to, a loopback, private, link-local, shared, multicast,
   * documentation or reserved address is refused (libs/ocpi `partyUrlRefusal`, `partyAddressRefusal`).
   */
  OCPI_PARTY_URL_ALLOW: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type ReportingServiceConfig = Static<typeof ReportingServiceConfigSchema>;

export function loadReportingServiceConfig(env: NodeJS.ProcessEnv = process.env): ReportingServiceConfig {
  return loadConfig(ReportingServiceConfigSchema, env);
}

/** The tariff service's pricing dead-letter topic (records are the original session.ended, verbatim). */
export const tariffPricingDeadLetters = (cfg: ReportingServiceConfig) =>
  deadLetterTopic(`${cfg.TARIFF_CONSUMER_GROUP}.pricing`);

/** The reporting service's consumer groups and the topics each folds (the rebuild moves them all back to offset zero). */
export function reportingGroups(cfg: ReportingServiceConfig): Array<{ groupId: string; topics: string[] }> {
  const g = cfg.REPORTING_CONSUMER_GROUP;
  return [
    { groupId: `${g}.monitoring`, topics: [cfg.OCPP_INBOUND_TOPIC, cfg.MONITORING_EVENTS_TOPIC] },
    // billing completeness and finance (revenue: the CDRs, the period closes that cut them, the stations' sites and
    // time zones): one group, so one more consumer does not join, fetch and commit beside it on the same topic
    {
      groupId: `${g}.billing`,
      topics: [
        cfg.SESSION_EVENTS_TOPIC,
        cfg.BILLING_EVENTS_TOPIC,
        cfg.FINANCE_EVENTS_TOPIC,
        cfg.REGISTRY_STATIONS_TOPIC,
      ],
    },
    // a group of its own: the dead letters carry the event ids already read from session.events (the inbox would drop them)
    { groupId: `${g}.billing-dead-letters`, topics: [tariffPricingDeadLetters(cfg)] },
    // payment.events: the payments report and the reconciliation's PSP and ledger facts (a topic of another service,
    // read at its own pace)
    { groupId: `${g}.payments`, topics: [cfg.PAYMENT_EVENTS_TOPIC] },
    // ocpi.events: the OCPI parties and their token hashes (a rebuild restores who may call)
    { groupId: `${g}.ocpi`, topics: [cfg.OCPI_EVENTS_TOPIC] },
  ];
}
