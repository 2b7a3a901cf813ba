/**
 * A site's geofence: one GeoJSON polygon (outer ring only), pasted by staff or sent by another system.
 * Pure rules, no database: parse the text, check that the ring is closed, does not cross itself and
 * has a sane size, and give back the polygon with its bounding box.
 */

export type Position = [number, number]; // [longitude, latitude], GeoJSON's order
export type GeofencePolygon = { type: 'Polygon'; coordinates: [Position[]] };
export type BoundingBox = { minLatitude: number; minLongitude: number; maxLatitude: number; maxLongitude: number };
export type Geofence = { polygon: GeofencePolygon; bbox: BoundingBox; areaSquareMetres: number };
export type GeofenceResult = { ok: true; geofence: Geofence } | { ok: false; message: string };

/** A building plot is a few hundred square metres; a geofence smaller than 10 m² is a typo. */
export const MIN_AREA_M2 = 10;
/** Larger than 100 km² (or 1 degree across) is not a site but a region. */
export const MAX_AREA_M2 = 100_000_000;
export const MAX_SPAN_DEGREES = 1;
export const MAX_POINTS = 1000;
const EARTH_RADIUS_M = 6_371_008.8;

const fail = (message: string): GeofenceResult => ({ ok: false, message });

/** Accepts a Polygon, a Feature holding one, or a FeatureCollection of exactly one such Feature. */
function polygonOf(value: unknown): unknown[] | string {
  if (!value || typeof value !== 'object') return 'Paste a GeoJSON polygon.';
  const v = value as { type?: unknown; geometry?: unknown; features?: unknown; coordinates?: unknown };
  if (v.type === 'FeatureCollection') {
    if (!Array.isArray(v.features) || v.features.length !== 1)
      return 'A feature collection must hold exactly one polygon.';
    return polygonOf(v.features[0]);
  }
  if (v.type === 'Feature') return polygonOf(v.geometry);
  if (v.type !== 'Polygon')
    return `The geofence must be a Polygon, not ${typeof v.type === 'string' ? `a ${v.type.slice(0, 30)}` : 'this'}.`;
  if (!Array.isArray(v.coordinates) || v.coordinates.length === 0) return 'The polygon has no coordinates.';
  if (v.coordinates.length > 1) return 'The polygon may have only an outer ring, no holes.';
  return v.coordinates[0] as unknown[];
}

function isPosition(p: unknown): p is Position {
  return (
    Array.isArray(p) &&
    (p.length === 2 || p.length === 3) &&
    p.every((n) => typeof n === 'number' && Number.isFinite(n))
  );
}

/** Twice the signed area of triangle a-b-c in the plane: its sign says on which side of a-b c lies. */
const cross = (a: Position, b: Position, c: Position) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);

const onSegment = (a: Position, b: Position, p: Position) =>
  Math.min(a[0], b[0]) <= p[0] &&
  p[0] <= Math.max(a[0], b[0]) &&
  Math.min(a[1], b[1]) <= p[1] &&
  p[1] <= Math.max(a[1], b[1]);

/** Whether segments a-b and c-d share any point (touching counts). */
export function segmentsIntersect(a: Position, b: Position, c: Position, d: Position): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return (
    (d1 === 0 && onSegment(c, d, a)) ||
    (d2 === 0 && onSegment(c, d, b)) ||
    (d3 === 0 && onSegment(a, b, c)) ||
    (d4 === 0 && onSegment(a, b, d))
  );
}

/** The first two edges of a closed ring that cross or touch, other than neighbours meeting at their shared corner. */
export function firstSelfIntersection(ring: Position[]): [number, number] | null {
  const edges = ring.length - 1;
  for (let i = 0; i < edges; i++) {
    for (let j = i + 1; j < edges; j++) {
      const neighbours = j === i + 1 || (i === 0 && j === edges - 1);
      if (neighbours) {
        // neighbours share one corner; they still overlap when the second folds back along the first
        const [shared, p, q] =
          j === i + 1 ? [ring[j]!, ring[i]!, ring[j + 1]!] : [ring[0]!, ring[1]!, ring[edges - 1]!];
        const dot = (p[0] - shared[0]) * (q[0] - shared[0]) + (p[1] - shared[1]) * (q[1] - shared[1]);
        if (cross(shared, p, q) === 0 && dot > 0) return [i, j];
        continue;
      }
      if (segmentsIntersect(ring[i]!, ring[i + 1]!, ring[j]!, ring[j + 1]!)) return [i, j];
    }
  }
  return null;
}

/** Area in square metres, on a plane projected at the ring's middle latitude (plenty at site scale). */
export function ringAreaSquareMetres(ring: Position[]): number {
  const midLat = ((Math.min(...ring.map((p) => p[1])) + Math.max(...ring.map((p) => p[1]))) / 2) * (Math.PI / 180);
  const x = (p: Position) => p[0] * (Math.PI / 180) * EARTH_RADIUS_M * Math.cos(midLat);
  const y = (p: Position) => p[1] * (Math.PI / 180) * EARTH_RADIUS_M;
  let twice = 0;
  for (let i = 0; i < ring.length - 1; i++) twice += x(ring[i]!) * y(ring[i + 1]!) - x(ring[i + 1]!) * y(ring[i]!);
  return Math.abs(twice) / 2;
}

export function boundingBox(ring: Position[]): BoundingBox {
  const lats = ring.map((p) => p[1]);
  const lngs = ring.map((p) => p[0]);
  return {
    minLatitude: Math.min(...lats),
    minLongitude: Math.min(...lngs),
    maxLatitude: Math.max(...lats),
    maxLongitude: Math.max(...lngs),
  };
}

/** Checks a geofence given as a parsed GeoJSON value. */
export function validateGeofence(value: unknown): GeofenceResult {
  const ring = polygonOf(value);
  if (typeof ring === 'string') return fail(ring);
  if (ring.length < 4)
    return fail('The ring needs at least 4 positions: 3 corners and the first one again to close it.');
  if (ring.length > MAX_POINTS)
    return fail(`The ring has ${ring.length} positions; at most ${MAX_POINTS} are allowed.`);
  const bad = ring.findIndex((p) => !isPosition(p));
  if (bad >= 0) return fail(`Position ${bad + 1} is not a pair of numbers [longitude, latitude].`);
  const positions = (ring as Position[]).map((p) => [p[0], p[1]] as Position);
  const out = positions.findIndex(([lng, lat]) => lng < -180 || lng > 180 || lat < -90 || lat > 90);
  if (out >= 0)
    return fail(
      `Position ${out + 1} is off the globe: longitude runs from -180 to 180 and latitude from -90 to 90 ` +
        '(GeoJSON puts longitude first).',
    );
  const first = positions[0]!;
  const last = positions[positions.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1])
    return fail('The ring is not closed: its last position must repeat the first.');
  const repeated = positions.findIndex(
    (p, i) => i > 0 && p[0] === positions[i - 1]![0] && p[1] === positions[i - 1]![1],
  );
  if (repeated >= 0) return fail(`Position ${repeated + 1} repeats the one before it.`);
  if (new Set(positions.slice(0, -1).map((p) => `${p[0]},${p[1]}`)).size < 3)
    return fail('The ring needs at least 3 different corners.');
  const crossing = firstSelfIntersection(positions);
  if (crossing) return fail(`The outline crosses itself: edges ${crossing[0] + 1} and ${crossing[1] + 1} meet.`);
  const bbox = boundingBox(positions);
  if (
    bbox.maxLatitude - bbox.minLatitude > MAX_SPAN_DEGREES ||
    bbox.maxLongitude - bbox.minLongitude > MAX_SPAN_DEGREES
  ) {
    return fail(`The geofence spans more than ${MAX_SPAN_DEGREES} degree; a site is far smaller.`);
  }
  const area = ringAreaSquareMetres(positions);
  if (area < MIN_AREA_M2)
    return fail(`The geofence covers ${area.toFixed(1)} m²; it must cover at least ${MIN_AREA_M2} m².`);
  if (area > MAX_AREA_M2)
    return fail(`The geofence covers ${(area / 1e6).toFixed(1)} km²; at most ${MAX_AREA_M2 / 1e6} km² is allowed.`);
  return {
    ok: true,
    geofence: { polygon: { type: 'Polygon', coordinates: [positions] }, bbox, areaSquareMetres: area },
  };
}

/** Checks a geofence pasted as text. */
export function parseGeofence(text: string): GeofenceResult {
  const trimmed = text.trim();
  if (!trimmed) return fail('Paste the geofence as a GeoJSON polygon.');
  if (trimmed.length > 200_000) return fail('The geofence text is too long.');
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return fail(
      'This is not valid JSON. Paste a GeoJSON polygon such as {"type": "Polygon", "coordinates": [[[lng, lat], …]]}.',
    );
  }
  return validateGeofence(value);
}
