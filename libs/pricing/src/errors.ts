import { DomainError } from '@csms/kernel';

/**
 * Typed errors of the pricing engine, on the kernel's `DomainError`. Each has a stable machine `code`, the `field` at fault
 * (a JSON path into the tariff or the session, e.g. "elements[1].price_components[0].step_size")
 * and `retriable: false`: the input is wrong, retrying the same input cannot succeed.
 */
export type TariffErrorCode =
  | 'TARIFF_NOT_AN_OBJECT'
  | 'TARIFF_MISSING_FIELD'
  | 'TARIFF_INVALID_TYPE'
  | 'TARIFF_UNKNOWN_CURRENCY'
  | 'TARIFF_EMPTY_ELEMENTS'
  | 'TARIFF_EMPTY_PRICE_COMPONENTS'
  | 'TARIFF_UNKNOWN_COMPONENT_TYPE'
  | 'TARIFF_DUPLICATE_COMPONENT_TYPE'
  | 'TARIFF_NEGATIVE_PRICE'
  | 'TARIFF_INVALID_NUMBER'
  | 'TARIFF_NUMBER_TOO_LARGE'
  | 'TARIFF_TOO_MANY_DECIMALS'
  | 'TARIFF_INVALID_VAT'
  | 'TARIFF_INVALID_STEP_SIZE'
  | 'TARIFF_INVALID_TIME'
  | 'TARIFF_INVALID_DATE'
  | 'TARIFF_INVALID_DATE_TIME'
  | 'TARIFF_INVERTED_RANGE'
  | 'TARIFF_INVALID_DAY_OF_WEEK'
  | 'TARIFF_INVALID_RESERVATION'
  | 'TARIFF_RESERVATION_COMPONENT_NOT_ALLOWED'
  | 'TARIFF_INVALID_TARIFF_TYPE'
  | 'TARIFF_INVALID_FIELD_FORMAT'
  | 'TARIFF_UNKNOWN_FIELD';

export interface TariffIssue {
  code: TariffErrorCode;
  field: string;
  reason: string;
}

export class TariffValidationError extends DomainError<TariffErrorCode> {
  declare readonly field: string;
  readonly reason: string;
  /** Every issue found (the first one is also in code / field / reason). */
  readonly issues: readonly TariffIssue[];

  constructor(issues: readonly TariffIssue[]) {
    const first = issues[0];
    super(
      first.code,
      `invalid tariff: ${first.field}: ${first.reason}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`,
      { field: first.field },
    );
    this.reason = first.reason;
    this.issues = issues;
  }
}

export type PricingErrorCode =
  | 'PRICING_INVALID_SESSION'
  | 'PRICING_INVALID_DATE_TIME'
  | 'PRICING_INVALID_TIME_ZONE'
  | 'PRICING_INVALID_DECIMAL'
  | 'PRICING_CURRENCY_MISMATCH'
  | 'PRICING_PERIODS_NOT_ORDERED'
  | 'PRICING_PERIOD_AFTER_SESSION_END'
  | 'PRICING_PERIOD_TIME_EXCEEDS_DURATION'
  | 'PRICING_RESERVATION_MIXED_PERIOD'
  | 'PRICING_RESERVATION_INFO_MISSING'
  | 'PRICING_TARIFF_NOT_IN_FORCE'
  | 'PRICING_NO_APPLICABLE_ELEMENT'
  | 'PRICING_INVALID_OPTIONS';

export class PricingError extends DomainError<PricingErrorCode> {
  declare readonly field: string;
  constructor(
    code: PricingErrorCode,
    field: string,
    readonly reason: string,
  ) {
    super(code, `${code}: ${field}: ${reason}`, { field });
  }
}
