import { ISO_3166_ALPHA3, type OcpiConnectorType, type OcpiPowerType } from '@csms/contracts';

/**
 * The registry's checks of a station's location and connectors beyond their JSON shape (the schema already
 * holds OCPI's field lengths, enums and the GeoLocation regexes): a country code that is really assigned,
 * coordinates inside WGS 84's range, unique EVSE and connector ids, and a power type the connector standard
 * can carry. Each problem names its field as a JSON pointer relative to the station body.
 */
export interface LocationProblem {
  field: string;
  message: string;
}

interface ConnectorLike {
  connectorId: number;
  standard?: OcpiConnectorType;
  power_type?: OcpiPowerType;
}
interface EvseLike {
  evseId: number;
  connectors: readonly ConnectorLike[];
}
interface LocationLike {
  id?: string;
  country: string;
  coordinates: { latitude: string; longitude: string };
}

/** Standards that only carry direct current, and those that only carry alternating current. */
const DC_ONLY: ReadonlySet<OcpiConnectorType> = new Set<OcpiConnectorType>([
  'CHADEMO',
  'CHAOJI',
  'GBT_DC',
  'IEC_62196_T1_COMBO',
  'IEC_62196_T2_COMBO',
  'PANTOGRAPH_BOTTOM_UP',
  'PANTOGRAPH_TOP_DOWN',
]);
const AC_ONLY_PREFIXES = ['DOMESTIC_', 'NEMA_', 'IEC_60309_'];
const AC_ONLY: ReadonlySet<OcpiConnectorType> = new Set<OcpiConnectorType>([
  'GBT_AC',
  'IEC_62196_T1',
  'IEC_62196_T3A',
  'IEC_62196_T3C',
]);

function acOnly(standard: OcpiConnectorType): boolean {
  return AC_ONLY.has(standard) || AC_ONLY_PREFIXES.some((p) => standard.startsWith(p));
}

/** OCPI Location.id is at most 36 characters (CiString(36) in a CDR). */
export const OCPI_LOCATION_ID_MAX = 36;

/**
 * The OCPI location id of a station's location when the operator gives none: its site id, else its station
 * id (what CDRs carried as `cdr_location.id` before locations were registered, so the id does not change).
 */
export function defaultLocationId(stationId: string, siteId: string | null, given?: string): string {
  return given ?? siteId ?? stationId;
}

/** Every problem found, in field order (empty: valid). */
export function stationLocationProblems(input: {
  stationId: string;
  siteId?: string | null;
  location?: LocationLike | null;
  evses?: readonly EvseLike[];
}): LocationProblem[] {
  const problems: LocationProblem[] = [];
  const loc = input.location;
  if (loc) {
    if (defaultLocationId(input.stationId, input.siteId ?? null, loc.id).length > OCPI_LOCATION_ID_MAX) {
      problems.push({
        field: '/location/id',
        message: `the site id (or station id) is longer than an OCPI location id (${OCPI_LOCATION_ID_MAX}): give location.id`,
      });
    }
    if (!ISO_3166_ALPHA3.has(loc.country))
      problems.push({
        field: '/location/country',
        message: `${loc.country} is not an ISO 3166-1 alpha-3 country code`,
      });
    const lat = Number(loc.coordinates.latitude);
    if (!(Math.abs(lat) <= 90))
      problems.push({
        field: '/location/coordinates/latitude',
        message: `latitude ${loc.coordinates.latitude} is outside -90 to 90`,
      });
    const lon = Number(loc.coordinates.longitude);
    if (!(Math.abs(lon) <= 180))
      problems.push({
        field: '/location/coordinates/longitude',
        message: `longitude ${loc.coordinates.longitude} is outside -180 to 180`,
      });
  }
  const evseIds = new Set<number>();
  (input.evses ?? []).forEach((evse, i) => {
    if (evseIds.has(evse.evseId))
      problems.push({ field: `/evses/${i}/evseId`, message: `EVSE ${evse.evseId} is listed twice` });
    evseIds.add(evse.evseId);
    const connectorIds = new Set<number>();
    evse.connectors.forEach((c, j) => {
      const at = `/evses/${i}/connectors/${j}`;
      if (connectorIds.has(c.connectorId))
        problems.push({
          field: `${at}/connectorId`,
          message: `connector ${c.connectorId} of EVSE ${evse.evseId} is listed twice`,
        });
      connectorIds.add(c.connectorId);
      if (c.standard && c.power_type) {
        if (DC_ONLY.has(c.standard) && c.power_type !== 'DC')
          problems.push({ field: `${at}/power_type`, message: `${c.standard} carries DC only, not ${c.power_type}` });
        if (acOnly(c.standard) && c.power_type === 'DC')
          problems.push({ field: `${at}/power_type`, message: `${c.standard} carries AC only, not DC` });
      }
    });
  });
  return problems;
}
