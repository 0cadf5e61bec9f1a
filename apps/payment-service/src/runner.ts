import type { DataSource } from 'typeorm';
import { deriveId, type EventCatalogue } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import { WakeableSleep, type Logger } from '@csms/platform';
import type { PaymentEngine } from './engine';
import { asksForPspCall } from './projection';
import {
  ProviderUnavailableError,
  isDecline,
  type PaymentProvider,
  type ProviderDecline,
  type ProviderPayment,
  type ProviderRefund,
} from './provider/port';

/** A claimed intent: the request the decider recorded (the `*_requested` payload) and how the last attempt ended. */
interface IntentRow {
  intent_id: string;
  account_id: string;
  session_id: string | null;
  kind: string;
  request: Record<string, string | boolean | null>;
  attempts: number;
  payment_ref: string | null;
  /** the status before this claim: `pending` (never called), `unknown` (a call's outcome is unknown), `in_flight` (a runner died holding it) */
  was: string;
}

/** What the PSP answered, as the decider takes it (`provider_outcome`). */
export type ProviderOutcome =
  | { kind: 'payment'; payment: ProviderPayment }
  | { kind: 'refund'; refund: ProviderRefund }
  | { kind: 'decline'; code: string; message: string; paymentRef: string | null };

export interface RunnerOptions {
  /** the shortest sleep between two rounds that found nothing */
  pollMs: number;
  /**
   * the longest: while idle the runner sleeps until the next intent is due or the next hold scan, at most this long
   * (intents recorded by another instance, which wakes its own runner); default `pollMs` (a poll every `pollMs`)
   */
  idlePollMs?: number;
  /** PSP calls at once */
  concurrency: number;
  /**
   * intents claimed per round, their outcomes recorded in one transaction (default: `concurrency`): a larger batch
   * holds more intents of each account, whose state is then written once for all of them
   */
  batchSize?: number;
  leaseMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  holdScanMs: number;
  holdExpiryMarginS: number;
  /** the wall clock: the time of outcomes and scans (tests move it) */
  now?: () => Date;
}

/**
 * The effect runner: the PSP calls the decider asked for (`psp_intents`, written in the deciding transaction) are
 * made here, after that transaction committed, never inside one:
 * 1. claim: due intents are marked `in_flight` (with a lease) in a short transaction of their own (skip locked, so
 *    several instances share the work);
 * 2. call: the PSP with idempotency key = the intent id (never another key for the same intent); an intent whose
 *    previous outcome is unknown (a timeout, a 5xx, a runner that died holding it) is first read back from the PSP
 *    (`findByIntent` / `retrieve`) and only called again if the call did not take effect;
 * 3. record: the outcome goes to the decider as `provider_outcome` (events via the outbox), in a transaction.
 * An unknown outcome (`ProviderUnavailableError`) marks the intent `unknown` and retries with exponential back-off.
 * Also scans, every PAYMENT_HOLD_SCAN_MS, for holds about to lapse and gives their accounts `hold_expiry_due`.
 */
export class EffectRunner {
  private running = false;
  private loop?: Promise<void>;
  private readonly pause = new WakeableSleep();
  /** nudged since the current round began */
  private pending = false;
  private lastScan = 0;
  /** PSP calls made, by kind (a crash test counts what it can) */
  readonly calls = new Map<string, number>();

  constructor(
    private readonly ds: DataSource,
    private readonly engine: PaymentEngine,
    private readonly provider: PaymentProvider,
    private readonly catalogue: EventCatalogue,
    private readonly relay: OutboxRelay,
    private readonly logger: Logger,
    private readonly opts: RunnerOptions,
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pause.wake();
    await this.loop;
  }

  /** intents claimed per round */
  private batchLimit(): number {
    return Math.max(this.opts.batchSize ?? 0, this.opts.concurrency);
  }

  /** Look for due intents now (after a commit that recorded some). */
  nudge(): void {
    this.pending = true;
    this.pause.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.pending = false;
      let worked = 0;
      try {
        worked = await this.runOnce();
        if (Date.now() - this.lastScan >= this.opts.holdScanMs) {
          this.lastScan = Date.now();
          await this.scanHolds();
        }
      } catch (e) {
        this.logger.warn({ err: e }, 'effect runner round failed; retrying');
      }
      // a full batch may have left more behind: straight on; a smaller one took what was due when it claimed, and what
      // came since nudged (`pending`)
      if (worked >= this.batchLimit() || !this.running || this.pending) continue;
      const delay = await this.idleDelay().catch(() => this.opts.pollMs);
      // a commit of this process that recorded intents (`nudge`) wakes it early
      if (this.pending || !this.running) continue;
      await this.pause.sleep(delay);
    }
  }

  /**
   * How long to sleep after a round that found nothing: until the next intent is due (an unknown outcome's back-off,
   * a lapsed lease) or the next hold scan, within [pollMs, idlePollMs]. One indexed look-up (`psp_intents_due`), and
   * none when idlePollMs is pollMs.
   */
  private async idleDelay(): Promise<number> {
    const min = this.opts.pollMs;
    const max = Math.max(min, this.opts.idlePollMs ?? min);
    if (max === min) return min;
    const toScan = this.opts.holdScanMs - (Date.now() - this.lastScan);
    const [row] = (await this.ds.query(
      `select extract(epoch from min(coalesce(case when status = 'in_flight' then claimed_until end, next_attempt_at)) - now()) * 1000 as ms
         from psp_intents where status in ('pending', 'in_flight', 'unknown') and kind <> 'hosted'`,
    )) as Array<{ ms: number | string | null }>;
    const toIntent = row?.ms === null || row?.ms === undefined ? max : Number(row.ms);
    return Math.round(Math.min(max, Math.max(min, Math.min(toScan, toIntent))));
  }

  /**
   * Claims and runs one batch of due intents; returns how many it ran. The calls run concurrently across accounts and
   * one after the other within an account (in the order they were due); their outcomes are then recorded together,
   * in one transaction (`recordAll`).
   */
  async runOnce(): Promise<number> {
    const claimed = await this.claim(this.batchLimit());
    if (claimed.length === 0) return 0;
    const byAccount = new Map<string, IntentRow[]>();
    for (const i of claimed) {
      const list = byAccount.get(i.account_id);
      if (list) list.push(i);
      else byAccount.set(i.account_id, [i]);
    }
    const outcomes: Array<{ i: IntentRow; outcome: ProviderOutcome }> = [];
    // at most `concurrency` calls at once: each worker takes the next account and runs its calls in order
    const accounts = [...byAccount.values()];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(this.opts.concurrency, accounts.length) }, async () => {
        while (next < accounts.length) {
          const list = accounts[next++];
          for (const i of list) {
            const outcome = await this.execute(i);
            if (outcome) outcomes.push({ i, outcome });
          }
        }
      }),
    );
    await this.recordAll(outcomes);
    return claimed.length;
  }

  private async claim(limit: number): Promise<IntentRow[]> {
    // TypeORM answers an UPDATE ... RETURNING with [rows, count]
    const res: unknown[] = await this.ds.query(
      `update psp_intents i set status = 'in_flight', attempts = i.attempts + 1,
              claimed_until = now() + make_interval(secs => $2::double precision / 1000), updated_at = now()
         from (select intent_id, status as was from psp_intents
                where kind <> 'hosted'
                  and ((status in ('pending', 'unknown') and next_attempt_at <= now())
                   or (status = 'in_flight' and claimed_until < now()))
                order by next_attempt_at limit $1 for update skip locked) c
        where i.intent_id = c.intent_id
        returning i.intent_id, i.account_id, i.session_id, i.kind, i.request, i.attempts, i.payment_ref, c.was`,
      [limit, this.opts.leaseMs],
    );
    return (Array.isArray(res[0]) ? res[0] : res) as IntentRow[];
  }

  /** Calls the PSP for the intent; its outcome, or null when it is unknown (the intent is marked for a retry). */
  private async execute(i: IntentRow): Promise<ProviderOutcome | null> {
    try {
      return await this.call(i);
    } catch (e) {
      const unknown = e instanceof ProviderUnavailableError;
      const delay = Math.min(
        this.opts.retryMaxMs,
        this.opts.retryInitialMs * 2 ** Math.min(20, Math.max(0, i.attempts - 1)),
      );
      (unknown ? this.logger.warn.bind(this.logger) : this.logger.error.bind(this.logger))(
        { err: e, intentId: i.intent_id, kind: i.kind, attempts: i.attempts },
        unknown ? 'PSP outcome unknown: read back before the next attempt' : 'PSP call failed',
      );
      await this.ds.query(
        `update psp_intents set status = 'unknown', claimed_until = null, last_error = $2,
                next_attempt_at = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
          where intent_id = $1 and status = 'in_flight'`,
        [i.intent_id, String((e as Error)?.message ?? e).slice(0, 500), delay],
      );
      return null;
    }
  }

  /**
   * Feeds a batch of PSP outcomes to the decider in one transaction: the intents' rows locked first (sorted; a webhook
   * settling one of them takes its row before its account too, so the two never wait on each other in opposite
   * orders), then their accounts (`loadChunk`: sorted, states read once), decided in the order the calls were made
   * (per account: the order they were due), written once (`flushChunk`), the intents settled in one statement and the
   * events appended to the outbox. Should the batch fail, each outcome is recorded on its own (`record`), so one bad
   * outcome does not hold back the others.
   */
  async recordAll(batch: ReadonlyArray<{ i: Pick<IntentRow, 'intent_id' | 'account_id'>; outcome: ProviderOutcome }>) {
    if (batch.length === 0) return;
    if (batch.length === 1) return this.record(batch[0].i, batch[0].outcome);
    const at = this.now().toISOString();
    let asked = false;
    try {
      await this.ds.transaction(async (m) => {
        await m.query('select 1 from psp_intents where intent_id = any($1::text[]) order by intent_id for update', [
          batch.map((b) => b.i.intent_id),
        ]);
        // the outcomes' duplicate checks answered in one query with the states
        const cache = await this.engine.loadChunk(
          m,
          batch.map((b) => b.i.account_id),
          batch.map((b) => ({ accountId: b.i.account_id, sourceEventId: deriveId('psp-outcome', b.i.intent_id) })),
        );
        const envs = [];
        for (const { i, outcome } of batch)
          envs.push(
            ...(await this.engine.decide(
              m,
              {
                type: 'provider_outcome',
                accountId: i.account_id,
                sourceEventId: deriveId('psp-outcome', i.intent_id),
                at,
                intentId: i.intent_id,
                result: outcome,
              } as never,
              cache,
            )),
          );
        await this.engine.flushChunk(m, cache);
        // the decider may have known it already (a webhook came first): the intent is settled all the same (an intent
        // its outcome event settled already is not written again)
        await m.query(
          `update psp_intents set status = case when status in ('done', 'failed') then status else 'done' end,
                  outcome = coalesce(outcome, x.o), claimed_until = null, updated_at = now()
             from unnest($1::text[], $2::jsonb[]) as x(i, o)
            where intent_id = x.i
              and (status not in ('done', 'failed') or outcome is null or claimed_until is not null)`,
          [batch.map((b) => b.i.intent_id), batch.map((b) => JSON.stringify(outcomeJson(b.outcome)))],
        );
        await appendToOutbox(m, this.catalogue, envs, { maxMessageBytes: this.relay.maxMessageBytes });
        asked = asksForPspCall(envs);
      });
    } catch (e) {
      this.logger.warn({ err: e, intents: batch.length }, 'recording a batch of PSP outcomes failed; one at a time');
      for (const { i, outcome } of batch)
        await this.record(i, outcome).catch((err: unknown) =>
          this.logger.error(
            { err, intentId: i.intent_id },
            'recording a PSP outcome failed; read back after the lease',
          ),
        );
      return;
    }
    this.relay.nudge();
    // an outcome may ask for another call (a capture held back until its hold was authorised)
    if (asked) this.nudge();
  }

  /** Feeds a PSP outcome to the decider for the intent's account (one transaction, with the outbox). */
  async record(
    i: Pick<IntentRow, 'intent_id' | 'account_id'>,
    outcome: ProviderOutcome,
    sourceEventId?: string,
  ): Promise<void> {
    let asked = false;
    await this.ds.transaction(async (m) => {
      // the intent's row before the account (the order a webhook takes them in)
      await m.query('select 1 from psp_intents where intent_id = $1 for update', [i.intent_id]);
      const envs = await this.engine.decide(m, {
        type: 'provider_outcome',
        accountId: i.account_id,
        sourceEventId: sourceEventId ?? deriveId('psp-outcome', i.intent_id),
        at: this.now().toISOString(),
        intentId: i.intent_id,
        result: outcome,
      } as never);
      // the decider may have known it already (a webhook came first): the intent is settled all the same
      await m.query(
        `update psp_intents set status = case when status in ('done', 'failed') then status else 'done' end,
                outcome = coalesce(outcome, $2), claimed_until = null, updated_at = now() where intent_id = $1`,
        [i.intent_id, JSON.stringify(outcomeJson(outcome))],
      );
      await appendToOutbox(m, this.catalogue, envs, { maxMessageBytes: this.relay.maxMessageBytes });
      asked = asksForPspCall(envs);
    });
    this.relay.nudge();
    if (asked) this.nudge();
  }

  private count(kind: string): void {
    this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1);
  }

  /** One PSP call for the intent, with its id as the idempotency key; reads back first when an earlier outcome is unknown. */
  private async call(i: IntentRow): Promise<ProviderOutcome> {
    const r = i.request;
    const key = i.intent_id;
    const unsure = i.was !== 'pending' || i.attempts > 1;
    const paymentRef = (r.paymentRef as string | null | undefined) ?? i.payment_ref;
    const amount = (field = 'amountMinor') => BigInt(r[field] as string);
    const wrap = (p: ProviderPayment | ProviderDecline): ProviderOutcome =>
      isDecline(p)
        ? { kind: 'decline', code: p.code, message: p.message, paymentRef: p.paymentRef }
        : { kind: 'payment', payment: p };
    switch (i.kind) {
      case 'authorize': {
        if (unsure) {
          const found = await this.provider.findByIntent(key);
          if (found && found.status !== 'pending') return { kind: 'payment', payment: found };
        }
        this.count('authorize');
        return wrap(
          await this.provider.authorize({
            idempotencyKey: key,
            amountMinor: amount(),
            currency: r.currency as string,
            customerRef: r.customerRef as string,
            paymentMethodRef: r.paymentMethodRef as string,
            metadata: { account_id: i.account_id, ...(i.session_id ? { session_id: i.session_id } : {}) },
          }),
        );
      }
      case 'increase': {
        if (unsure) {
          const p = await this.provider.retrieve(paymentRef!);
          if (p.amountAuthorizedMinor >= amount()) return { kind: 'payment', payment: p };
        }
        this.count('increase');
        return wrap(
          await this.provider.increaseAuthorization({
            idempotencyKey: key,
            paymentRef: paymentRef!,
            newAmountMinor: amount(),
          }),
        );
      }
      case 'capture': {
        if (unsure) {
          const p = await this.provider.retrieve(paymentRef!);
          if (p.status === 'captured') return { kind: 'payment', payment: p };
        }
        this.count('capture');
        return wrap(
          await this.provider.capture({ idempotencyKey: key, paymentRef: paymentRef!, amountMinor: amount() }),
        );
      }
      case 'release': {
        if (unsure) {
          const p = await this.provider.retrieve(paymentRef!);
          if (p.status === 'canceled') return { kind: 'payment', payment: p };
        }
        this.count('release');
        return wrap(await this.provider.cancel({ idempotencyKey: key, paymentRef: paymentRef! }));
      }
      case 'refund': {
        // a refund is read back by calling again with the same key: the PSP answers the refund it made, or makes it
        if (unsure) await this.provider.retrieve(paymentRef!);
        this.count('refund');
        const res = await this.provider.refund({ idempotencyKey: key, paymentRef: paymentRef!, amountMinor: amount() });
        return isDecline(res)
          ? { kind: 'decline', code: res.code, message: res.message, paymentRef: res.paymentRef }
          : { kind: 'refund', refund: res };
      }
      default:
        throw new Error(`intent kind ${i.kind} is not run by this service`);
    }
  }

  /**
   * Hosted holds (ad-hoc payments) whose payer left the PSP's page without the webhook telling us yet: read back
   * (never a call that changes anything) and recorded once the PSP says authorised or cancelled. The webhook, the
   * return to the status page and this scan may each see it first; the decider takes the first outcome.
   */
  async readBackHosted(limit = 20, olderThanMs = 2000): Promise<number> {
    const rows: Array<{ intent_id: string; account_id: string; payment_ref: string }> = await this.ds
      .query(
        `update psp_intents i set updated_at = now()
         from (select intent_id from psp_intents
                where kind = 'hosted' and status = 'pending' and payment_ref is not null
                  -- read back less often as the page stays open (a tenth of its age): an abandoned page is not polled hot
                  and updated_at <= now() - greatest(make_interval(secs => $2::double precision / 1000), (now() - created_at) / 10)
                  and created_at > now() - interval '2 days'
                order by updated_at limit $1 for update skip locked) c
        where i.intent_id = c.intent_id
        returning i.intent_id, i.account_id, i.payment_ref`,
        [limit, olderThanMs],
      )
      .then((r: unknown[]) => (Array.isArray(r[0]) ? r[0] : r) as never);
    let settled = 0;
    for (const r of rows) if (await this.readBackOne(r)) settled++;
    return settled;
  }

  /** Reads one hosted hold back from the PSP; records it when the payer finished (authorised or cancelled). */
  async readBackOne(r: { intent_id: string; account_id: string; payment_ref: string }): Promise<boolean> {
    let p: ProviderPayment;
    try {
      p = await this.provider.retrieve(r.payment_ref);
    } catch (e) {
      this.logger.warn({ err: e, intentId: r.intent_id }, 'hosted payment not readable now');
      return false;
    }
    if (p.status === 'pending') return false;
    await this.record(r, { kind: 'payment', payment: p });
    return true;
  }

  /**
   * Holds that lapse within PAYMENT_HOLD_EXPIRY_MARGIN_S and were neither captured nor released: their accounts get
   * `hold_expiry_due` (the decider captures what is due). One command per account and hold and hour.
   */
  async scanHolds(): Promise<number> {
    const now = this.now();
    // the open holds that lapse within the margin (`payment_holds`: the hold's expiry as the PSP stated it, else the
    // lifetime of a customer-initiated card hold, 7 days); the decider judges again with its own rule, this only picks
    // the accounts to ask
    const due: Array<{ account_id: string; hold_id: string }> = await this.ds.query(
      `select account_id, hold_id from payment_holds
        where not closed and expires_at <= $1::timestamptz + make_interval(secs => $2)
        order by expires_at`,
      [now.toISOString(), this.opts.holdExpiryMarginS],
    );
    for (const d of due) {
      await this.ds.transaction(async (m) => {
        const envs = await this.engine.decide(m, {
          type: 'hold_expiry_due',
          accountId: d.account_id,
          sourceEventId: deriveId('hold-expiry-due', d.account_id, d.hold_id, now.toISOString().slice(0, 13)),
          at: now.toISOString(),
        });
        await appendToOutbox(m, this.catalogue, envs, { maxMessageBytes: this.relay.maxMessageBytes });
      });
    }
    if (due.length > 0) this.relay.nudge();
    return due.length;
  }
}

/** An outcome as JSON (bigints as strings) for the intent's row. */
export function outcomeJson(o: ProviderOutcome): unknown {
  return JSON.parse(JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}
