import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Throughput: a webhook finds the open intent its payment settles by `payment_ref`, the intent id or the request's
 * `paymentRef`; the last had no index (a scan of psp_intents per webhook). With it the three are one bitmap OR.
 */
export class PaymentThroughput1765000000000 implements MigrationInterface {
  name = 'PaymentThroughput1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`create index psp_intents_request_payment on psp_intents ((request->>'paymentRef'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index psp_intents_request_payment');
  }
}
