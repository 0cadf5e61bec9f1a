/**
 * Firmware and logs: UpdateFirmware (Downloading … Installed, then the new version), 1.6 GetDiagnostics,
 * GetLog; each reports its steps with the matching status notification, opsStepSeconds apart.
 */
import type { StationAction, StationCore, StationRequest } from '../types';
import type { Command } from './command';

type StatusOf<A extends StationAction> = StationRequest<A> extends { status: infer S } ? S : never;

/** Reports each status of an operation, opsStepSeconds apart, from `start`; `then` runs with the last one. */
function opsSequence<
  A extends 'FirmwareStatusNotification' | 'DiagnosticsStatusNotification' | 'LogStatusNotification',
>(
  st: StationCore,
  action: A,
  statuses: readonly StatusOf<A>[],
  request: (status: StatusOf<A>) => StationRequest<A>,
  setStatus: (s: StatusOf<A>) => void,
  start: number,
  then?: () => void,
): void {
  let at = start;
  for (const status of statuses) {
    st.at(at, action, () => {
      setStatus(status);
      void st.send(action, () => request(status), 'status');
    });
    at += st.cfg.opsStepSeconds * 1000;
  }
  if (then) st.at(at - st.cfg.opsStepSeconds * 1000, `${action} done`, then);
}

function updateFirmware(st: StationCore, location: string, retrieve: string, extra: { requestId?: number }): void {
  const version = /([0-9]+(?:\.[0-9]+)+)/.exec(location)?.[1] ?? `${st.firmwareVersion}+1`;
  st.afterReply(() => {
    const start = Math.max(st.now(), st.clock.virtualOf(retrieve) || 0);
    const steps = ['Downloading', 'Downloaded', 'Installing', 'Installed'] as const;
    opsSequence(
      st,
      'FirmwareStatusNotification',
      steps,
      (status) => ({ status, ...extra }),
      (s) => (st.firmwareStatus = s),
      start,
      () => {
        st.firmwareVersion = version.slice(0, 50);
      },
    );
  });
}

export const updateFirmware16: Command<'ocpp1.6', 'UpdateFirmware'> = (st, req) => {
  updateFirmware(st, req.location, req.retrieveDate, {});
  return {};
};

export const updateFirmware201: Command<'ocpp2.0.1', 'UpdateFirmware'> = (st, req) => {
  updateFirmware(st, req.firmware.location, req.firmware.retrieveDateTime, { requestId: req.requestId });
  return { status: 'Accepted' };
};

export const getDiagnostics16: Command<'ocpp1.6', 'GetDiagnostics'> = (st) => {
  const fileName = `diagnostics-${st.id}-${st.clock.iso(st.now()).replace(/[-:.]/g, '')}.log`;
  st.afterReply(() =>
    opsSequence(
      st,
      'DiagnosticsStatusNotification',
      ['Uploading', 'Uploaded'],
      (status) => ({ status }),
      (s) => (st.diagnosticsStatus = s),
      st.now(),
    ),
  );
  return { fileName: fileName.slice(0, 255) };
};

/** GetLog has the same fields in 2.0.1 and the 1.6 security whitepaper. */
function getLog(st: StationCore, logType: string, requestId: number): { status: 'Accepted'; filename: string } {
  const filename = `${logType === 'SecurityLog' ? 'security' : 'diagnostics'}-${st.id}-${requestId}.log`;
  st.afterReply(() =>
    opsSequence(
      st,
      'LogStatusNotification',
      ['Uploading', 'Uploaded'],
      (status) => ({ status, requestId }),
      (s) => (st.logStatus = s),
      st.now(),
    ),
  );
  return { status: 'Accepted', filename: filename.slice(0, 255) };
}

export const getLog16: Command<'ocpp1.6', 'GetLog'> = (st, req) => getLog(st, req.logType, req.requestId);
export const getLog201: Command<'ocpp2.0.1', 'GetLog'> = (st, req) => getLog(st, req.logType, req.requestId);
