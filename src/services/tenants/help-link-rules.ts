import { msg, type Msg } from '../platform/i18n.js';

/** The Help page's links: which there are, what they are called, and what a link may be. */

export const HELP_LINKS = ['documentation_url', 'status_page_url', 'chat_url', 'tracking_url'] as const;
export type HelpLinkKey = (typeof HELP_LINKS)[number];
export type HelpLinks = Record<HelpLinkKey, string | null>;

export const HELP_LINK_TEXT: Record<HelpLinkKey, { label: string; description: string }> = {
  documentation_url: { label: msg('Documentation'), description: msg('Guides and answers to common questions.') },
  status_page_url: {
    label: msg('Service status'),
    description: msg('Whether our services run normally, and planned maintenance.'),
  },
  chat_url: { label: msg('Chat with support'), description: msg('Talk to our support team.') },
  tracking_url: { label: msg('Tracking platform'), description: msg('Where you see your devices live.') },
};

export const HELP_URL_MAX = 500;

/** An empty link is "not shown"; anything else must be an absolute http or https address. */
export function helpLinkProblem(value: string): Msg | null {
  const text = value.trim();
  if (!text) return null;
  if (text.length > HELP_URL_MAX) return msg('An address has at most {max} characters.', { max: HELP_URL_MAX });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return msg('Enter a full address, starting with https://');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return msg('Only http and https addresses can be linked.');
  return null;
}
