import { Type, type Static } from '@sinclair/typebox';
import { closed } from './envelope';
import { stringEnum } from './ocpi-location';

/**
 * The OCPI 2.2.1 Tariff object (Tariffs module §11.3-11.4, EnergyMix §8.4.7-8.4.9) as the catalogue keeps it
 * and as a CDR's `tariffs` carries it: the fields libs/pricing's `validateTariff` knows, no other (the catalogue
 * API refuses unknown fields). An OCPI `number` is a JSON number or a decimal string carrying exact digits; the
 * value rules (bounds, decimals, times of day, dates) are validateTariff's.
 */
const Decimal = Type.String({ pattern: '^-?\\d+(\\.\\d+)?$', maxLength: 40 });
export const OcpiNumberSchema = Type.Union([Type.Number(), Decimal]);

export const OCPI_TARIFF_TYPES = [
  'AD_HOC_PAYMENT',
  'PROFILE_CHEAP',
  'PROFILE_FAST',
  'PROFILE_GREEN',
  'REGULAR',
] as const;
export const OCPI_TARIFF_DIMENSION_TYPES = ['ENERGY', 'FLAT', 'PARKING_TIME', 'TIME'] as const;
export const OCPI_DAYS_OF_WEEK = [
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
  'SUNDAY',
] as const;
export const OCPI_RESERVATION_RESTRICTION_TYPES = ['RESERVATION', 'RESERVATION_EXPIRES'] as const;
export const OCPI_ENERGY_SOURCE_CATEGORIES = [
  'NUCLEAR',
  'GENERAL_FOSSIL',
  'COAL',
  'GAS',
  'GENERAL_GREEN',
  'SOLAR',
  'WIND',
  'WATER',
] as const;
export const OCPI_ENVIRONMENTAL_IMPACT_CATEGORIES = ['NUCLEAR_WASTE', 'CARBON_DIOXIDE'] as const;

export const OcpiDisplayTextSchema = closed({ language: Type.String(), text: Type.String() });
export const OcpiPriceSchema = closed({ excl_vat: OcpiNumberSchema, incl_vat: Type.Optional(OcpiNumberSchema) });

export const OcpiPriceComponentSchema = closed({
  type: stringEnum(OCPI_TARIFF_DIMENSION_TYPES, 'OCPI TariffDimensionType'),
  price: OcpiNumberSchema,
  vat: Type.Optional(OcpiNumberSchema),
  step_size: Type.Integer(),
});

export const OcpiTariffRestrictionsSchema = closed({
  start_time: Type.Optional(Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' })),
  end_time: Type.Optional(Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' })),
  start_date: Type.Optional(Type.String()),
  end_date: Type.Optional(Type.String()),
  min_kwh: Type.Optional(OcpiNumberSchema),
  max_kwh: Type.Optional(OcpiNumberSchema),
  min_current: Type.Optional(OcpiNumberSchema),
  max_current: Type.Optional(OcpiNumberSchema),
  min_power: Type.Optional(OcpiNumberSchema),
  max_power: Type.Optional(OcpiNumberSchema),
  min_duration: Type.Optional(Type.Integer()),
  max_duration: Type.Optional(Type.Integer()),
  day_of_week: Type.Optional(Type.Array(stringEnum(OCPI_DAYS_OF_WEEK, 'OCPI DayOfWeek'))),
  reservation: Type.Optional(stringEnum(OCPI_RESERVATION_RESTRICTION_TYPES, 'OCPI ReservationRestrictionType')),
});

export const OcpiTariffElementSchema = closed({
  price_components: Type.Array(OcpiPriceComponentSchema),
  restrictions: Type.Optional(OcpiTariffRestrictionsSchema),
});

export const OcpiEnergyMixSchema = closed({
  is_green_energy: Type.Boolean(),
  energy_sources: Type.Optional(
    Type.Array(
      closed({
        source: stringEnum(OCPI_ENERGY_SOURCE_CATEGORIES, 'OCPI EnergySourceCategory'),
        percentage: OcpiNumberSchema,
      }),
    ),
  ),
  environ_impact: Type.Optional(
    Type.Array(
      closed({
        category: stringEnum(OCPI_ENVIRONMENTAL_IMPACT_CATEGORIES, 'OCPI EnvironmentalImpactCategory'),
        amount: OcpiNumberSchema,
      }),
    ),
  ),
  supplier_name: Type.Optional(Type.String()),
  energy_product_name: Type.Optional(Type.String()),
});

/** OCPI 2.2.1 Tariff. `country_code`, `party_id` and `last_updated` are optional here: the catalogue takes tariffs without them. */
export const OcpiTariffSchema = closed({
  country_code: Type.Optional(Type.String()),
  party_id: Type.Optional(Type.String()),
  id: Type.String(),
  currency: Type.String(),
  type: Type.Optional(stringEnum(OCPI_TARIFF_TYPES, 'OCPI TariffType')),
  tariff_alt_text: Type.Optional(Type.Array(OcpiDisplayTextSchema)),
  tariff_alt_url: Type.Optional(Type.String()),
  min_price: Type.Optional(OcpiPriceSchema),
  max_price: Type.Optional(OcpiPriceSchema),
  elements: Type.Array(OcpiTariffElementSchema),
  start_date_time: Type.Optional(Type.String()),
  end_date_time: Type.Optional(Type.String()),
  energy_mix: Type.Optional(OcpiEnergyMixSchema),
  last_updated: Type.Optional(Type.String()),
});
export type OcpiTariffDocument = Static<typeof OcpiTariffSchema>;
