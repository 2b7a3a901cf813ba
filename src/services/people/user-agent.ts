import { english, msg, type Msg } from '../platform/i18n.js';

/** A short, human summary of a User-Agent header ("Firefox on Windows") for the sessions list, in English. */
export function describeUserAgent(ua: string | null | undefined): string {
  return english.t(deviceOf(ua));
}

/** The same summary as a message, translated where it is shown. */
export function deviceOf(ua: string | null | undefined): Msg {
  if (!ua?.trim()) return msg('Unknown device');
  const browser = browserOf(ua);
  const os = osOf(ua);
  if (browser && os) return msg('{browser} on {os}', { browser, os });
  if (browser ?? os) return (browser ?? os)!;
  // the header as it is, never read as a message
  return msg('{text}', { text: ua.length > 60 ? `${ua.slice(0, 57)}…` : ua });
}

function browserOf(ua: string): string | null {
  if (/\bEdg(e|A|iOS)?\//.test(ua)) return 'Edge';
  if (/\b(OPR|Opera)\//.test(ua)) return 'Opera';
  if (/\b(Firefox|FxiOS)\//.test(ua)) return 'Firefox';
  if (/\bHeadlessChrome\//.test(ua)) return 'Chrome (headless)';
  if (/\b(Chrome|Chromium|CriOS)\//.test(ua)) return 'Chrome';
  if (/\bVersion\/[\d.]+.*Safari\//.test(ua)) return 'Safari';
  return null;
}

function osOf(ua: string): string | null {
  if (/\bWindows\b/.test(ua)) return 'Windows';
  if (/\bAndroid\b/.test(ua)) return 'Android';
  if (/\b(iPhone|iPad|iPod)\b/.test(ua)) return 'iOS';
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) return 'macOS';
  if (/\bLinux\b/.test(ua)) return 'Linux';
  return null;
}
