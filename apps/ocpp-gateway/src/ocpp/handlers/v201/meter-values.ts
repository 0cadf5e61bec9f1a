import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const meterValues: OcppHandler<V201.MeterValuesRequest, V201.MeterValuesResponse> = () => ({});
