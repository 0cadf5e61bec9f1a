import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const logStatusNotification: OcppHandler<
  V201.LogStatusNotificationRequest,
  V201.LogStatusNotificationResponse
> = () => ({});
