/**
 * `npx tsx apps/psp-emulator/src/bench.ts [payments=2000] [concurrency=32] [stateFile]`: authorise + capture
 * payments through the Stripe adapter (official SDK, HTTP) against an in-process emulator, with webhooks POSTed
 * to a local receiver; prints payments per second. The figure in README.md comes from here. With
 * PSP_BENCH_URL set, drives that (separately started) emulator instead, so client and server are separate processes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StripeProvider } from '../../payment-service/src/provider/stripe-provider';
import { isDecline } from '../../payment-service/src/provider/port';
import { startPspEmulator } from './emulator';

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 2000);
  const concurrency = Number(process.argv[3] ?? 32);
  const stateFile = process.argv[4];
  let hooks = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hooks++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const em = await startPspEmulator({
    webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
    webhookSecret: 'whsec_bench',
    stateFile,
    webhookConcurrency: 16,
  });
  const external = process.env.PSP_BENCH_URL;
  const p = new StripeProvider({ apiKey: 'sk_test_bench', webhookSecret: 'whsec_bench', apiUrl: external ?? em.url });
  const customer = await p.stripe.customers.create({});
  let next = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const a = await p.authorize({
        idempotencyKey: `bench-auth-${i}`,
        amountMinor: 5000n,
        currency: 'EUR',
        customerRef: customer.id,
        paymentMethodRef: 'pm_card_visa',
        metadata: {},
      });
      if (isDecline(a)) throw new Error(a.code);
      const c = await p.capture({ idempotencyKey: `bench-cap-${i}`, paymentRef: a.paymentRef, amountMinor: 4321n });
      if (isDecline(c)) throw new Error(c.code);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!external) await em.webhooksIdle();
  const sAll = Number(process.hrtime.bigint() - t0) / 1e9;
  const captures = external ? null : em.ledger().reduce((n, x) => n + x.captures, 0);
  console.log(
    JSON.stringify({
      payments: total,
      emulator: external ?? 'in-process',
      concurrency,
      stateFile: stateFile ?? null,
      seconds: +s.toFixed(2),
      paymentsPerSecond: Math.round(total / s),
      apiCallsPerSecond: Math.round((2 * total) / s),
      webhooks: hooks,
      webhooksDrainedSeconds: +sAll.toFixed(2),
      captures,
    }),
  );
  await em.close();
  receiver.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
