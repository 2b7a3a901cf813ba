import type { Trx } from '../db/index.js';
import { demoId } from './data.js';

/**
 * A day's track behind each demo asset's last location (24 hourly positions drifting towards it),
 * as the ingestion API would have received them; and the demo provider's Help links.
 */
export async function seedDemoLocations(trx: Trx): Promise<void> {
  const tenantId = demoId('tenant:demo');
  await trx.raw(
    `insert into asset_locations (tenant_id, asset_id, recorded_at, latitude, longitude)
     select a.tenant_id, a.id, a.last_located_at - make_interval(hours => h),
            greatest(-90, least(90, a.last_latitude - h * 0.002)),
            greatest(-180, least(180, a.last_longitude + h * 0.003))
       from assets a, generate_series(0, 23) as h
      where a.tenant_id = ? and a.last_located_at is not null
        and a.last_latitude is not null and a.last_longitude is not null
     on conflict do nothing`,
    [tenantId],
  );
  await trx('tenant_help_links').insert({
    tenant_id: tenantId,
    documentation_url: 'https://docs.example.com/demo-telematics',
    status_page_url: 'https://status.example.com/demo-telematics',
    chat_url: null,
    tracking_url: 'https://tracking.example.com/',
  });
}
