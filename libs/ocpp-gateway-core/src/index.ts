/**
 * The pure core of the OCPP gateway: OCPP-J framing, CALLERROR mapping per version, schema validation
 * outcomes, routing decisions, station authentication decisions, token verdicts and the identity of a
 * 1.6 StartTransaction. No framework, no I/O, no clock (time is passed in).
 */
export * from './callerror';
export * from './framing';
export * from './validation';
export * from './routing';
export * from './registry';
export * from './station-location';
export * from './decisions';
export * from './transaction-id';
export * from './commands';
export * from './abuse';
export * from './remote-start';
