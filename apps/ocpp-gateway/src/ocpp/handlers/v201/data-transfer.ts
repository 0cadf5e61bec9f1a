import type { V201 } from '@csms/ocpp';
import type { OcppHandler } from '../../handler';

/** P01: recorded verbatim; no vendor extension is served by the gateway, hence UnknownVendorId. */
export const dataTransfer: OcppHandler<V201.DataTransferRequest, V201.DataTransferResponse> = () => ({
  status: 'UnknownVendorId',
});
