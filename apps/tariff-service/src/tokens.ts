/** Nest injection tokens of the tariff service. */
export const TARIFF_CONFIG = Symbol('tariff-config');
