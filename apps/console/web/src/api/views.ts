/**
 * What the services answer. Their OpenAPI documents describe paths, parameters and request bodies (the
 * generated types in ./generated), but no response bodies yet, so the answers are typed here, by hand, from the
 * services' READMEs and their answers. Only the fields the console reads are listed.
 */

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export interface ActorRef {
  keyName: string;
  role: string | null;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  field?: string;
  requestId?: string;
  limit?: number;
}

// reporting: station monitoring
export interface MonitoredConnector {
  connectorId: number;
  evseId?: number;
  status: string;
  errorCode?: string | null;
  since?: string;
}
export interface MonitoredStation {
  stationId: string;
  online: boolean;
  lastMessageAt: string | null;
  protocol?: string | null;
  vendor?: string | null;
  model?: string | null;
  firmwareVersion?: string | null;
  firmware?: { status?: string; at?: string; [k: string]: unknown } | null;
  diagnostics?: { status?: string; at?: string; [k: string]: unknown } | null;
  connectedAt?: string | null;
  disconnectedAt?: string | null;
  disconnectReason?: string | null;
  connectors: MonitoredConnector[];
  openAlarms: number;
  alarms?: Alarm[];
}
export interface Alarm {
  alarmId: string;
  stationId: string;
  kind: string;
  status: 'open' | 'closed';
  code: string;
  detail: string;
  connectorId?: number;
  evseId?: number;
  openedAt: string;
  closedAt?: string | null;
  closedBy?: string | null;
  acknowledgedBy?: ActorRef | null;
}

// reporting: billing completeness
export interface CompletenessCounts {
  sessionsEnded: number;
  cdrs: number;
  creditCdrs: number;
  pricingFailures: number;
  deadLetters: number;
  missing: number;
  pending: number;
  multipleOutcomes: number;
  outcomesWithoutSession: number;
}
export interface Completeness {
  from: string | null;
  to: string | null;
  graceSeconds: number;
  newestEventAt: string | null;
  complete: boolean;
  totals: CompletenessCounts;
  days: Array<CompletenessCounts & { day: string; currency: string | null }>;
  missingSessions: Array<{ sessionId: string; stationId?: string; endedAt?: string }>;
}

// gateway: registry and commands
export interface RegisteredStation {
  stationId: string;
  securityProfile: number;
  siteId?: string | null;
  timeZone?: string | null;
  location?: { name?: string; address?: string; city?: string } | null;
  evses?: Array<{ evseId: number; connectors: Array<{ connectorId: number; standard?: string; power_type?: string }> }>;
  enabled: boolean;
}
export type CommandStatus = 'pending' | 'dispatched' | 'accepted' | 'rejected' | 'failed' | 'expired' | string;
export interface Command {
  commandId: string;
  stationId: string;
  action: string;
  payload: unknown;
  requestedAt: string;
  expiresAt: string;
  requestedBy: ActorRef | null;
  status: CommandStatus;
  result: {
    status: string;
    response?: unknown;
    errorCode?: string | null;
    detail?: string | null;
  } | null;
  completedAt: string | null;
  dispatchedAt: string | null;
}

// sessions
export interface SessionView {
  sessionId: string;
  stationId: string;
  transactionId: string;
  protocol: string;
  evseId?: number;
  connectorId?: number;
  idToken?: string | null;
  status: 'active' | 'incomplete' | 'ended' | string;
  startedAt: string;
  endedAt?: string | null;
  energyWh: string;
  revision: number;
  needsReview: boolean;
  latest?: { flags?: string[]; chargingState?: string };
  ended?: { dataQuality?: { flags: string[]; estimated: boolean; needsReview: boolean } };
}
export interface SourceRecord {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
}
export interface Reading {
  eventId: string;
  at: string;
  receivedAt: string;
  source: SourceRecord;
  samples: Array<{
    measurand?: string;
    value: string;
    unit?: string;
    context?: string;
    phase?: string;
    location?: string;
    raw?: unknown;
  }>;
}

// tariffs and CDRs
export interface Price {
  excl_vat: string;
  incl_vat?: string | null;
}
export interface OcpiTariff {
  id: string;
  currency: string;
  country_code?: string;
  party_id?: string;
  type?: string;
  elements: Array<{
    price_components: Array<{ type: string; price: number; vat?: number; step_size: number }>;
    restrictions?: Record<string, unknown>;
  }>;
  [k: string]: unknown;
}
export interface TariffVersion {
  tariffId: string;
  version: number;
  effectiveFrom: string;
  publishedAt: string;
  contentHash: string;
  tariff: OcpiTariff;
  publishedBy?: ActorRef | null;
}
export interface Assignment {
  assignmentId: string;
  tariffId: string;
  scope: { kind: string; [k: string]: unknown };
  effectiveFrom: string;
  setAt: string;
  sequence: number;
  removed: boolean;
  setBy?: ActorRef | null;
}
export interface ChargingPeriod {
  start_date_time: string;
  tariff_id?: string;
  dimensions: Array<{ type: string; volume: string }>;
}
export interface BreakdownLine {
  category: string;
  dimension: string;
  unit: string;
  note: string;
  periods: number[];
  element_index: number | null;
  component_index: number | null;
  quantity: string;
  billed_quantity: string;
  unit_price: string | null;
  vat: string | null;
  step_size: number | null;
  amount_excl_vat: string;
  amount_incl_vat: string | null;
}
export interface AuditPeriod {
  period_index: number;
  start_date_time: string;
  local_time: string;
  day_of_week: string;
  duration_seconds: string;
  energy_before_kwh: string;
  elements: Record<string, number | null>;
}
export interface CdrAudit {
  tariffId: string;
  tariffVersion: number;
  tariffContentHash: string;
  timeZone: string;
  timeZoneSource: string;
  sessionId: string;
  sessionRevision: number;
  stationId: string;
  engineVersion: string;
  contentHash: string;
  assignment?: { level: string; scope: Record<string, unknown>; assignmentId: string; effectiveFrom: string } | null;
  sourceEvent?: { topic: string; partition: number; offset: string; eventId: string };
  dataQuality?: { flags: string[]; estimated?: boolean; needsReview?: boolean };
  inboundRecords?: Array<{
    topic: string;
    partition: number;
    firstOffset: string;
    lastOffset: string;
    count: number;
    sha256: string;
  }>;
  pricing: {
    audit: {
      rounding: string;
      minor_units: number;
      warnings: string[];
      time_zone: string;
      unrounded: Record<string, unknown> & { total_cost: Price };
    };
    breakdown: { lines: BreakdownLine[]; periods: AuditPeriod[] };
  };
}
export interface Cdr {
  id: string;
  session_id: string;
  start_date_time: string;
  end_date_time: string;
  currency: string;
  remark?: string;
  total_energy: string;
  total_time: string;
  total_parking_time?: string;
  total_cost: Price;
  total_energy_cost?: Price;
  total_time_cost?: Price;
  total_fixed_cost?: Price;
  total_parking_cost?: Price;
  cdr_token: { uid: string; contract_id?: string; type?: string };
  cdr_location: { id?: string; name?: string; evse_uid: string; connector_id?: string; connector_standard?: string };
  charging_periods: ChargingPeriod[];
  tariffs?: OcpiTariff[];
  credit?: boolean;
  last_updated: string;
  audit?: CdrAudit;
}
export interface WhatIfResult {
  currency: string | null;
  sessions: number;
  items: Array<{ sessionId: string; billed: Price; draft: Price; difference: Price }>;
  totals: { billed: Price; draft: Price; difference: Price };
}

// sessions: the raw frames (GET /sessions/{id}/frames)
export interface RawFrame extends SourceRecord {
  /** found: the record at that offset is the one the session used; mismatch: another record; unavailable: not in the log; unread: ask again */
  status: 'found' | 'mismatch' | 'unavailable' | 'unread';
  recordId: string | null;
  timestamp: string | null;
  bytes: number | null;
  message: {
    stationId?: string;
    protocol?: string;
    kind?: string;
    messageId?: string;
    action?: string;
    receivedAt?: string;
    connectionId?: string;
    [k: string]: unknown;
  } | null;
  /** the OCPP-J array of the frame received, and of the answer the gateway sent */
  frame: unknown;
  answer: unknown;
}

// reporting: finance reports
export interface RevenueRow {
  period: string;
  day: string | null;
  currency: string;
  site_id: string | null;
  station_id: string | null;
  evse_uid: string | null;
  tariff_id: string | null;
  tariff_version: number | null;
  account_id: string | null;
  cdrs: number | string;
  sessions: number | string;
  energy_kwh: string;
  charging_hours: string;
  parking_hours: string;
  net: string;
  vat: string;
  gross: string;
}
export interface RevenueReport {
  from: string;
  to: string;
  granularity: 'day' | 'month';
  groupBy: string[];
  currency: string | null;
  closedPeriods: string[];
  rows: RevenueRow[];
  totals: Array<{
    currency: string;
    cdrs: number | string;
    sessions: number | string;
    net: string;
    vat: string;
    gross: string;
    energy_kwh: string;
  }>;
}

// payments
export type PaymentMethod =
  | { kind: 'card'; customerRef: string; paymentMethodRef: string }
  | { kind: 'wallet' }
  | { kind: 'invoice'; creditLimitMinor: string };
export interface BillingAccount {
  accountId: string;
  currency: string;
  method: PaymentMethod;
  policy: { onHoldNearlyUsed: string; onShortfall: string } | null;
  status: 'active' | 'blocked' | string;
  statusReason: string | null;
  openedAt: string;
  updatedAt: string;
  openedBy: string | null;
}
export interface LedgerBalance {
  account: string;
  chart: string;
  currency: string;
  billingAccountId: string | null;
  postedMinor: string;
  pendingMinor: string;
  debitsPostedMinor: string;
  creditsPostedMinor: string;
}
export interface AccountBalances {
  accountId: string;
  currency: string;
  status: string;
  balances: LedgerBalance[];
}
export interface Statement {
  statementId: string;
  accountId: string;
  month: string;
  currency: string;
  issuedAt: string;
  lines: Array<{ cdrId?: string; amountMinor?: string; [k: string]: unknown }> | unknown;
  total: string;
  totalMinor: string;
}
export interface LedgerTransfer {
  transferId: string;
  currency: string;
  state: 'pending' | 'posted' | 'voided' | string;
  initialState: 'pending' | 'posted' | string;
  pendingId: string | null;
  reason: string;
  accountId: string | null;
  sessionId: string | null;
  sourceEventId: string;
  eventId: string;
  at: string;
  postings: Array<{ account: string; amountMinor: string }>;
}
export interface SessionJournal {
  sessionId: string;
  transfers: LedgerTransfer[];
  posted: Array<{ account: string; amountMinor: string }>;
  balanced: boolean;
}
export interface PaymentRecord {
  sessionId: string;
  accountId: string | null;
  currency: string | null;
  status: string;
  hold: {
    holdId: string;
    paymentRef: string | null;
    requestedMinor: string;
    authorizedMinor: string | null;
    expiresAt: string | null;
    status: string;
  } | null;
  cdrs: Array<{
    cdrId: string;
    credit: boolean;
    totalInclVat: string;
    totalInclVatMinor: string;
    method: string;
    at: string;
  }>;
  captures: Array<{ intentId: string; cdrId: string; amount: string; amountMinor: string; at: string }>;
  releases: Array<{ intentId: string; amountMinor: string; at: string }>;
  refunds: Array<{ intentId: string; cdrId: string; amount: string; amountMinor: string; at: string }>;
  walletDebits: Array<{ cdrId: string; amount: string; amountMinor: string; at: string }>;
  walletCredits: Array<{ cdrId: string; amount: string; amountMinor: string; at: string }>;
  receivables: Array<{ receivableId: string; cdrId: string; amountMinor: string; reason: string; at: string }>;
  failures: Array<{ type: string; code?: string; message?: string; operation?: string; at: string }>;
  stopRequested: { reason: string; at: string } | null;
  capturedMinor: string;
  refundedMinor: string;
}
export interface UnbilledCdr {
  cdrId: string;
  sessionId: string;
  billingAccountId: string | null;
  reason: string;
  currency: string;
  totalInclVat: string;
  credit: boolean;
  recordedAt: string;
}

/** reporting: GET /reconciliation/breaks (items), POST /reconciliation/breaks/{breakId}/resolve */
export interface ReconciliationBreak {
  breakId: string;
  reason: string;
  /** resolved: by a person; cleared: a later run no longer found it */
  status: 'open' | 'resolved' | 'cleared';
  sessionId: string | null;
  cdrId: string | null;
  paymentRef: string | null;
  currency: string | null;
  expected: string | null;
  actual: string | null;
  detail: string;
  runId: string;
  detectedAt: string;
  detectedBy: string;
  resolution: { resolvedAt: string; resolvedBy: string | null; role: string | null; note: string | null } | null;
  /** the run that no longer found it (its as-of time) */
  clearance: { clearedAt: string; runId: string; clearedBy: string } | null;
}

/** reporting: POST /reconciliation/runs */
export interface ReconciliationRun {
  runId: string | null;
  asOf: string | null;
  breaks: number;
  newBreaks: number;
  items: Array<{ breakId: string; reason: string; new: boolean }>;
}
