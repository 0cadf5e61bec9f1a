/**
 * Every topic the system uses, with its settings. Topics are created explicitly by the project
 * (libs/messaging ensureTopics), never by broker auto-create (docs/architecture.md, "Events").
 * Partition counts are configuration (`KAFKA_PARTITIONS`, per topic overridable); ordering is per key
 * and never depends on having one partition.
 */
export interface TopicSpec {
  name: string;
  description: string;
  /** the record key that keeps order */
  key: string;
  /** -1 = keep forever (source-of-truth topics) */
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact';
}

const DAY = 24 * 60 * 60 * 1000;
export const FOREVER = -1;

export const Topics = {
  ocppInbound: 'ocpp.inbound',
  ocppCommands: 'ocpp.commands',
  ocppCommandResults: 'ocpp.command_results',
  registryStations: 'registry.stations',
  registryTokens: 'registry.tokens',
  registryAccounts: 'registry.accounts',
  sessionEvents: 'session.events',
  tariffEvents: 'tariff.events',
  billingEvents: 'billing.events',
  paymentEvents: 'payment.events',
  monitoringEvents: 'monitoring.events',
  financeEvents: 'finance.events',
  ocpiEvents: 'ocpi.events',
} as const;
export type TopicName = (typeof Topics)[keyof typeof Topics];

export const TOPIC_SPECS: readonly TopicSpec[] = [
  {
    name: Topics.ocppInbound,
    key: 'station id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: 'every inbound OCPP message, verbatim, with metadata: the source of truth',
  },
  {
    name: Topics.ocppCommands,
    key: 'station id',
    retentionMs: 7 * DAY,
    cleanupPolicy: 'delete',
    description: 'CSMS-initiated calls to send to stations',
  },
  {
    name: Topics.ocppCommandResults,
    key: 'station id',
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    description: 'results of CSMS-initiated calls',
  },
  {
    name: Topics.registryStations,
    key: 'station id',
    retentionMs: FOREVER,
    cleanupPolicy: 'compact',
    description: 'station registry, latest state per station',
  },
  {
    name: Topics.registryTokens,
    key: 'token uid',
    retentionMs: FOREVER,
    cleanupPolicy: 'compact',
    description: 'id token registry, latest state per token',
  },
  {
    name: Topics.registryAccounts,
    key: 'billing account id',
    retentionMs: FOREVER,
    cleanupPolicy: 'compact',
    description: 'whether each billing account can pay (written by the payment service, read by the gateway)',
  },
  {
    name: Topics.sessionEvents,
    key: 'session id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: 'charging sessions: started, updated, ended',
  },
  {
    name: Topics.tariffEvents,
    key: 'tariff id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: 'tariff catalogue changes: the source of truth for prices',
  },
  {
    name: Topics.billingEvents,
    key: 'session id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: 'priced CDRs and pricing failures',
  },
  {
    name: Topics.paymentEvents,
    key: 'account id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: 'ledger and payment provider events',
  },
  {
    name: Topics.monitoringEvents,
    key: 'station id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: 'operator decisions on station monitoring: alarm acknowledgements, planned maintenance',
  },
  {
    name: Topics.financeEvents,
    key: 'period (YYYY-MM); reconciliation break id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: 'finance decisions: reporting periods closed, reconciliation breaks detected and resolved',
  },
  {
    name: Topics.ocpiEvents,
    key: 'OCPI party registration id',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description:
      'OCPI party registrations: opened (token A), registered, credentials updated, unregistered (token hashes only)',
  },
];

/** The dead-letter topic of a consumer group: parked records with their error (libs/messaging). */
export function deadLetterTopic(consumerGroup: string): string {
  return `dlq.${consumerGroup}`;
}

export function deadLetterSpec(consumerGroup: string): TopicSpec {
  return {
    name: deadLetterTopic(consumerGroup),
    key: 'original record key',
    retentionMs: FOREVER,
    cleanupPolicy: 'delete',
    description: `records parked by consumer group ${consumerGroup}, verbatim, with the error in headers`,
  };
}
