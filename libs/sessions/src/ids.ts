import * as uuidModule from './uuid-v5';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { fastUuidV5, uuidNamespace } = uuidModule;

/** Namespaces of the name-based ids. */
export const SESSION_NAMESPACE = 'b7d4c1e2-3f5a-5c8b-9d0e-1a2b3c4d5e6f';
export const SESSION_EVENT_NAMESPACE = 'c8e5d2f3-4a6b-5d9c-8e1f-2b3c4d5e6f70';
// parsed once: uuid's v5 would parse a string namespace on every call
const SESSION_NS = uuidNamespace(SESSION_NAMESPACE);
const SESSION_EVENT_NS = uuidNamespace(SESSION_EVENT_NAMESPACE);

/** The session id of a transaction: UUID v5 of `${stationId}|${transactionId}` (the first transactionId seen). */
export const sessionIdOf = (stationId: string, transactionId: string): string =>
  fastUuidV5(`${stationId}|${transactionId}`, SESSION_NS);

/** The id of a session's n-th public event (per-session sequence): UUID v5 of `${sessionId}|${type}|${n}`. */
export const sessionEventIdOf = (sessionId: string, type: string, n: number): string =>
  fastUuidV5(`${sessionId}|${type}|${n}`, SESSION_EVENT_NS);

/** The key of a transaction in `byTransaction`. */
export const transactionKeyOf = (stationId: string, transactionId: string): string => `${stationId}|${transactionId}`;

/**
 * transactionKeyOf that remembers the last key built: records of one transaction come in runs, and a key
 * string used before is found without building and hashing it again.
 */
export function transactionKeyReader(): (stationId: string, transactionId: string) => string {
  let station = '';
  let tx = '';
  let key = '|';
  return (stationId, transactionId) => {
    if (stationId !== station || transactionId !== tx) {
      station = stationId;
      tx = transactionId;
      key = transactionKeyOf(stationId, transactionId);
    }
    return key;
  };
}
