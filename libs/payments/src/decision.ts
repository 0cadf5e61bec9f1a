/**
 * One decision in the making: the events decided so far and the state after them (each event is folded as it is
 * decided, so a later step of the same command sees what an earlier one did).
 */
import { fromMinorUnits } from './minor-units';
import { transferEvent, type PostingContext, type Transfer } from './ledger';
import { PaymentError } from './errors';
import type {
  AccountPaymentState,
  PaymentCommand,
  PaymentConfig,
  PaymentEvent,
  PaymentEventOf,
  PaymentEventType,
} from './types';

type Payload<T extends PaymentEventType> = Omit<PaymentEventOf<T>, 'type' | 'accountId' | 'sourceEventId' | 'at'>;

export class Decision {
  readonly events: PaymentEvent[] = [];

  constructor(
    public state: AccountPaymentState,
    readonly cmd: PaymentCommand,
    readonly cfg: PaymentConfig,
    private readonly evolve: (s: AccountPaymentState, e: PaymentEvent) => AccountPaymentState,
  ) {}

  get accountId(): string {
    return this.cmd.accountId;
  }

  /** The account's currency (the account must be open). */
  get currency(): string {
    if (!this.state.currency) {
      throw new PaymentError('PAYMENT_ACCOUNT_UNKNOWN', `no payment account ${this.cmd.accountId}`, 'accountId');
    }
    return this.state.currency;
  }

  emit<T extends PaymentEventType>(type: T, payload: Payload<T>): void {
    const e = {
      type,
      accountId: this.cmd.accountId,
      sourceEventId: this.cmd.sourceEventId,
      at: this.cmd.at,
      ...payload,
    } as unknown as PaymentEvent;
    this.events.push(e);
    this.state = this.evolve(this.state, e);
  }

  /** Emits the ledger event of a transfer (nothing for a null one: an amount of zero moves nothing). */
  ledger(t: Transfer | null): void {
    if (!t) return;
    const e = transferEvent(t, this.cmd.accountId);
    this.events.push(e);
    this.state = this.evolve(this.state, e);
  }

  posting(currency = this.currency): PostingContext {
    return { billingAccountId: this.cmd.accountId, currency, sourceEventId: this.cmd.sourceEventId, at: this.cmd.at };
  }

  /** `{ amount, amountMinor }` of minor units in the account's currency. */
  money(minor: bigint, currency = this.currency): { amount: string; amountMinor: string } {
    return { amount: fromMinorUnits(minor, currency), amountMinor: minor.toString() };
  }
}

export const big = (s: string | null | undefined): bigint => BigInt(s ?? '0');
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
