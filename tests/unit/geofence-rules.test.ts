import { describe, expect, it } from 'vitest';
import {
  parseGeofence,
  ringAreaSquareMetres,
  validateGeofence,
  type Position,
} from '../../src/services/sites/geofence-rules.js';

// a yard in Manchester, about 100 m by 110 m
const yard: Position[] = [
  [-2.244, 53.48],
  [-2.2425, 53.48],
  [-2.2425, 53.481],
  [-2.244, 53.481],
  [-2.244, 53.48],
];
const polygon = (ring: unknown[]) => ({ type: 'Polygon', coordinates: [ring] });
const message = (value: unknown) => {
  const r = validateGeofence(value);
  return r.ok ? null : r.message;
};

describe('geofence validation', () => {
  it('accepts a closed, simple ring and gives its bounding box and area', () => {
    const r = validateGeofence(polygon(yard));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.geofence.bbox).toEqual({
      minLatitude: 53.48,
      minLongitude: -2.244,
      maxLatitude: 53.481,
      maxLongitude: -2.2425,
    });
    // 0.0015° of longitude at 53.48° N is about 99 m, 0.001° of latitude about 111 m
    expect(r.geofence.areaSquareMetres).toBeGreaterThan(10_500);
    expect(r.geofence.areaSquareMetres).toBeLessThan(11_500);
  });

  it('accepts a Feature or a one-feature FeatureCollection, and drops altitudes', () => {
    const feature = { type: 'Feature', properties: {}, geometry: polygon(yard.map(([x, y]) => [x, y, 40])) };
    expect(validateGeofence(feature).ok).toBe(true);
    expect(validateGeofence({ type: 'FeatureCollection', features: [feature] }).ok).toBe(true);
    expect(message({ type: 'FeatureCollection', features: [feature, feature] })).toMatch(/exactly one polygon/);
  });

  it('refuses a ring that is not closed', () => {
    expect(message(polygon(yard.slice(0, -1)))).toMatch(/not closed/);
  });

  it('refuses a ring that crosses itself (a bow tie), or folds back along an edge', () => {
    const bowTie = [
      [-2.244, 53.48],
      [-2.2425, 53.481],
      [-2.2425, 53.48],
      [-2.244, 53.481],
      [-2.244, 53.48],
    ];
    expect(message(polygon(bowTie))).toMatch(/crosses itself/);
    const spike = [
      [-2.244, 53.48],
      [-2.2425, 53.48],
      [-2.2425, 53.481],
      [-2.2425, 53.4805],
      [-2.244, 53.481],
      [-2.244, 53.48],
    ];
    expect(message(polygon(spike))).toMatch(/crosses itself/);
  });

  it('refuses too few corners, repeated positions, holes and other geometry types', () => {
    expect(
      message(
        polygon([
          [-2.244, 53.48],
          [-2.2425, 53.48],
          [-2.244, 53.48],
        ]),
      ),
    ).toMatch(/at least 4 positions/);
    expect(message(polygon([yard[0], yard[1], yard[1], yard[2], yard[0]]))).toMatch(/repeats the one before/);
    expect(message({ type: 'Polygon', coordinates: [yard, yard] })).toMatch(/no holes/);
    expect(message({ type: 'Point', coordinates: [-2.24, 53.48] })).toMatch(/must be a Polygon, not a Point/);
  });

  it('refuses positions off the globe, reminding that longitude comes first', () => {
    expect(message(polygon(yard.map(([x, y]) => [y, x * 100])))).toMatch(/longitude first/);
    expect(message(polygon([[1, 'a'], ...yard]))).toMatch(/Position 1 is not a pair of numbers/);
  });

  it('refuses a geofence too small or too large to be a site', () => {
    const tiny = [
      [0, 0],
      [0.00001, 0],
      [0.00001, 0.00001],
      [0, 0.00001],
      [0, 0],
    ];
    expect(ringAreaSquareMetres(tiny as Position[])).toBeLessThan(10);
    expect(message(polygon(tiny))).toMatch(/at least 10 m²/);
    expect(
      message(
        polygon([
          [0, 0],
          [2, 0],
          [2, 2],
          [0, 2],
          [0, 0],
        ]),
      ),
    ).toMatch(/more than 1 degree/);
    expect(
      message(
        polygon([
          [0, 0],
          [0.99, 0],
          [0.99, 0.99],
          [0, 0.99],
          [0, 0],
        ]),
      ),
    ).toMatch(/at most 100 km²/);
  });

  it('explains text that is not JSON, or is empty', () => {
    expect(parseGeofence('')).toEqual({ ok: false, message: 'Paste the geofence as a GeoJSON polygon.' });
    const r = parseGeofence('{"type": "Polygon", coordinates');
    expect(r.ok ? '' : r.message).toMatch(/not valid JSON/);
    expect(parseGeofence(JSON.stringify(polygon(yard))).ok).toBe(true);
  });
});
