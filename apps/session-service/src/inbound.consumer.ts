import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import {
  ConsumerController,
  OnChunkEnd,
  OnChunkStart,
  type ChunkEndContext,
  type ChunkStartContext,
} from '@csms/service-kit';
import type { makeInboundHandler } from './inbound.handler';

export const INBOUND_FOLD = Symbol('session-service:inbound-fold');
export type InboundFold = ReturnType<typeof makeInboundHandler>;

/**
 * The consumer of ocpp.inbound: each `ocpp.message_received` folded into its station's sessions, in the
 * consumer's transaction; the stations of a chunk loaded at its start and written at its end (`inbound.handler.ts`).
 */
@ConsumerController()
export class InboundConsumer {
  constructor(@Inject(INBOUND_FOLD) private readonly fold: InboundFold) {}

  @OnChunkStart()
  loadStations(@Ctx() ctx: ChunkStartContext): Promise<void> {
    return this.fold.onChunkStart(ctx);
  }

  @EventPattern('ocpp.message_received')
  messageReceived(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.fold.handler(event, ctx);
  }

  @OnChunkEnd()
  saveStations(@Ctx() ctx: ChunkEndContext): Promise<void> {
    return this.fold.onChunkEnd(ctx);
  }
}
