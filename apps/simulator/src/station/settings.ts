/** The station's settings: 1.6 configuration keys, the 2.0.1 device-model variables mapped onto them. */
import type { Setting, StationCore } from './types';

export const CONFIG_DEFAULTS: Record<string, Setting> = {
  HeartbeatInterval: { value: '300', readonly: false, numeric: true },
  MeterValueSampleInterval: { value: '60', readonly: false, numeric: true },
  ClockAlignedDataInterval: { value: '0', readonly: false, numeric: true },
  ConnectionTimeOut: { value: '60', readonly: false, numeric: true },
  NumberOfConnectors: { value: '1', readonly: true },
  AuthorizeRemoteTxRequests: { value: 'false', readonly: false },
  LocalAuthorizeOffline: { value: 'true', readonly: false },
  LocalPreAuthorize: { value: 'false', readonly: false },
  StopTransactionOnEVSideDisconnect: { value: 'true', readonly: true },
  StopTransactionOnInvalidId: { value: 'true', readonly: false },
  MeterValuesSampledData: {
    value: 'Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC',
    readonly: false,
  },
  StopTxnSampledData: { value: 'Energy.Active.Import.Register', readonly: false },
  TransactionMessageAttempts: { value: '3', readonly: false, numeric: true },
  TransactionMessageRetryInterval: { value: '10', readonly: false, numeric: true },
  LocalAuthListEnabled: { value: 'true', readonly: false },
  LocalAuthListMaxLength: { value: '1000', readonly: true },
  SendLocalListMaxLength: { value: '1000', readonly: true },
  SupportedFeatureProfiles: { value: 'Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger', readonly: true },
};

/** 2.0.1 device-model variables mapped onto the same settings. */
export const VARIABLES_201: Record<string, string> = {
  'OCPPCommCtrlr/HeartbeatInterval': 'HeartbeatInterval',
  'SampledDataCtrlr/TxUpdatedInterval': 'MeterValueSampleInterval',
  'SampledDataCtrlr/TxUpdatedMeasurands': 'MeterValuesSampledData',
  'SampledDataCtrlr/TxEndedMeasurands': 'StopTxnSampledData',
  'AlignedDataCtrlr/Interval': 'ClockAlignedDataInterval',
  'TxCtrlr/EVConnectionTimeOut': 'ConnectionTimeOut',
  'AuthCtrlr/AuthorizeRemoteStart': 'AuthorizeRemoteTxRequests',
  'AuthCtrlr/LocalAuthorizeOffline': 'LocalAuthorizeOffline',
  'LocalAuthListCtrlr/Enabled': 'LocalAuthListEnabled',
  'OCPPCommCtrlr/MessageAttempts': 'TransactionMessageAttempts',
  'TxCtrlr/TxStartPoint': 'TxStartPoint',
  'TxCtrlr/TxStopPoint': 'TxStopPoint',
};
export const COMPONENTS_201 = new Set(Object.keys(VARIABLES_201).map((k) => k.split('/')[0]));

/** The settings a new station starts with. */
export function initialSettings(cfg: {
  plan: { connectors: unknown[] };
  sampleIntervalSeconds: number;
  heartbeatIntervalSeconds: number;
}): Map<string, Setting> {
  const config = new Map<string, Setting>();
  for (const [k, v] of Object.entries(CONFIG_DEFAULTS)) config.set(k, { ...v });
  config.get('NumberOfConnectors')!.value = String(cfg.plan.connectors.length);
  config.get('MeterValueSampleInterval')!.value = String(cfg.sampleIntervalSeconds);
  config.get('HeartbeatInterval')!.value = String(cfg.heartbeatIntervalSeconds);
  config.set('TxStartPoint', { value: 'Authorized', readonly: true });
  config.set('TxStopPoint', { value: 'EVConnected,Authorized', readonly: true });
  return config;
}

/** Changes a setting as the CSMS asks (ChangeConfiguration, SetVariables). */
export function changeSetting(st: StationCore, key: string, value: string): 'Accepted' | 'Rejected' | 'NotSupported' {
  const entry = st.config.get(key);
  if (!entry) return 'NotSupported';
  if (entry.readonly) return 'Rejected';
  if (entry.numeric && !/^[0-9]{1,9}$/.test(value)) return 'Rejected';
  entry.value = value;
  if (key === 'HeartbeatInterval') st.afterReply(() => st.setHeartbeat(Number(value)));
  return 'Accepted';
}
