import type { V16 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

/** Recorded verbatim; no vendor extension is served by the gateway, hence UnknownVendorId (1.6 §4.3). */
export const dataTransfer: OcppHandler<V16.DataTransferRequest, V16.DataTransferResponse> = () => ({
  status: 'UnknownVendorId',
});
