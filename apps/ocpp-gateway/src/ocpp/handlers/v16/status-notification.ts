import type { V16 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

/** Recorded on ocpp.inbound (connector status is folded downstream); the answer is empty. */
export const statusNotification: OcppHandler<
  V16.StatusNotificationRequest,
  V16.StatusNotificationResponse
> = () => ({});
