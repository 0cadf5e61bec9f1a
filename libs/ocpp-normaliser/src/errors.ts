import { DomainError } from '@csms/kernel';

/** Stable machine codes of the normaliser's errors. */
export type NormaliseErrorCode =
  | 'INVALID_RECORD'
  | 'UNSUPPORTED_PROTOCOL'
  | 'UNKNOWN_ACTION'
  | 'INVALID_PAYLOAD'
  | 'INVALID_TIMESTAMP'
  | 'INVALID_METER_VALUE'
  | 'MISSING_TRANSACTION_ID';

/**
 * A record the normaliser cannot turn into charger events (a kernel `DomainError`). Never retriable: the same
 * record always gives the same error, so it belongs on the dead-letter topic (and a fixed normaliser can
 * replay it). `field` and `path` are the same JSON path.
 */
export class OcppNormaliseError extends DomainError<NormaliseErrorCode> {
  constructor(
    code: NormaliseErrorCode,
    message: string,
    /** JSON path of the field at fault, e.g. `payload.meterValue[0].sampledValue[1].value` */
    readonly path?: string,
  ) {
    super(code, message, path === undefined ? {} : { field: path });
  }
}
