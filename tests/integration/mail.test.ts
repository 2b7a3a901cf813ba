import { afterAll, describe, expect, it } from 'vitest';
import { createMailTransport } from '../../src/services/mail/transport.js';
import { startSmtpCatcher } from '../support/smtp.js';

const smtp = await startSmtpCatcher();
afterAll(() => smtp.close());

describe('mail transport', () => {
  it('delivers a message to a real SMTP server with its subject, recipient and text', async () => {
    const transport = createMailTransport(smtp.url, 'Portico <no-reply@portico.test>')!;
    await transport.deliver({
      to: 'owner@northwind.test',
      subject: 'Welcome to Portico',
      text: 'Your account is ready.',
    });
    const mail = await smtp.waitFor((m) => m.subject === 'Welcome to Portico');
    expect(mail.from?.text).toContain('no-reply@portico.test');
    expect((mail.to as { text: string }).text).toBe('owner@northwind.test');
    expect(mail.text?.trim()).toBe('Your account is ready.');
    transport.close();
  });

  it('has no transport without SMTP_URL, so mail is kept instead of sent', () => {
    expect(createMailTransport(undefined, 'x@y.z')).toBeNull();
  });

  it('reports a refused delivery as an error the sender can retry', async () => {
    const transport = createMailTransport('smtp://127.0.0.1:1', 'x@portico.test')!;
    await expect(transport.deliver({ to: 'a@b.test', subject: 's', text: 't' })).rejects.toThrow();
    transport.close();
  });
});
