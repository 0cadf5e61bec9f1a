import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const securityEventNotification: OcppHandler<
  V201.SecurityEventNotificationRequest,
  V201.SecurityEventNotificationResponse
> = () => ({});
