import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const firmwareStatusNotification: OcppHandler<
  V201.FirmwareStatusNotificationRequest,
  V201.FirmwareStatusNotificationResponse
> = () => ({});
