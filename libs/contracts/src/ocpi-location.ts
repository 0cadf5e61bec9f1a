import { Type, type Static } from '@sinclair/typebox';
import { closed } from './envelope';

/**
 * The OCPI 2.2.1 vocabulary a CDR's `cdr_location` needs (Locations module: GeoLocation class, ConnectorType,
 * ConnectorFormat and PowerType enums), shared by the registry event, the gateway API and the CDR schema.
 */

/** OCPI 2.2.1 ConnectorType enum. */
export const OCPI_CONNECTOR_TYPES = [
  'CHADEMO',
  'CHAOJI',
  'DOMESTIC_A',
  'DOMESTIC_B',
  'DOMESTIC_C',
  'DOMESTIC_D',
  'DOMESTIC_E',
  'DOMESTIC_F',
  'DOMESTIC_G',
  'DOMESTIC_H',
  'DOMESTIC_I',
  'DOMESTIC_J',
  'DOMESTIC_K',
  'DOMESTIC_L',
  'GBT_AC',
  'GBT_DC',
  'IEC_60309_2_single_16',
  'IEC_60309_2_three_16',
  'IEC_60309_2_three_32',
  'IEC_60309_2_three_64',
  'IEC_62196_T1',
  'IEC_62196_T1_COMBO',
  'IEC_62196_T2',
  'IEC_62196_T2_COMBO',
  'IEC_62196_T3A',
  'IEC_62196_T3C',
  'NEMA_5_20',
  'NEMA_6_30',
  'NEMA_6_50',
  'NEMA_10_30',
  'NEMA_10_50',
  'NEMA_14_30',
  'NEMA_14_50',
  'PANTOGRAPH_BOTTOM_UP',
  'PANTOGRAPH_TOP_DOWN',
  'TESLA_R',
  'TESLA_S',
] as const;
export type OcpiConnectorType = (typeof OCPI_CONNECTOR_TYPES)[number];

/** OCPI 2.2.1 ConnectorFormat enum. */
export const OCPI_CONNECTOR_FORMATS = ['SOCKET', 'CABLE'] as const;
export type OcpiConnectorFormat = (typeof OCPI_CONNECTOR_FORMATS)[number];

/** OCPI 2.2.1 PowerType enum. */
export const OCPI_POWER_TYPES = ['AC_1_PHASE', 'AC_2_PHASE', 'AC_2_PHASE_SPLIT', 'AC_3_PHASE', 'DC'] as const;
export type OcpiPowerType = (typeof OCPI_POWER_TYPES)[number];

/**
 * ISO 3166-1 alpha-3: the 249 officially assigned codes (user-assigned codes such as XKX are not included).
 * OCPI: "ISO 3166-1 alpha-3 code for the country of this location".
 */
export const ISO_3166_ALPHA3: ReadonlySet<string> = new Set(
  (
    'ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE ' +
    'BDI BEL BEN BES BFA BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA ' +
    'CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE ' +
    'DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM ' +
    'GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN ' +
    'IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT ' +
    'LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA ' +
    'MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT ' +
    'NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF ' +
    'QAT REU ROU RUS RWA ' +
    'SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR ' +
    'TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB ' +
    'VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE'
  ).split(' '),
);

/** A string enum as JSON Schema `enum` (one readable ajv error, unlike a union of literals). */
export const stringEnum = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

/** OCPI GeoLocation: WGS 84 decimal degrees as strings; the spec's regexes (ranges are checked by the API). */
export const OcpiLatitude = Type.String({
  maxLength: 10,
  pattern: '^-?[0-9]{1,2}\\.[0-9]{5,7}$',
  description: 'e.g. 52.370216',
});
export const OcpiLongitude = Type.String({
  maxLength: 11,
  pattern: '^-?[0-9]{1,3}\\.[0-9]{5,7}$',
  description: 'e.g. 4.895168',
});
export const OcpiGeoLocation = closed({ latitude: OcpiLatitude, longitude: OcpiLongitude });

/**
 * The location part of OCPI's CdrLocation (and of the Location object), as the registry keeps it per station.
 * Field names and lengths are OCPI's, so it is copied into CDRs as it is.
 */
export const StationLocationSchema = closed({
  /** OCPI Location.id (CiString(36)): stations of one site share it */
  id: Type.String({ minLength: 1, maxLength: 36 }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  address: Type.String({ minLength: 1, maxLength: 45 }),
  city: Type.String({ minLength: 1, maxLength: 45 }),
  postal_code: Type.Optional(Type.String({ minLength: 1, maxLength: 10 })),
  state: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
  /** ISO 3166-1 alpha-3 */
  country: Type.String({ pattern: '^[A-Z]{3}$' }),
  coordinates: OcpiGeoLocation,
});
export type StationLocation = Static<typeof StationLocationSchema>;

/** What the registry knows of one connector: its id and the OCPI Connector fields a CDR needs (all optional). */
export const RegistryConnectorSchema = closed({
  connectorId: Type.Integer({ minimum: 1 }),
  standard: Type.Optional(stringEnum(OCPI_CONNECTOR_TYPES, 'OCPI ConnectorType')),
  format: Type.Optional(stringEnum(OCPI_CONNECTOR_FORMATS, 'OCPI ConnectorFormat')),
  power_type: Type.Optional(stringEnum(OCPI_POWER_TYPES, 'OCPI PowerType')),
  max_voltage: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  max_amperage: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  max_electric_power: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
});
export type RegistryConnector = Static<typeof RegistryConnectorSchema>;

/** eMI3 EVSE ID ("Part 2: business objects"): country, operator id, `E`, the power outlet id; `*` separators optional. */
export const EMI3_EVSE_ID_PATTERN = '^[A-Z]{2}\\*?[A-Z0-9]{3}\\*?E[A-Z0-9*]{1,30}$';

export const RegistryEvseSchema = closed({
  evseId: Type.Integer({ minimum: 1 }),
  /** the operator's eMI3 EVSE ID (e.g. NL*CSM*E1234*1); a CDR's evse_id when set */
  emi3EvseId: Type.Optional(Type.String({ maxLength: 48, pattern: EMI3_EVSE_ID_PATTERN })),
  connectors: Type.Array(RegistryConnectorSchema),
});
export type RegistryEvse = Static<typeof RegistryEvseSchema>;
