import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource, EntityManager } from 'typeorm';
import { deriveId, type EventCatalogue } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import type { Logger } from '@csms/platform';
import type { PaymentEngine } from './engine';
import { asksForPspCall } from './projection';
import { WebhookSignatureError, type PaymentProvider, type ProviderWebhookEvent } from './provider/port';
import type { EffectRunner, ProviderOutcome } from './runner';

/** Largest webhook body read (a PSP event is a few KiB). */
const MAX_BODY = 256 * 1024;

/** Which open intent a webhook's payment status settles. */
const KINDS_BY_STATUS: Record<string, string[]> = {
  // `hosted`: an ad-hoc payment's hold, authorised (or abandoned) on the PSP's hosted page
  authorized: ['authorize', 'increase', 'hosted'],
  captured: ['capture'],
  canceled: ['release', 'hosted'],
};

export type WebhookVerdict = 'applied' | 'duplicate' | 'ignored';

/**
 * The PSP's webhooks: the raw body's signature is verified by the provider (`parseWebhook`), each event is applied
 * once (its id in `psp_webhooks_seen`, written in the same transaction as its effect), and out-of-order arrivals are
 * harmless: an event only settles an intent that is still open and whose kind matches the payment's status (a late
 * `authorized` after the capture settles nothing), and the decider ignores an outcome for an intent it settled.
 */
export class WebhookReceiver {
  constructor(
    private readonly ds: DataSource,
    private readonly engine: PaymentEngine,
    private readonly provider: PaymentProvider,
    private readonly runner: EffectRunner,
    private readonly catalogue: EventCatalogue,
    private readonly relay: OutboxRelay,
    private readonly logger: Logger,
  ) {}

  /** Verifies and applies one webhook; throws WebhookSignatureError for a body that does not verify. */
  async receive(raw: Buffer, signature: string | undefined): Promise<WebhookVerdict> {
    const ev = this.provider.parseWebhook(raw, signature);
    // the usual case: a payment event that settles no open intent (the runner recorded the call's outcome first) is
    // recorded as seen and ignored in one statement, with no transaction or lock; otherwise (an open intent, or seen
    // before) the transaction below decides
    if (!ev.payout) {
      const ignored: unknown[] = await this.ds.query(
        `insert into psp_webhooks_seen (event_id, type, created, payment_ref, received_at, outcome)
         select $1::text, $2::text, $3::bigint, $4::text, now(), 'ignored' where not exists (${openIntentsSql('1', 4, 5, 6)})
         on conflict (event_id) do nothing returning event_id`,
        [ev.eventId, ev.type, ev.created, ev.payment?.paymentRef ?? null, intentOfRaw(ev.raw), kindsOf(ev)],
      );
      if (ignored.length > 0) return 'ignored';
    }
    let asked = false;
    const verdict = await this.ds.transaction(async (m): Promise<WebhookVerdict> => {
      const seen: unknown[] = await m.query(
        `insert into psp_webhooks_seen (event_id, type, created, payment_ref, received_at, outcome)
         values ($1, $2, $3, $4, now(), 'ignored') on conflict (event_id) do nothing returning event_id`,
        [ev.eventId, ev.type, ev.created, ev.payment?.paymentRef ?? null],
      );
      if (seen.length === 0) return 'duplicate';
      const envs = await this.apply(m, ev);
      if (envs === null) return 'ignored';
      await m.query(`update psp_webhooks_seen set outcome = 'applied' where event_id = $1`, [ev.eventId]);
      await appendToOutbox(m, this.catalogue, envs, { maxMessageBytes: this.relay.maxMessageBytes });
      asked = asksForPspCall(envs);
      return 'applied';
    });
    if (verdict === 'applied') this.relay.nudge();
    if (asked) this.runner.nudge();
    return verdict;
  }

  private async apply(m: EntityManager, ev: ProviderWebhookEvent) {
    const at = new Date(ev.created * 1000).toISOString();
    const sourceEventId = deriveId('psp-webhook', ev.eventId);
    if (ev.payout) {
      return this.engine.decide(m, {
        type: 'payout_settled',
        accountId: 'platform',
        sourceEventId,
        at,
        payoutRef: ev.payout.payoutRef,
        currency: ev.payout.currency,
        amountMinor: ev.payout.amountMinor,
        feeMinor: ev.payout.feeMinor,
      } as never);
    }
    const p = ev.payment;
    const intent = await this.openIntent(m, ev);
    if (!p || !intent) return null;
    if (
      intent.kind === 'increase' &&
      BigInt((await this.requestAmount(m, intent.intent_id)) ?? '0') > p.amountAuthorizedMinor
    )
      return null;
    let outcome: ProviderOutcome = { kind: 'payment', payment: p };
    if (intent.kind === 'refund') {
      const amount = await this.requestAmount(m, intent.intent_id);
      outcome = {
        kind: 'refund',
        refund: {
          refundRef: ev.eventId,
          paymentRef: p.paymentRef,
          amountMinor: BigInt(amount ?? '0'),
          status: 'succeeded',
        },
      };
    }
    const envs = await this.engine.decide(m, {
      type: 'provider_outcome',
      accountId: intent.account_id,
      sourceEventId,
      at,
      intentId: intent.intent_id,
      result: outcome,
    } as never);
    await m.query(
      `update psp_intents set status = 'done', outcome = coalesce(outcome, $2), claimed_until = null, updated_at = now()
        where intent_id = $1 and status not in ('done', 'failed')`,
      [intent.intent_id, JSON.stringify({ webhook: ev.eventId, type: ev.type })],
    );
    return envs;
  }

  /**
   * The open intent a payment event settles (`payout` for a payout; null: none): by the payment's reference, or (a
   * hold's first answer) by the intent id the payment carries in its metadata; its row locked with `lock`.
   */
  private async openIntent(
    m: EntityManager,
    ev: ProviderWebhookEvent,
  ): Promise<{ intent_id: string; account_id: string; kind: string } | null> {
    const kinds = kindsOf(ev);
    if (!ev.payment || kinds.length === 0) return null;
    const open: Array<{ intent_id: string; account_id: string; kind: string }> = await m.query(
      `${openIntentsSql('intent_id, account_id, kind', 1, 2, 3)} order by created_at limit 1 for update`,
      [ev.payment.paymentRef, intentOfRaw(ev.raw), kinds],
    );
    return open[0] ?? null;
  }

  private async requestAmount(m: EntityManager, intentId: string) {
    const rows: Array<{ amount: string | null }> = await m.query(
      `select request->>'amountMinor' as amount from psp_intents where intent_id = $1`,
      [intentId],
    );
    return rows[0]?.amount ?? null;
  }

  /** The HTTP listener (its own port: the PSP posts here without an API key; the signature is the credential). */
  async listen(port: number, host: string): Promise<{ server: Server; url: string }> {
    const server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const a = server.address() as AddressInfo;
    return { server, url: `http://${host}:${a.port}` };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
      res.end(JSON.stringify(status >= 400 ? { status, ...body } : body));
    };
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/webhooks/psp') {
      answer(404, { code: 'NOT_FOUND', title: 'only POST /webhooks/psp is served here' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) return answer(413, { code: 'PAYLOAD_TOO_LARGE', title: `webhook body over ${MAX_BODY} bytes` });
      const sig = req.headers['stripe-signature'];
      this.receive(Buffer.concat(chunks), Array.isArray(sig) ? sig[0] : sig).then(
        (verdict) => answer(200, { received: true, verdict }),
        (e: unknown) => {
          if (e instanceof WebhookSignatureError)
            return answer(400, { code: e.code, title: 'webhook signature does not verify', field: 'Stripe-Signature' });
          this.logger.warn({ err: e }, 'webhook not applied; the PSP will send it again');
          answer(503, { code: 'WEBHOOK_NOT_APPLIED', title: 'try again' });
        },
      );
    });
    req.on('error', () => undefined);
  }
}

/**
 * The open intents a payment event may settle: by the payment's reference (parameter `ref`), or (a hold's first
 * answer) by the intent id the payment carries in its metadata (`id`), of the kinds its status settles (`kinds`).
 */
function openIntentsSql(columns: string, ref: number, id: number, kinds: number): string {
  return `select ${columns} from psp_intents
    where status not in ('done', 'failed') and kind = any($${kinds}::text[])
      and (payment_ref = $${ref} or intent_id = $${id}::text or request->>'paymentRef' = $${ref})`;
}

/** The intent kinds a webhook's payment status settles. */
function kindsOf(ev: ProviderWebhookEvent): string[] {
  if (!ev.payment) return [];
  return ev.type === 'charge.refunded' ? ['refund'] : (KINDS_BY_STATUS[ev.payment.status] ?? []);
}

/** The intent id the payment carries in its metadata (the Stripe adapter's `intent_id`), if any. */
function intentOfRaw(raw: unknown): string | null {
  type Meta = { metadata?: { intent_id?: unknown } };
  const r = raw as { data?: { object?: Meta } } & Meta;
  const v = r?.data?.object?.metadata?.intent_id ?? r?.metadata?.intent_id;
  return typeof v === 'string' ? v : null;
}
