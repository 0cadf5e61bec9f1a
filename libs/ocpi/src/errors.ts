import { DomainError } from '@csms/kernel';

/**
 * Input an OCPI party sent that OCPI does not allow: `statusCode` is the OCPI status code to answer with (2001
 * invalid or missing parameters; 3001 the party's API could not be used; 3002 no common version; 3003 endpoints
 * missing), `field` the JSON path at fault.
 */
export class OcpiInputError extends DomainError {
  constructor(
    readonly statusCode: 2001 | 3001 | 3002 | 3003,
    message: string,
    field?: string,
  ) {
    super(statusCode === 2001 ? 'OCPI_INVALID_PARAMETERS' : 'OCPI_PARTY_UNUSABLE', message, {
      field,
      retriable: false,
    });
  }
}
