import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const heartbeat: OcppHandler<V201.HeartbeatRequest, V201.HeartbeatResponse> = (_req, ctx) => ({
  currentTime: ctx.now().toISOString(),
});
