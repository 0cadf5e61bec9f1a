/** Settings: 1.6 GetConfiguration / ChangeConfiguration, 2.0.1 GetVariables / SetVariables (mapped onto the same settings). */
import type { V201 } from '@csms/ocpp';
import { changeSetting, COMPONENTS_201, CONFIG_DEFAULTS, VARIABLES_201 } from '../settings';
import type { Command } from './command';

export const getConfiguration16: Command<'ocpp1.6', 'GetConfiguration'> = (st, req) => {
  const keys = req.key;
  const wanted = keys && keys.length ? keys : [...st.config.keys()].filter((k) => k in CONFIG_DEFAULTS);
  const configurationKey = wanted
    .filter((k) => st.config.has(k))
    .map((k) => ({ key: k, readonly: st.config.get(k)!.readonly, value: st.config.get(k)!.value }));
  const unknownKey = wanted.filter((k) => !st.config.has(k));
  return { configurationKey, ...(unknownKey.length ? { unknownKey } : {}) };
};

export const changeConfiguration16: Command<'ocpp1.6', 'ChangeConfiguration'> = (st, req) => ({
  status: changeSetting(st, req.key, req.value),
});

type VariableRef = Pick<V201.GetVariableDataType, 'component' | 'variable' | 'attributeType'>;

/** The setting a 2.0.1 variable maps onto, or the attribute status that refuses it. */
function lookup(
  st: { config: Map<string, unknown> },
  d: VariableRef,
): { key: string } | { refused: 'UnknownVariable' | 'UnknownComponent' | 'NotSupportedAttributeType' } {
  const key = VARIABLES_201[`${d.component.name}/${d.variable.name}`];
  if (!key || !st.config.has(key))
    return { refused: COMPONENTS_201.has(d.component.name) ? 'UnknownVariable' : 'UnknownComponent' };
  if (d.attributeType && d.attributeType !== 'Actual') return { refused: 'NotSupportedAttributeType' };
  return { key };
}

function base(d: VariableRef): VariableRef {
  return {
    component: d.component,
    variable: d.variable,
    ...(d.attributeType ? { attributeType: d.attributeType } : {}),
  };
}

export const getVariables201: Command<'ocpp2.0.1', 'GetVariables'> = (st, req) => ({
  getVariableResult: req.getVariableData.map((d) => {
    const found = lookup(st, d);
    if ('refused' in found) return { ...base(d), attributeStatus: found.refused };
    return { ...base(d), attributeStatus: 'Accepted' as const, attributeValue: st.config.get(found.key)!.value };
  }) as V201.GetVariablesResponse['getVariableResult'],
});

export const setVariables201: Command<'ocpp2.0.1', 'SetVariables'> = (st, req) => ({
  setVariableResult: req.setVariableData.map((d) => {
    const found = lookup(st, d);
    if ('refused' in found) return { ...base(d), attributeStatus: found.refused };
    const s = changeSetting(st, found.key, d.attributeValue);
    return { ...base(d), attributeStatus: s === 'Accepted' ? ('Accepted' as const) : ('Rejected' as const) };
  }) as V201.SetVariablesResponse['setVariableResult'],
});
