/** StatusNotification: a connector's status (1.6 status; the 2.0.1 connector status is derived from it). */
import type { V16, V201 } from '@csms/ocpp';
import { statusNotification16, statusNotification201, type Status16, type Status201 } from '../model/messages';
import type { Connector, StationCore } from './types';

export function statusPayload(
  st: StationCore,
  c: Connector,
  at: number,
): V16.StatusNotificationRequest | V201.StatusNotificationRequest {
  return st.v16
    ? statusNotification16(c.id, c.status16, st.ts(at), c.errorCode)
    : statusNotification201(c.id, c.status201, st.ts(at));
}

/** Sets a connector's status and reports it when it changed for the station's version. */
export function setStatus(
  st: StationCore,
  c: Connector,
  status16: Status16,
  at: number,
  errorCode: V16.StatusNotificationRequest['errorCode'] = 'NoError',
): void {
  const status201: Status201 =
    status16 === 'Available'
      ? 'Available'
      : status16 === 'Faulted'
        ? 'Faulted'
        : status16 === 'Unavailable'
          ? 'Unavailable'
          : status16 === 'Reserved'
            ? 'Reserved'
            : 'Occupied';
  const changed16 = c.status16 !== status16 || c.errorCode !== errorCode;
  const changed201 = c.status201 !== status201;
  c.status16 = status16;
  c.status201 = status201;
  c.errorCode = errorCode;
  if (st.v16 ? changed16 : changed201) {
    const payload = statusPayload(st, c, at);
    void st.send('StatusNotification', () => payload, 'status');
  }
}
