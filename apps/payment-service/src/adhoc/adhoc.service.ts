import type { DataSource, EntityManager } from 'typeorm';
import { deriveId, type Envelope, type EventCatalogue } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import {
  adhocAccountId,
  adhocHoldIdOf,
  adhocPaymentIdOf,
  adhocStartSourceOf,
  fromMinorUnits,
  toMinorUnits,
  type AccountPaymentState,
} from '@csms/payments';
import type { Logger } from '@csms/platform';
import type { PaymentEngine, PaymentCommandLike } from '../engine';
import type { PaymentProvider } from '../provider/port';
import type { EffectRunner } from '../runner';
import type { AdhocEffects } from './adhoc-effects';
import type { PaymentStage, StatusPageInput } from './pages';
import type { ResolvedTariff } from './tariff-client';

export interface AdhocPaymentRow {
  payment_id: string;
  station_id: string;
  evse_id: number;
  currency: string;
  hold_minor: string;
  tariff_id: string | null;
  tariff: unknown;
  checkout_url: string | null;
  payment_ref: string | null;
  created_at: Date;
}

interface ReceiptRow {
  cdr_id: string;
  credit: boolean;
  currency: string;
  total_excl_vat: string;
  total_incl_vat: string;
  energy_kwh: string;
  start_at: Date;
  end_at: Date;
}

/** Where the driver goes after pressing "pay": the PSP's page, or (paid already, or the page not made yet) the status. */
export type CheckoutOutcome = { kind: 'checkout'; url: string } | { kind: 'status' };

/**
 * The ad-hoc (QR) payment's service side: a checkout attempt becomes `start_adhoc_payment` (the `adhoc:<paymentId>`
 * account and its hosted hold, recorded with the payment's row in one transaction), then — after commit, never
 * inside a transaction — the PSP's hosted page with idempotency key = the hold id (a double click or a reload asks
 * the PSP again with the same key and gets the same page). The status page reads the payment from the account's
 * state, its remote start and its receipts. A periodic scan reads back hosted holds no webhook settled yet and
 * releases the holds of stations that never started.
 */
export class AdhocService {
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<void>;

  constructor(
    private readonly ds: DataSource,
    private readonly engine: PaymentEngine,
    private readonly effects: AdhocEffects,
    private readonly provider: PaymentProvider,
    private readonly runner: () => EffectRunner | undefined,
    private readonly catalogue: EventCatalogue,
    private readonly relay: OutboxRelay,
    private readonly logger: Logger,
    private readonly opts: {
      holds: Map<string, string>;
      scanMs: number;
      now: () => Date;
    },
  ) {}

  /** The hold for a tariff: the configured hold of its currency, or the tariff's maximum price with VAT if lower. */
  holdOf(tariff: ResolvedTariff['tariff']): { currency: string; holdMinor: bigint } | null {
    const currency = tariff.currency;
    const configured = this.opts.holds.get(currency);
    if (configured === undefined) return null;
    let hold = toMinorUnits(configured, currency);
    const cap = tariff.max_price?.incl_vat;
    if (cap !== undefined) {
      const capMinor = toMinorUnits(String(cap), currency);
      if (capMinor > 0n && capMinor < hold) hold = capMinor;
    }
    return hold > 0n ? { currency, holdMinor: hold } : null;
  }

  async payment(paymentId: string): Promise<AdhocPaymentRow | undefined> {
    const rows: AdhocPaymentRow[] = await this.ds.query('select * from adhoc_payments where payment_id = $1', [
      paymentId,
    ]);
    return rows[0];
  }

  /**
   * A checkout attempt (the start page's form): the payment (same attempt, same payment), then its hosted page.
   * `returnUrl` is the payment's status page.
   */
  async checkout(
    r: { stationId: string; evseId: number; attemptId: string; tariff: ResolvedTariff },
    returnUrlOf: (paymentId: string) => string,
  ): Promise<{ paymentId: string; outcome: CheckoutOutcome }> {
    const paymentId = adhocPaymentIdOf(r.stationId, r.evseId, r.attemptId);
    const accountId = adhocAccountId(paymentId);
    const hold = this.holdOf(r.tariff.tariff);
    if (!hold) throw new Error(`no hold configured for ${r.tariff.tariff.currency}`);
    const now = this.opts.now().toISOString();
    await this.ds.transaction(async (m) => {
      await m.query(
        `insert into adhoc_payments (payment_id, station_id, evse_id, currency, hold_minor, tariff_id, tariff, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (payment_id) do nothing`,
        [
          paymentId,
          r.stationId,
          r.evseId,
          hold.currency,
          hold.holdMinor.toString(),
          r.tariff.tariffId,
          JSON.stringify(r.tariff),
          now,
        ],
      );
      const envs = await this.engine.decide(m, {
        type: 'start_adhoc_payment',
        accountId,
        sourceEventId: adhocStartSourceOf(paymentId),
        at: now,
        paymentId,
        stationId: r.stationId,
        evseId: r.evseId,
        currency: hold.currency,
        holdAmountMinor: hold.holdMinor,
      } as PaymentCommandLike);
      await appendToOutbox(m, this.catalogue, envs, { maxMessageBytes: this.relay.maxMessageBytes });
    });
    this.relay.nudge();
    const row = (await this.payment(paymentId))!;
    const state = (await this.engine.stateOf(this.ds.manager, accountId)) as AccountPaymentState;
    const h = state.holds[adhocHoldIdOf(paymentId)];
    if (h && h.status !== 'requested') return { paymentId, outcome: { kind: 'status' } };
    // a reload or a second click once the page exists: the same page, no PSP call
    if (row.checkout_url) return { paymentId, outcome: { kind: 'checkout', url: row.checkout_url } };
    // the PSP call, after the commit: the same key for every click, so one hosted page per payment
    let page: { paymentRef: string; url: string };
    try {
      page = await this.provider.createHostedPayment({
        idempotencyKey: adhocHoldIdOf(paymentId),
        amountMinor: BigInt(row.hold_minor),
        currency: row.currency,
        returnUrl: returnUrlOf(paymentId),
        metadata: {
          account_id: accountId,
          station_id: r.stationId,
          evse_id: String(r.evseId),
          description: `Charging at ${r.stationId} · ${r.evseId} (reservation)`,
        },
      });
    } catch (e) {
      // a click while the first one's call is in flight (409), or the PSP unreachable: the status page shows the
      // payment page's link once it is known
      this.logger.warn({ err: e, paymentId }, 'hosted payment page not created now');
      return { paymentId, outcome: { kind: 'status' } };
    }
    await this.ds.transaction(async (m) => {
      await m.query(
        `update adhoc_payments set checkout_url = $2, payment_ref = $3 where payment_id = $1 and checkout_url is null`,
        [paymentId, page.url, page.paymentRef],
      );
      await m.query(`update psp_intents set payment_ref = coalesce(payment_ref, $2) where intent_id = $1`, [
        adhocHoldIdOf(paymentId),
        page.paymentRef,
      ]);
    });
    return { paymentId, outcome: { kind: 'checkout', url: page.url } };
  }

  /** The payment as its status page shows it; a hold the PSP may have settled meanwhile is read back first. */
  async status(row: AdhocPaymentRow, startUrl: string): Promise<StatusPageInput> {
    const accountId = adhocAccountId(row.payment_id);
    const holdId = adhocHoldIdOf(row.payment_id);
    let state = (await this.engine.stateOf(this.ds.manager, accountId)) as AccountPaymentState;
    if (state.holds[holdId]?.status === 'requested' && row.payment_ref) {
      const runner = this.runner();
      if (
        runner &&
        (await runner.readBackOne({ intent_id: holdId, account_id: accountId, payment_ref: row.payment_ref }))
      )
        state = (await this.engine.stateOf(this.ds.manager, accountId)) as AccountPaymentState;
    }
    const h = state.holds[holdId];
    const receipts: ReceiptRow[] = await this.ds.query(
      'select * from adhoc_receipts where payment_id = $1 order by recorded_at, cdr_id',
      [row.payment_id],
    );
    const sessionTookHold =
      Object.values(state.sessions).some((s) => s.holdId === holdId) ||
      Object.values(state.archive ?? {}).some((s) => (s as { holdId?: string | null }).holdId === holdId) ||
      (h?.sessionId ?? null) !== null;
    const [start] = (await this.ds.query('select released from adhoc_starts where payment_id = $1', [
      row.payment_id,
    ])) as Array<{ released: boolean }>;
    const latest = receipts.filter((x) => !x.credit).at(-1);
    let stage: PaymentStage;
    if (latest) stage = 'completed';
    else if (!h || h.status === 'requested') stage = 'awaiting_payment';
    else if (h.status === 'failed') stage = 'payment_failed';
    else if (sessionTookHold) stage = 'charging';
    else if (h.status === 'released' || start?.released || h.releaseIntentId) stage = 'not_started';
    else stage = 'starting';
    const cur = row.currency;
    const captured = h ? BigInt(h.capturedMinor) : 0n;
    return {
      stationId: row.station_id,
      evseId: row.evse_id,
      stage,
      currency: cur,
      holdAmount: fromMinorUnits(BigInt(row.hold_minor), cur),
      checkoutUrl: row.checkout_url,
      startUrl,
      receipt: latest
        ? {
            cdrId: latest.cdr_id,
            totalInclVat: fromMinorUnits(toMinorUnits(latest.total_incl_vat, cur), cur),
            totalExclVat: fromMinorUnits(toMinorUnits(latest.total_excl_vat, cur), cur),
            vat: fromMinorUnits(
              toMinorUnits(latest.total_incl_vat, cur) - toMinorUnits(latest.total_excl_vat, cur),
              cur,
            ),
            energyKwh: latest.energy_kwh,
            start: latest.start_at.toISOString(),
            end: latest.end_at.toISOString(),
            captured: h?.status === 'captured' || captured > 0n ? fromMinorUnits(captured, cur) : null,
          }
        : null,
    };
  }

  /** Releases the holds of payments whose station never started within the timeout. */
  async releaseUnstarted(): Promise<number> {
    const now = this.opts.now();
    const due = await this.effects.dueForRelease(this.ds.manager, now);
    for (const d of due) {
      await this.ds.transaction(async (m: EntityManager) => {
        // the account first, as every decision takes it (a start result decided at the same moment waits, no deadlock)
        await this.engine.lockAccount(m, d.account_id);
        const upd: unknown[] = await m.query(
          'update adhoc_starts set released = true where payment_id = $1 and not released returning 1',
          [d.payment_id],
        );
        if ((Array.isArray(upd[0]) ? upd[0] : upd).length === 0) return;
        this.logger.info(
          { paymentId: d.payment_id, stationId: d.station_id },
          'ad-hoc payment: the station did not start in time; releasing the hold',
        );
        const envs: Envelope[] = await this.engine.decide(m, {
          type: 'release_unused_hold',
          accountId: d.account_id,
          sourceEventId: deriveId('adhoc-start-timeout', d.payment_id),
          at: now.toISOString(),
          reason: 'station_never_started',
        } as PaymentCommandLike);
        await appendToOutbox(m, this.catalogue, envs, { maxMessageBytes: this.relay.maxMessageBytes });
      });
    }
    if (due.length > 0) {
      this.relay.nudge();
      this.runner()?.nudge();
    }
    return due.length;
  }

  async scanOnce(): Promise<void> {
    await this.runner()?.readBackHosted();
    await this.releaseUnstarted();
  }

  start(): void {
    const tick = () => {
      this.scanning = this.scanOnce()
        .catch((e: unknown) => this.logger.warn({ err: e }, 'ad-hoc scan failed; retrying'))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.scanMs);
        });
    };
    this.timer = setTimeout(tick, this.opts.scanMs);
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.scanning;
  }
}
