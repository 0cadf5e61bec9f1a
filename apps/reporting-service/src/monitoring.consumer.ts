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
import { monitoringHandler, onMonitoringChunkEnd, onMonitoringChunkStart } from './monitoring.handler';

/**
 * The consumer of ocpp.inbound and monitoring.events: each inbound record folded into its station's monitoring
 * view and alarms, each operator acknowledgement into the alarms (`monitoring.handler.ts`); the views of a chunk's
 * stations read at its start and written, with its status facts and alarms, at its end.
 */
@ConsumerController()
export class MonitoringConsumer {
  @OnChunkStart()
  loadViews(@Ctx() ctx: ChunkStartContext): Promise<void> {
    return onMonitoringChunkStart(ctx);
  }

  @EventPattern('ocpp.message_received')
  messageReceived(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return monitoringHandler(event, ctx);
  }

  @EventPattern('monitoring.maintenance_declared')
  maintenanceDeclared(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return monitoringHandler(event, ctx);
  }

  @EventPattern('monitoring.alarm_acknowledged')
  alarmAcknowledged(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return monitoringHandler(event, ctx);
  }

  @OnChunkEnd()
  saveViews(@Ctx() ctx: ChunkEndContext): Promise<void> {
    return onMonitoringChunkEnd(ctx);
  }
}
