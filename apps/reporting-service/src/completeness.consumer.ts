import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import { ConsumerController, OnChunkEnd, type ChunkEndContext } from '@csms/service-kit';
import { completenessChunkEnd, completenessHandler, deadLetterHandler } from './completeness.handler';
import { financeHandler } from './finance.handler';
import { reconciliationHandler } from './reconciliation.handler';

/**
 * Billing completeness from session.events and billing.events (`completeness.handler.ts`): what ended, what
 * was priced, what failed; the newest event time moved forward once per chunk. Finance from billing.events,
 * finance.events and registry.stations (`finance.handler.ts`): each CDR into the revenue read model, each period
 * close into the cuts, each station's site and time zone. session.started, session.updated and the registry's
 * other events have no pattern: applied with no effect.
 */
@ConsumerController()
export class CompletenessConsumer {
  @EventPattern('session.ended')
  async sessionEnded(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    await completenessHandler(event, ctx);
    // the meter evidence of the three-way reconciliation: the session's energy
    await reconciliationHandler(event, ctx);
  }

  @EventPattern('finance.reconciliation_break_detected')
  breakDetected(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return reconciliationHandler(event, ctx);
  }

  @EventPattern('finance.reconciliation_break_resolved')
  breakResolved(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return reconciliationHandler(event, ctx);
  }

  @EventPattern('finance.reconciliation_break_cleared')
  breakCleared(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return reconciliationHandler(event, ctx);
  }

  @EventPattern('cdr.created')
  async cdrCreated(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    await completenessHandler(event, ctx);
    await financeHandler(event, ctx);
  }

  @EventPattern('finance.period_closed')
  periodClosed(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return financeHandler(event, ctx);
  }

  @EventPattern('registry.station_registered')
  stationRegistered(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return financeHandler(event, ctx);
  }

  @EventPattern('session.pricing_failed')
  pricingFailed(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return completenessHandler(event, ctx);
  }

  @OnChunkEnd()
  moveWatermark(@Ctx() ctx: ChunkEndContext): Promise<void> {
    return completenessChunkEnd(ctx);
  }
}

/**
 * The tariff service's pricing dead letters (`dlq.<tariff group>.pricing`), a consumer group of its own: each
 * parked session.ended counted in its revision's row.
 */
@ConsumerController()
export class PricingDeadLettersConsumer {
  @EventPattern('session.ended')
  sessionEndedParked(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return deadLetterHandler(event, ctx);
  }
}
