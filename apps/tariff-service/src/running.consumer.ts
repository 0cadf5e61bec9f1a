import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope, SessionStartedEvent, SessionUpdatedEvent } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import {
  ConsumerController,
  OnChunkEnd,
  OnChunkStart,
  type ChunkEndContext,
  type ChunkStartContext,
} from '@csms/service-kit';
import type { RunningCostHandler } from './running.handler';

export const RUNNING = Symbol('tariff-service:running');

/**
 * The running-cost consumer of session.events (group `<TARIFF_CONSUMER_GROUP>.running`, `running.handler.ts`): the
 * tariff selected at each start and the cost estimates of running sessions, on billing.events, for the payment
 * service. A group of its own, so that estimates never slow the pricing of ended sessions.
 */
@ConsumerController()
export class RunningCostConsumer {
  constructor(@Inject(RUNNING) private readonly running: RunningCostHandler) {}

  @OnChunkStart()
  loadChunk(@Ctx() ctx: ChunkStartContext): Promise<void> {
    return this.running.onChunkStart(ctx);
  }

  @EventPattern('session.started')
  sessionStarted(@Payload() event: SessionStartedEvent, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.running.sessionStarted(event, ctx);
  }

  @EventPattern('session.updated')
  sessionUpdated(@Payload() event: SessionUpdatedEvent, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.running.sessionUpdated(event, ctx);
  }

  @EventPattern('session.ended')
  sessionEnded(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.running.sessionEnded(event, ctx);
  }

  @OnChunkEnd()
  flushChunk(@Ctx() ctx: ChunkEndContext): Promise<void> {
    return this.running.onChunkEnd(ctx);
  }
}
