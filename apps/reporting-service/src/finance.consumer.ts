import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import { ConsumerController } from '@csms/service-kit';
import { financeHandler } from './finance.handler';

/**
 * The consumer of billing.events, finance.events and registry.stations (`finance.handler.ts`): each CDR into the
 * revenue read model, each period close into the cuts, each station's site and time zone. session.pricing_failed
 * and the registry's tokens have no pattern: applied with no effect.
 */
@ConsumerController()
export class FinanceConsumer {
  @EventPattern('cdr.created')
  cdrCreated(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return financeHandler(event, ctx);
  }

  @EventPattern('finance.period_closed')
  periodClosed(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return financeHandler(event, ctx);
  }

  @EventPattern('registry.station_registered')
  stationRegistered(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return financeHandler(event, ctx);
  }
}
