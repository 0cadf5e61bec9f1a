import type { V201 } from '@csms/ocpp';
import { bootStatus } from '@csms/ocpp-gateway-core';
import type { OcppHandler } from '../../handler';

/** B01/B02: Accepted for a registered station, Pending for a provisional one; interval = heartbeat interval. */
export const bootNotification: OcppHandler<V201.BootNotificationRequest, V201.BootNotificationResponse> = (
  _req,
  ctx,
) => ({
  currentTime: ctx.now().toISOString(),
  interval: ctx.heartbeatIntervalS,
  status: bootStatus(ctx.provisional),
});
