import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import { ConsumerController } from '@csms/service-kit';
import { monitoringHandler } from './monitoring.handler';

/**
 * The consumer of ocpp.inbound and monitoring.events: each inbound record folded into its station's monitoring
 * view and alarms, each operator acknowledgement into the alarms (`monitoring.handler.ts`).
 */
@ConsumerController()
export class MonitoringConsumer {
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
}
