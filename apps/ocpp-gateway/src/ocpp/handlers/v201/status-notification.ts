import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const statusNotification: OcppHandler<
  V201.StatusNotificationRequest,
  V201.StatusNotificationResponse
> = () => ({});
