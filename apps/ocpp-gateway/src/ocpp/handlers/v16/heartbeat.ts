import type { V16 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const heartbeat: OcppHandler<V16.HeartbeatRequest, V16.HeartbeatResponse> = (_req, ctx) => ({
  currentTime: ctx.now().toISOString(),
});
