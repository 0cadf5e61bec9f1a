import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import {
  ConsumerController,
  OnChunkEnd,
  OnChunkStart,
  OnGiveUp,
  type ChunkEndContext,
  type ChunkStartContext,
  type GiveUpContext,
} from '@csms/service-kit';
import type { makePricingConsumer } from './pricing.handler';

export const PRICING = Symbol('tariff-service:pricing');
export type Pricing = ReturnType<typeof makePricingConsumer>;

/**
 * The consumer of session.events: each session.ended priced into a CDR or a session.pricing_failed, in the
 * consumer's transaction (`pricing.handler.ts`); what a chunk needs read at its start and written at its end;
 * a revision whose pricing failed for good recorded as a pricing failure instead of being parked.
 * session.started and session.updated have no pattern: applied with no effect.
 */
@ConsumerController()
export class PricingConsumer {
  constructor(@Inject(PRICING) private readonly pricing: Pricing) {}

  @OnChunkStart()
  loadChunk(@Ctx() ctx: ChunkStartContext): Promise<void> {
    return this.pricing.onChunkStart(ctx);
  }

  @EventPattern('session.ended')
  sessionEnded(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.pricing.handler(event, ctx);
  }

  @OnChunkEnd()
  flushChunk(@Ctx() ctx: ChunkEndContext): Promise<void> {
    return this.pricing.onChunkEnd(ctx);
  }

  @OnGiveUp()
  recordFailure(@Payload() event: Envelope, @Ctx() ctx: GiveUpContext): Promise<void> {
    return this.pricing.onGiveUp(event, ctx.error, ctx);
  }
}
