import { createHmac } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import type { Db, Trx } from '../db/index.js';
import { demoId } from './data.js';
import { boundingBox, LIVE_VIEW_PERMISSIONS, loginLinkExpiry, type Position } from '../services/sites/index.js';
import { addDays, type Day } from '../services/assets/index.js';
import { hashToken } from '../services/platform/index.js';

/**
 * Demo sites around Manchester with real-looking geofences, a month of service visits with small
 * generated pictures, Northwind's portal access (on, every Live View permission) and its site viewer
 * with two sites: one serviced in the last 7 days (green on the map), one not since (grey).
 */

type SiteSeed = {
  key: string;
  customer: string;
  name: string;
  address: string;
  centre: Position;
  size: [number, number];
  turn: number;
  everyDays: number;
  lastDaysAgo: number;
};

const SITES: SiteSeed[] = [
  {
    key: 'trafford',
    customer: 'northwind',
    name: 'Trafford Park Depot',
    address: 'Westinghouse Road, Trafford Park, Manchester M17 1PG',
    centre: [-2.3172, 53.4695],
    size: [260, 170],
    turn: 18,
    everyDays: 2,
    lastDaysAgo: 1,
  },
  {
    key: 'piccadilly',
    customer: 'northwind',
    name: 'Piccadilly Yard',
    address: 'Ducie Street, Manchester M1 2JW',
    centre: [-2.2302, 53.4781],
    size: [120, 80],
    turn: -25,
    everyDays: 3,
    lastDaysAgo: 10,
  },
  {
    key: 'salford',
    customer: 'northwind',
    name: 'Salford Quays Warehouse',
    address: 'South Langworthy Road, Salford M50 2PW',
    centre: [-2.2873, 53.4712],
    size: [180, 110],
    turn: 40,
    everyDays: 4,
    lastDaysAgo: 2,
  },
  {
    key: 'ancoats',
    customer: 'northwind',
    name: 'Ancoats Mill',
    address: 'Redhill Street, Manchester M4 5BA',
    centre: [-2.2268, 53.4837],
    size: [90, 60],
    turn: 12,
    everyDays: 5,
    lastDaysAgo: 3,
  },
  {
    key: 'stockport',
    customer: 'northwind-south',
    name: 'Stockport Cross-dock',
    address: 'Bredbury Park Way, Stockport SK6 2SN',
    centre: [-2.1263, 53.4229],
    size: [300, 200],
    turn: -10,
    everyDays: 3,
    lastDaysAgo: 1,
  },
  {
    key: 'bolton',
    customer: 'acme',
    name: 'Acme Bolton Works',
    address: 'Lostock Lane, Bolton BL6 4BL',
    centre: [-2.5118, 53.5656],
    size: [220, 140],
    turn: 30,
    everyDays: 4,
    lastDaysAgo: 2,
  },
];

const SERVICES = ['Waste collection', 'Grounds maintenance', 'Window cleaning', 'Gritting'];
const VEHICLES = ['MX71 KLT', 'MV19 RTA', 'YH68 ZPE', 'SF70 NWD'];
const COLOURS: [number, number, number][] = [
  [46, 125, 50],
  [21, 101, 192],
  [239, 108, 0],
  [120, 144, 156],
];

/** A hexagon-ish outline of `size` metres, turned by `turn` degrees: less boxy than a rectangle. */
function outline(site: SiteSeed): Position[] {
  const [lng, lat] = site.centre;
  const mPerDegLat = 111_320;
  const mPerDegLng = 111_320 * Math.cos((lat * Math.PI) / 180);
  const [w, h] = site.size;
  const corners: [number, number][] = [
    [-w / 2, -h / 2],
    [w / 6, -h / 2],
    [w / 2, -h / 4],
    [w / 2, h / 2],
    [-w / 4, h / 2],
    [-w / 2, h / 5],
  ];
  const a = (site.turn * Math.PI) / 180;
  const ring = corners.map(([x, y]) => {
    const rx = x * Math.cos(a) - y * Math.sin(a);
    const ry = x * Math.sin(a) + y * Math.cos(a);
    return [Number((lng + rx / mPerDegLng).toFixed(6)), Number((lat + ry / mPerDegLat).toFixed(6))] as Position;
  });
  return [...ring, ring[0]!];
}

/** A small PNG (64×48) in one colour with a lighter band: enough to show where a picture goes. */
export function demoPicture(rgb: [number, number, number], band: number): Buffer {
  const width = 64;
  const height = 48;
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const light = Math.abs(x - ((band * 11) % width)) < 6 || y > height - 8;
      const [r, g, b] = light ? rgb.map((c) => Math.min(255, c + 90)) : rgb;
      row.set([r!, g!, b!], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body) >>> 0, 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export async function seedDemoSites(trx: Trx, today: Day): Promise<void> {
  const tenantId = demoId('tenant:demo');
  await trx('services').insert(SERVICES.map((name) => ({ tenant_id: tenantId, id: demoId(`service:${name}`), name })));
  for (const s of SITES) {
    const ring = outline(s);
    const bbox = boundingBox(ring);
    await trx('sites').insert({
      tenant_id: tenantId,
      id: demoId(`site:${s.key}`),
      customer_id: demoId(`customer:${s.customer}`),
      name: s.name,
      address: s.address,
      geofence: JSON.stringify({ type: 'Polygon', coordinates: [ring] }),
      min_latitude: bbox.minLatitude,
      min_longitude: bbox.minLongitude,
      max_latitude: bbox.maxLatitude,
      max_longitude: bbox.maxLongitude,
    });
  }
  const visits: Record<string, unknown>[] = [];
  const pictures: Record<string, unknown>[] = [];
  SITES.forEach((s, si) => {
    for (let daysAgo = 30, n = 0; daysAgo >= s.lastDaysAgo; daysAgo -= s.everyDays, n++) {
      const id = demoId(`visit:${s.key}:${n}`);
      const serviceIndex = (si + n) % SERVICES.length;
      const day = addDays(today, -daysAgo);
      const start = new Date(`${day}T07:00:00Z`);
      start.setUTCMinutes(15 * ((si + n) % 8));
      const completed = n % 7 !== 5;
      visits.push({
        tenant_id: tenantId,
        id,
        site_id: demoId(`site:${s.key}`),
        service_id: demoId(`service:${SERVICES[serviceIndex]}`),
        vehicle: VEHICLES[(si + n * 3) % VEHICLES.length],
        started_at: start,
        ended_at: new Date(start.getTime() + (25 + 10 * (n % 5)) * 60_000),
        completed,
        notes: completed ? null : 'Gate locked on arrival',
        source: 'demo',
      });
      if (completed && n % 3 === 0) {
        const bytes = demoPicture(COLOURS[serviceIndex]!, n);
        pictures.push({
          tenant_id: tenantId,
          site_id: demoId(`site:${s.key}`),
          visit_id: id,
          content_type: 'image/png',
          byte_size: bytes.length,
          bytes,
          caption: `${SERVICES[serviceIndex]} at ${s.name}, ${day}`,
        });
      }
    }
    for (const k of [0, 1]) {
      const bytes = demoPicture([90 + si * 20, 110, 130 - k * 30], k + si);
      pictures.push({
        tenant_id: tenantId,
        site_id: demoId(`site:${s.key}`),
        visit_id: null,
        content_type: 'image/png',
        byte_size: bytes.length,
        bytes,
        caption: k ? `Entrance of ${s.name}` : `${s.name} from the road`,
      });
    }
  });
  await trx('service_visits').insert(visits);
  await trx('pictures').insert(pictures);
  await trx('portal_access').insert({
    tenant_id: tenantId,
    customer_id: demoId('customer:northwind'),
    enabled: true,
    ...Object.fromEntries(LIVE_VIEW_PERMISSIONS.map((p) => [p, true])),
  });
  await trx('membership_sites').insert(
    ['trafford', 'piccadilly'].map((k) => ({
      tenant_id: tenantId,
      membership_id: demoId('membership:sites@northwind.test'),
      site_id: demoId(`site:${k}`),
    })),
  );
}

export const DEMO_SITE_VIEWER = 'sites@northwind.test';

/**
 * The demo site viewer's login link, printed at start. Its token is derived from the session secret,
 * so every start of the same deployment prints the same link without keeping the raw token anywhere.
 * Created once; after staff refresh or disable it, the printed link is gone for good (null).
 */
export async function demoLoginLink(db: Db, secret: string, baseUrl: string, now: Date): Promise<string | null> {
  const userId = demoId(`user:${DEMO_SITE_VIEWER}`);
  const token = createHmac('sha256', secret).update(`portico-demo-login-link:${userId}`).digest('base64url');
  const existing = (await db('user_tokens')
    .where({ user_id: userId, purpose: 'login_link' })
    .select('token_hash', 'revoked_at', 'expires_at')) as {
    token_hash: Buffer;
    revoked_at: Date | null;
    expires_at: Date;
  }[];
  if (!existing.length) {
    if (!(await db('users').where({ id: userId }).first('id'))) return null;
    // instances that start together all make the same link: the first insert wins, the others find it made
    await db('user_tokens')
      .insert({
        user_id: userId,
        tenant_id: demoId('tenant:demo'),
        purpose: 'login_link',
        token_hash: hashToken(token),
        created_at: now,
        expires_at: loginLinkExpiry(now),
      })
      .onConflict('token_hash')
      .ignore();
    return `${baseUrl}/link/${token}`;
  }
  const ours = existing.find((t) => t.token_hash.equals(hashToken(token)));
  return ours && !ours.revoked_at && ours.expires_at > now ? `${baseUrl}/link/${token}` : null;
}
