import type { DataSource } from 'typeorm';
import { deriveId, type EventCatalogue } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import type { Logger } from '@csms/platform';
import { statementMonthDue } from '@csms/payments';
import type { PaymentCommandLike, PaymentEngine } from './engine';

export interface SchedulerOptions {
  /** the day of the month from which last month's statements are issued (0: off) */
  statementDay: number;
  scanMs: number;
  /** the wall clock (tests move it) */
  now?: () => Date;
}

/**
 * Turns the wall clock into commands of the decider, each with its time and an id derived from what it is about
 * (account + period), decided through the engine like any input: its decisions (events on payment.events, with
 * the command's time as their time) are what a rebuild replays — the clock is never read again. Idempotent across
 * instances and restarts: the same account and month give the same command id, the account's state is locked
 * while deciding, and a decided month decides nothing again.
 *
 * - Monthly statements of invoice accounts: from PAYMENT_STATEMENT_DAY of a month on, `issue_statement` for the
 *   month before, for every invoice account that has no statement of that month yet (id `statement` + account +
 *   month, the same as the API's `POST /accounts/{id}/statements`, so the two never issue twice).
 * (Holds about to lapse are the effect runner's scan, `hold_expiry_due`, the same way.)
 */
export class PaymentScheduler {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly ds: DataSource,
    private readonly engine: PaymentEngine,
    private readonly catalogue: EventCatalogue,
    private readonly relay: OutboxRelay,
    private readonly logger: Logger,
    private readonly opts: SchedulerOptions,
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  start(): void {
    if (this.running || this.opts.statementDay === 0) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.issueStatements();
      } catch (e) {
        this.logger.warn({ err: e }, 'scheduler round failed; trying again at the next one');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.scanMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Issues the statements due now; returns how many accounts were asked. */
  async issueStatements(): Promise<number> {
    const now = this.now().toISOString();
    const month = statementMonthDue(now, this.opts.statementDay);
    if (month === null) return 0;
    const due: Array<{ account_id: string }> = await this.ds.query(
      `select a.account_id from billing_accounts a
        where a.method->>'kind' = 'invoice'
          and not exists (select 1 from statements s where s.account_id = a.account_id and s.month = $1)
        order by a.account_id`,
      [month],
    );
    let issued = 0;
    for (const { account_id: accountId } of due) {
      const n = await this.ds.transaction(async (m) => {
        const envs = await this.engine.decide(m, {
          type: 'issue_statement',
          accountId,
          sourceEventId: deriveId('statement', accountId, month),
          at: now,
          month,
        } as PaymentCommandLike);
        await appendToOutbox(m, this.catalogue, envs, { maxMessageBytes: this.relay.maxMessageBytes });
        return envs.length;
      });
      if (n > 0) {
        issued += 1;
        this.logger.info({ accountId, month }, 'monthly statement issued');
      }
    }
    if (issued > 0) this.relay.nudge();
    return due.length;
  }
}
