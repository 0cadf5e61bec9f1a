/** The local authorisation list: ClearCache, SendLocalList (its version kept), GetLocalListVersion. */
import type { Command } from './command';

export const clearCache16: Command<'ocpp1.6', 'ClearCache'> = () => ({ status: 'Accepted' });
export const clearCache201: Command<'ocpp2.0.1', 'ClearCache'> = () => ({ status: 'Accepted' });

export const sendLocalList16: Command<'ocpp1.6', 'SendLocalList'> = (st, req) => {
  st.localListVersion = req.listVersion;
  return { status: 'Accepted' };
};
export const sendLocalList201: Command<'ocpp2.0.1', 'SendLocalList'> = (st, req) => {
  st.localListVersion = req.versionNumber;
  return { status: 'Accepted' };
};

export const getLocalListVersion16: Command<'ocpp1.6', 'GetLocalListVersion'> = (st) => ({
  listVersion: st.localListVersion,
});
export const getLocalListVersion201: Command<'ocpp2.0.1', 'GetLocalListVersion'> = (st) => ({
  versionNumber: st.localListVersion,
});
