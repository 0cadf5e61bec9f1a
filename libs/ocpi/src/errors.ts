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

/**
 * The HTTP status of an OCPI answer to a request that reached the OCPI layer (OCPI 2.2.1, status codes: a request
 * from an authenticated party, addressed to a resource that exists, whose body (if any) is JSON, gets no HTTP
 * error status; what went wrong is told by the envelope's `status_code`). So every status code a module answers
 * with (1000; 2001 to 2004, the client's fault; 3000 to 3003, the server could not use the client's API; 4xxx)
 * comes with HTTP 200. The HTTP errors are the transport's: 401 no or an unknown token, 405 a method the token may
 * not use on the credentials module (`access`), 404 no such resource, 400 a body that is not JSON (before the
 * OCPI layer).
 */
export function ocpiHttpStatus(statusCode: number): 200 {
  if (!Number.isInteger(statusCode) || statusCode < 1000 || statusCode > 4999)
    throw new Error(`not an OCPI status code: ${statusCode}`);
  if (statusCode === 2000)
    throw new Error('2000 is answered with the HTTP status of the refusal (401 or 405, libs/ocpi access)');
  return 200;
}
