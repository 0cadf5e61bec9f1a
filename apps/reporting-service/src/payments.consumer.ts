import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import { ConsumerController } from '@csms/service-kit';
import { reconciliationHandler } from './reconciliation.handler';

/**
 * payment.events, a group of its own (`<group>.payments`): the facts of the payments report and the three-way
 * reconciliation (`reconciliation.handler.ts`). The other payment events (intents, accounts, statements, holds
 * voided) have no pattern: applied with no effect.
 */
@ConsumerController()
export class PaymentsConsumer {
  @EventPattern('payment.cdr_recorded')
  cdrRecorded(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.authorized')
  authorized(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.captured')
  captured(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.refunded')
  refunded(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.receivable_opened')
  receivableOpened(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.receivable_settled')
  receivableSettled(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.wallet_debited')
  walletDebited(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.payout_settled')
  payoutSettled(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('ledger.transfer_posted')
  transferPosted(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.settlement_line_recorded')
  settlementLine(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
  @EventPattern('payment.settlement_report_imported')
  settlementReport(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return reconciliationHandler(e, ctx);
  }
}
