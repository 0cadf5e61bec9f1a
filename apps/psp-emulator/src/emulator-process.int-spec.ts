/**
 * The emulator as a process (`tsx apps/psp-emulator/src/main.ts`): killed with SIGKILL and restarted on the same
 * state file, it still knows every payment it answered, replays stored answers for the same idempotency key, and
 * delivers the webhooks it had not delivered yet.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { freePort, startServiceProcess, waitFor, type ServiceProcess } from '@csms/testing';

describe('psp-emulator process', () => {
  let dir: string;
  let receiver: Server;
  let receiverUp = true;
  const got: string[] = [];
  let webhookUrl: string;
  let proc: ServiceProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psp-emulator-proc-'));
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!receiverUp) return res.writeHead(503).end();
        got.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    proc?.kill('SIGKILL');
    await proc?.exited();
    await new Promise<void>((r) => receiver.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives SIGKILL: payments, counts, idempotent replays and pending webhooks', async () => {
    const port = await freePort();
    const env = {
      HTTP_PORT: String(port),
      PSP_EMULATOR_STATE_FILE: join(dir, 'state.jsonl'),
      PSP_EMULATOR_WEBHOOK_URL: webhookUrl,
      PSP_EMULATOR_WEBHOOK_SECRET: 'whsec_process_test',
      PSP_EMULATOR_WEBHOOK_MAX_ATTEMPTS: '1000',
      LOG_LEVEL: 'warn',
    };
    proc = await startServiceProcess('psp-emulator', env);
    const stripe = new Stripe('sk_test_process', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
    const customer = await stripe.customers.create({});
    const pi = await stripe.paymentIntents.create(
      {
        amount: 2500,
        currency: 'eur',
        customer: customer.id,
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'manual',
        metadata: { intent_id: 'proc-auth-1' },
      },
      { idempotencyKey: 'proc-auth-1' },
    );
    expect(pi.status).toBe('requires_capture');
    // the endpoint is down: the capture's webhook stays undelivered when the emulator dies
    receiverUp = false;
    const captured = await stripe.paymentIntents.capture(
      pi.id,
      { amount_to_capture: 2000 },
      { idempotencyKey: 'proc-cap-1' },
    );
    proc.kill('SIGKILL');
    await proc.exited();

    receiverUp = true;
    proc = await startServiceProcess('psp-emulator', env);
    const again = await stripe.paymentIntents.retrieve(pi.id);
    expect(again).toMatchObject({ status: 'succeeded', amount_received: 2000 });
    const replay = await stripe.paymentIntents.capture(
      pi.id,
      { amount_to_capture: 2000 },
      { idempotencyKey: 'proc-cap-1' },
    );
    expect(replay.id).toBe(captured.id);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    const summary = (await (await fetch(`${proc.url}/_emulator/payment_intents/${pi.id}`)).json()) as {
      captures: number;
    };
    expect(summary.captures).toBe(1);
    const succeeded = await waitFor(
      () => got.find((b) => b.includes('payment_intent.succeeded') && b.includes(pi.id)),
      {
        what: 'the capture webhook, delivered after the restart',
      },
    );
    expect(JSON.parse(succeeded).data.object.amount_received).toBe(2000);
  });
});
