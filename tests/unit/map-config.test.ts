import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const load = (env: Record<string, string> = {}) =>
  loadConfig({ DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-map-')), ...env });

describe('the map tile setting', () => {
  it(
    'uses OpenStreetMap’s tiles with their attribution when nothing is configured, ' +
      'and admits their origin as an image source',
    () => {
      const c = load();
      expect(c.mapTileUrl).toBe('https://tile.openstreetmap.org/{z}/{x}/{y}.png');
      expect(c.mapTileOrigin).toBe('https://tile.openstreetmap.org');
      expect(c.mapTileAttribution).toBe('© OpenStreetMap contributors');
    },
  );

  it('turns the tiles off with "none" or an empty value', () => {
    for (const value of ['none', '', '  '])
      expect(load({ MAP_TILE_URL: value })).toMatchObject({ mapTileUrl: null, mapTileOrigin: null });
  });

  it('takes another server, with {s} as the first part of its host, or a path on the app itself', () => {
    expect(load({ MAP_TILE_URL: 'https://{s}.tiles.example.com/base/{z}/{x}/{y}.png' })).toMatchObject({
      mapTileOrigin: 'https://*.tiles.example.com',
      mapTileAttribution: '',
    });
    expect(
      load({ MAP_TILE_URL: 'http://127.0.0.1:8080/{z}/{x}/{y}.png', MAP_TILE_ATTRIBUTION: 'Our maps' }),
    ).toMatchObject({ mapTileOrigin: 'http://127.0.0.1:8080', mapTileAttribution: 'Our maps' });
    expect(load({ MAP_TILE_URL: '/tiles/{z}/{x}/{y}.png' })).toMatchObject({
      mapTileUrl: '/tiles/{z}/{x}/{y}.png',
      mapTileOrigin: null,
    });
  });

  it('refuses a template it cannot use, naming the variable', () => {
    expect(() => load({ MAP_TILE_URL: 'ftp://tiles.example.com/{z}/{x}/{y}.png' })).toThrow(ConfigError);
    expect(() => load({ MAP_TILE_URL: 'https://tiles.example.com/{z}/{x}.png' })).toThrow(
      /^Invalid MAP_TILE_URL=.*\{z\}, \{x\} and \{y\}/,
    );
    expect(() => load({ MAP_TILE_URL: 'https://tiles.{s}.example.com/{z}/{x}/{y}.png' })).toThrow(
      /first part of the host/,
    );
  });
});
