/**
 * Signed meter values (OCMF, as Eichrecht meters send them): each station's meter has an ECDSA key pair made
 * when the simulation starts (secp256r1 by default); it signs the transaction's begin and end readings. The
 * records go out as OCPP 1.6 SignedData sampled values (in StopTransaction.transactionData, as many stations
 * send them) and as OCPP 2.0.1 signedMeterValue (with the TransactionEvent Started and Ended). A station can
 * tamper on request: the end reading is raised by 1 kWh after it was signed (the signature no longer verifies,
 * the signed energy no longer matches the bill).
 */
import { meterKeyPair, signOcmf, type OcmfCurve } from '@csms/ocmf';
import type { KeyObject } from 'node:crypto';
import type { V16SampledValue, V201 } from '@csms/ocpp';

export interface SigningOptions {
  /** the meters' curve (default secp256r1) */
  curve?: OcmfCurve;
  /** which sessions get a tampered end reading (default none) */
  tamper?: (stationId: string, connectorId: number, sessionNo: number) => boolean;
}

export interface ReadingToSign {
  tx: 'B' | 'E';
  registerWh: number;
  /** station time, RFC 3339 UTC */
  at: string;
  idTag: string;
  connectorId: number;
  tamper: boolean;
}

/** `2026-03-01T10:00:00.000Z` → OCMF time `2026-03-01T10:00:00,000+0000 S` (S: synchronised). */
export function ocmfTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,3}))?/.exec(iso);
  if (!m) throw new RangeError(`not a station time: ${iso}`);
  return `${m[1]},${(m[2] ?? '').padEnd(3, '0')}+0000 S`;
}

/** Integer Wh as kWh with three decimals, exactly (no floating point): 1234 → "1.234". */
export function kwhText(wh: number): string {
  return `${Math.floor(wh / 1000)}.${String(wh % 1000).padStart(3, '0')}`;
}

export class MeterSigner {
  readonly publicKeyHex: string;
  readonly meterSerial: string;
  private readonly privateKey: KeyObject;
  private pagination = 0;

  constructor(
    readonly stationId: string,
    readonly options: SigningOptions = {},
  ) {
    const keys = meterKeyPair(options.curve ?? 'secp256r1');
    this.publicKeyHex = keys.publicKeyHex;
    this.privateKey = keys.privateKey;
    this.meterSerial = `SIM${stationId}`.slice(0, 64);
  }

  tampers(connectorId: number, sessionNo: number): boolean {
    return this.options.tamper?.(this.stationId, connectorId, sessionNo) ?? false;
  }

  /** The OCMF record of one reading (tampered after signing when asked). */
  sign(r: ReadingToSign): string {
    this.pagination += 1;
    const payload = (rv: string) =>
      `{"FV":"1.0","GI":"CSMS-SIMULATOR","GS":${JSON.stringify(this.stationId)},"GV":"1.0","PG":"T${this.pagination}","MV":"CSMS","MM":"SIM-METER","MS":${JSON.stringify(this.meterSerial)},"IS":true,"IL":"VERIFIED","IF":["RFID_PLAIN","OCPP_RS_TLS"],"IT":"ISO14443","ID":${JSON.stringify(r.idTag)},"CT":"EVSEID","CI":${JSON.stringify(`${this.stationId}*${r.connectorId}`)},"RD":[{"TM":"${ocmfTime(r.at)}","TX":"${r.tx}","RV":${rv},"RI":"1-b:1.8.0","RU":"kWh","RT":"AC","EF":"","ST":"G"}]}`;
    const signed = payload(kwhText(r.registerWh));
    const record = signOcmf(signed, this.privateKey, this.options.curve ?? 'secp256r1');
    return r.tamper && r.tx === 'E' ? record.replace(signed, payload(kwhText(r.registerWh + 1000))) : record;
  }

  /** OCPP 1.6: a sampled value `format: SignedData` carrying the record as its value. */
  sampledValue16(record: string, context: 'Transaction.Begin' | 'Transaction.End'): V16SampledValue {
    return {
      value: record,
      context,
      format: 'SignedData',
      measurand: 'Energy.Active.Import.Register',
      location: 'Outlet',
    };
  }

  /** OCPP 2.0.1 SignedMeterValueType: the record in base64, SA inside it (empty signingMethod), the key OCA-wrapped. */
  signedMeterValue201(record: string): V201.SignedMeterValueType {
    return {
      signedMeterData: Buffer.from(record, 'utf8').toString('base64'),
      signingMethod: '',
      encodingMethod: 'OCMF',
      publicKey: Buffer.from(`oca:base16:asn1:${this.publicKeyHex}`, 'utf8').toString('base64'),
    };
  }
}
