import type { OcppActionOf, OcppRequest, OcppResponse } from '@csms/ocpp';
import type { Protocol, StationCore } from '../types';

/** The station's answer to one CSMS-initiated action, typed by the action's generated request and response. */
export type Command<P extends Protocol, A extends OcppActionOf<P>> = (
  st: StationCore,
  request: OcppRequest<P, A>,
) => OcppResponse<P, A>;

/** The commands a station of a version answers, by action. */
export type CommandTable<P extends Protocol> = { readonly [A in OcppActionOf<P>]?: Command<P, A> };
