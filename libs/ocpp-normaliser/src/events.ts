/**
 * The version-independent vocabulary of charger events. One OCPP message gives zero or more of these,
 * in a deterministic order, each with a name-based id derived from the source record.
 */
import type { SourceIdentity, StationAsAnswered, TokenRegistryFacts } from './inbound-record';

export type OcppProtocol = 'ocpp1.6' | 'ocpp2.0.1';

/** Every measurand of OCPP 1.6 and 2.0.1 (1.6 adds Temperature and RPM; 2.0.1 adds the Net and Apparent energies). */
export const MEASURANDS = [
  'Current.Export',
  'Current.Import',
  'Current.Offered',
  'Energy.Active.Export.Register',
  'Energy.Active.Import.Register',
  'Energy.Reactive.Export.Register',
  'Energy.Reactive.Import.Register',
  'Energy.Active.Export.Interval',
  'Energy.Active.Import.Interval',
  'Energy.Active.Net',
  'Energy.Reactive.Export.Interval',
  'Energy.Reactive.Import.Interval',
  'Energy.Reactive.Net',
  'Energy.Apparent.Net',
  'Energy.Apparent.Import',
  'Energy.Apparent.Export',
  'Frequency',
  'Power.Active.Export',
  'Power.Active.Import',
  'Power.Factor',
  'Power.Offered',
  'Power.Reactive.Export',
  'Power.Reactive.Import',
  'SoC',
  'Voltage',
  'Temperature',
  'RPM',
] as const;
export type Measurand = (typeof MEASURANDS)[number];

export const PHASES = ['L1', 'L2', 'L3', 'N', 'L1-N', 'L2-N', 'L3-N', 'L1-L2', 'L2-L3', 'L3-L1'] as const;
export type Phase = (typeof PHASES)[number];

export const LOCATIONS = ['Body', 'Cable', 'EV', 'Inlet', 'Outlet'] as const;
export type SampleLocation = (typeof LOCATIONS)[number];

export const READING_CONTEXTS = [
  'Interruption.Begin',
  'Interruption.End',
  'Other',
  'Sample.Clock',
  'Sample.Periodic',
  'Transaction.Begin',
  'Transaction.End',
  'Trigger',
] as const;
export type ReadingContext = (typeof READING_CONTEXTS)[number];

export const CHARGING_STATES = ['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle'] as const;
/** OCPP 2.0.1 ChargingStateEnumType; for 1.6 derived from the connector status (see README). */
export type ChargingState = (typeof CHARGING_STATES)[number];

/** Union of the 1.6 ChargePointStatus and the 2.0.1 ConnectorStatusEnumType. */
export type ConnectorStatus =
  | 'Available'
  | 'Preparing'
  | 'Charging'
  | 'SuspendedEVSE'
  | 'SuspendedEV'
  | 'Finishing'
  | 'Reserved'
  | 'Unavailable'
  | 'Faulted'
  | 'Occupied';

/** A signed reading, carried through untouched (the signature covers the exact bytes). */
export type SignedMeterValue =
  | { format: 'ocpp1.6-SignedData'; data: string }
  | {
      format: 'ocpp2.0.1-signedMeterValue';
      signedMeterData: string;
      signingMethod: string;
      encodingMethod: string;
      publicKey: string;
    };

/**
 * One sampled value, normalised: the value is a decimal string in the canonical unit (Wh, varh, VAh, W,
 * var, VA, A, V, Hz, Celsius, ...) after applying the 1.6 unit or the 2.0.1 unitOfMeasure (unit and
 * 10^multiplier). Defaults of the specs are made explicit (context Sample.Periodic, measurand
 * Energy.Active.Import.Register, location Outlet). A 1.6 SignedData value has no numeric value.
 */
export interface NormalisedSample {
  measurand: Measurand;
  /** decimal string in `unit`; absent only for a signed value whose reading is inside the signed data */
  value?: string;
  unit: string;
  phase?: Phase;
  location: SampleLocation;
  context: ReadingContext;
  signed?: SignedMeterValue;
  /** the unit given does not fit the measurand (e.g. Energy in A); the value is kept but not usable as energy */
  unitMismatch?: true;
  /** what the station sent, verbatim */
  raw: { value: string | number; unit?: string; multiplier?: number };
}

export interface IdToken {
  idToken: string;
  /** 2.0.1 IdTokenEnumType; 1.6 idTags are reported as `ocpp1.6-idTag` */
  type: string;
  /** what the gateway's registry said of the token when it answered this message (absent: not recorded) */
  registry?: TokenRegistryFacts;
}

/** 2.0.1 TransactionEvent sequencing and metadata, carried on every event made from a TransactionEvent. */
export interface TransactionEventInfo {
  eventType: 'Started' | 'Updated' | 'Ended';
  seqNo: number;
  triggerReason: string;
  offline: boolean;
  numberOfPhasesUsed?: number;
  timeSpentChargingSeconds?: number;
}

/** Provenance of a charger event: the inbound record and the message inside it. */
export interface ChargerEventSource extends SourceIdentity {
  messageId?: string;
  action?: string;
  connectionId: string;
  gatewayInstance: string;
}

export type EventQualityFlag = 'TIMESTAMP_WITHOUT_OFFSET';

interface Base<T extends string> {
  type: T;
  /** UUID v5 of (source eventId, index of this event within the record) */
  eventId: string;
  stationId: string;
  protocol: OcppProtocol;
  /** station time of the fact, UTC; the gateway receive time when the message carries no timestamp */
  occurredAt: string;
  /** true when occurredAt is the gateway receive time (the message had no timestamp) */
  occurredAtIsReceiveTime?: true;
  /**
   * station time the whole message was stamped with, present only where it differs from occurredAt (a sample
   * inside a message: 1.6 StopTransaction.transactionData, 2.0.1 TransactionEvent meterValue; MeterValues has
   * no timestamp of its own, so its newest sample stands for it). Delivery delay is judged by this, never by
   * the age of a sample.
   */
  messageAt?: string;
  receivedAt: string;
  source: ChargerEventSource;
  flags?: EventQualityFlag[];
}

export type StationConnected = Base<'station.connected'>;
export interface StationDisconnected extends Base<'station.disconnected'> {
  reason?: string;
}

export interface StationBooted extends Base<'station.booted'> {
  vendor: string;
  model: string;
  serialNumber?: string;
  firmwareVersion?: string;
  /** 2.0.1 BootReasonEnumType */
  bootReason?: string;
  /** the gateway's answer: Accepted, Pending, Rejected */
  registrationStatus?: string;
  heartbeatIntervalSeconds?: number;
  /** the remaining identification fields (iccid, imsi, meterType, meterSerialNumber, modem...) */
  details: Record<string, string>;
}

export interface ConnectorStatusChanged extends Base<'connector.status.changed'> {
  /** 2.0.1 EVSE id; absent for 1.6 */
  evseId?: number;
  /** 1.6 connectorId (0 = the whole charge point) or 2.0.1 connectorId within the EVSE */
  connectorId: number;
  status: ConnectorStatus;
  /** 1.6 only: the charging state the status implies (see README, "charging state in 1.6") */
  chargingState?: ChargingState;
  errorCode?: string;
  info?: string;
  vendorId?: string;
  vendorErrorCode?: string;
}

interface TransactionBase<T extends string> extends Base<T> {
  /** 1.6 integer ids are rendered as decimal strings */
  transactionId: string;
  evseId?: number;
  connectorId?: number;
  /** present when the event comes from a 2.0.1 TransactionEvent */
  tx?: TransactionEventInfo;
}

export interface TransactionStarted extends TransactionBase<'transaction.started'> {
  idToken?: IdToken;
  /** what the gateway's registry said of the station when it answered the start (absent: not recorded) */
  station?: StationAsAnswered;
  /** register at start in Wh (1.6 meterStart; 2.0.1 Transaction.Begin Energy.Active.Import.Register) */
  meterStartWh?: string;
  reservationId?: number;
  remoteStartId?: number;
  chargingState?: ChargingState;
  /** 1.6: the idTagInfo.status the gateway answered */
  authorizationStatus?: string;
}

/** A 2.0.1 TransactionEvent(Updated) carrying neither meter values nor a charging state (keeps seqNo accounting whole). */
export interface TransactionUpdated extends TransactionBase<'transaction.updated'> {
  idToken?: IdToken;
}

export interface MeterSampled extends Base<'meter.sampled'> {
  transactionId?: string;
  evseId?: number;
  connectorId?: number;
  samples: NormalisedSample[];
  tx?: TransactionEventInfo;
}

export interface ChargingStateChanged extends TransactionBase<'charging.state.changed'> {
  chargingState: ChargingState;
}

export interface TransactionEnded extends TransactionBase<'transaction.ended'> {
  /** register at stop in Wh (1.6 meterStop; 2.0.1 Transaction.End Energy.Active.Import.Register) */
  meterStopWh?: string;
  stoppedReason?: string;
  idToken?: IdToken;
}

export interface FaultReported extends Base<'fault.reported'> {
  evseId?: number;
  connectorId?: number;
  /** status: a StatusNotification error; monitoring: a 2.0.1 NotifyEvent alert */
  origin: 'status' | 'monitoring';
  errorCode?: string;
  info?: string;
  vendorId?: string;
  vendorErrorCode?: string;
  component?: string;
  variable?: string;
  trigger?: string;
  actualValue?: string;
  techCode?: string;
  techInfo?: string;
  cleared?: boolean;
}

export interface FirmwareStatusReported extends Base<'firmware.status.reported'> {
  status: string;
  requestId?: number;
  /** FirmwareStatusNotification, SignedFirmwareStatusNotification or PublishFirmwareStatusNotification */
  origin: string;
}

export interface DiagnosticsStatusReported extends Base<'diagnostics.status.reported'> {
  /** 1.6 DiagnosticsStatusNotification is `diagnostics`; LogStatusNotification is `log` */
  kind: 'diagnostics' | 'log';
  status: string;
  requestId?: number;
}

export interface SecurityEventReported extends Base<'security.event.reported'> {
  securityEventType: string;
  techInfo?: string;
}

export type ChargerEvent =
  | StationConnected
  | StationDisconnected
  | StationBooted
  | ConnectorStatusChanged
  | TransactionStarted
  | TransactionUpdated
  | MeterSampled
  | ChargingStateChanged
  | TransactionEnded
  | FaultReported
  | FirmwareStatusReported
  | DiagnosticsStatusReported
  | SecurityEventReported;

export type ChargerEventType = ChargerEvent['type'];
