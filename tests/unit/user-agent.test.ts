import { describe, expect, it } from 'vitest';
import { formatDateTime, isTimeZone } from '../../src/services/platform/time-format.js';
import { describeUserAgent } from '../../src/services/people/user-agent.js';

describe('the device shown for a session', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
        'Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge on Windows',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome on Linux',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) ' +
        'Version/17.5 Safari/605.1.15',
      'Safari on macOS',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) ' +
        'Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) ' +
        'Chrome/131.0.0.0 Mobile Safari/537.36',
      'Chrome on Android',
    ],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Windows'],
    ['curl/8.5.0', 'curl/8.5.0'],
    [null, 'Unknown device'],
  ])('names %s as "%s"', (ua, expected) => {
    expect(describeUserAgent(ua)).toBe(expected);
  });
});

describe('time zones', () => {
  it('accepts listed zones, UTC and other names of listed zones, and nothing else', () => {
    expect(['UTC', 'Europe/London', 'Asia/Tokyo', 'Asia/Kolkata'].every(isTimeZone)).toBe(true);
    expect(['Mars/Olympus_Mons', '', 'Europe/London; drop table', 'local'].some(isTimeZone)).toBe(false);
  });

  it("shows the same moment in the viewer's zone", () => {
    const t = new Date('2026-11-24T09:00:00Z');
    expect(formatDateTime(t, 'UTC')).toBe('24 Nov 2026, 09:00 UTC');
    expect(formatDateTime(t, 'Asia/Tokyo')).toBe('24 Nov 2026, 18:00 GMT+9');
    expect(formatDateTime(null, 'UTC')).toBe('');
  });
});
