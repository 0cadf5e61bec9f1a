import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const notifyEvent: OcppHandler<V201.NotifyEventRequest, V201.NotifyEventResponse> = () => ({});
