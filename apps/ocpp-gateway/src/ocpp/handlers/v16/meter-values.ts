import type { V16 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

export const meterValues: OcppHandler<V16.MeterValuesRequest, V16.MeterValuesResponse> = () => ({});
