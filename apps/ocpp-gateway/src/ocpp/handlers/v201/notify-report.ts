import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const notifyReport: OcppHandler<V201.NotifyReportRequest, V201.NotifyReportResponse> = () => ({});
