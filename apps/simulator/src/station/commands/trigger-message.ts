/** TriggerMessage: the station sends the message asked for (after its answer has gone out). */
import { bootNotification16, bootNotification201, meterValue16, meterValue201 } from '../../model/messages';
import type { Connector, StationCore } from '../types';
import type { Command } from './command';

function trigger(
  st: StationCore,
  requestedMessage: string,
  cid: number | undefined,
): 'Accepted' | 'Rejected' | 'NotImplemented' {
  if (cid !== undefined && cid !== 0 && !st.connector(cid)) return 'Rejected';
  const targets: Connector[] = cid ? [st.connector(cid)!] : st.connectors;
  let act: (() => void) | undefined;
  switch (requestedMessage) {
    case 'BootNotification':
      act = () =>
        void st.send(
          'BootNotification',
          () => (st.v16 ? bootNotification16(st.identity()) : bootNotification201(st.identity(), 'Triggered')),
          'other',
        );
      break;
    case 'Heartbeat':
      act = () => void st.send('Heartbeat', () => ({}), 'other');
      break;
    case 'StatusNotification':
      act = () => {
        const at = st.sched.current;
        for (const c of targets) {
          const payload = st.statusPayload(c, at);
          void st.send('StatusNotification', () => payload, 'other');
        }
      };
      break;
    case 'MeterValues':
      act = () => {
        const at = st.sched.current;
        for (const c of targets) {
          const s = c.session;
          if (s?.txStarted && !s.ended && st.v16) st.meterSample(c, s, at, 'Trigger');
          else if (st.v16)
            void st.send(
              'MeterValues',
              () => ({
                connectorId: c.id,
                meterValue: [meterValue16(st.ts(at), { registerWh: c.registerWh, phases: 3 }, 'Trigger', false)],
              }),
              'other',
            );
          else
            void st.send(
              'MeterValues',
              () => ({
                evseId: c.id,
                meterValue: [meterValue201(st.ts(at), { registerWh: c.registerWh, phases: 3 }, 'Trigger', false)],
              }),
              'other',
            );
        }
      };
      break;
    case 'TransactionEvent':
      if (st.v16) return 'NotImplemented';
      act = () => {
        const at = st.sched.current;
        for (const c of targets)
          if (c.session?.txStarted && !c.session.ended) st.meterSample(c, c.session, at, 'Trigger');
      };
      break;
    case 'FirmwareStatusNotification':
      act = () => void st.send('FirmwareStatusNotification', () => ({ status: st.firmwareStatus }), 'other');
      break;
    case 'DiagnosticsStatusNotification':
      act = () => void st.send('DiagnosticsStatusNotification', () => ({ status: st.diagnosticsStatus }), 'other');
      break;
    case 'LogStatusNotification':
      act = () => void st.send('LogStatusNotification', () => ({ status: st.logStatus }), 'other');
      break;
    default:
      return 'NotImplemented';
  }
  const run = act;
  st.afterReply(() => st.at(st.now(), `trigger ${requestedMessage}`, run));
  return 'Accepted';
}

export const triggerMessage16: Command<'ocpp1.6', 'TriggerMessage'> = (st, req) => ({
  status: trigger(st, req.requestedMessage, req.connectorId),
});

export const triggerMessage201: Command<'ocpp2.0.1', 'TriggerMessage'> = (st, req) => ({
  status: trigger(st, req.requestedMessage, req.evse?.id),
});
