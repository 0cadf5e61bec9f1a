import type { V16 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const diagnosticsStatusNotification: OcppHandler<
  V16.DiagnosticsStatusNotificationRequest,
  V16.DiagnosticsStatusNotificationResponse
> = () => ({});
