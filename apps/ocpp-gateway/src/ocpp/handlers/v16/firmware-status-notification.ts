import type { V16 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const firmwareStatusNotification: OcppHandler<
  V16.FirmwareStatusNotificationRequest,
  V16.FirmwareStatusNotificationResponse
> = () => ({});
