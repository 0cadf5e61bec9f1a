import type { V16 } from '@csms/ocpp';
import { bootStatus } from '@csms/ocpp-gateway-core';
import type { OcppHandler } from '../../handler';

/** 1.6 §4.2: Accepted for a registered station (with the heartbeat interval), Pending for a provisional one. */
export const bootNotification: OcppHandler<V16.BootNotificationRequest, V16.BootNotificationResponse> = (
  _req,
  ctx,
) => ({
  status: bootStatus(ctx.provisional),
  currentTime: ctx.now().toISOString(),
  interval: ctx.heartbeatIntervalS,
});
