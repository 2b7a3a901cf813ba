import nodemailer from 'nodemailer';

/** A file a message carries: text content (a report's CSV), handed to nodemailer as it is. */
export type MailAttachment = { filename: string; contentType: string; content: string };

export type OutgoingMail = {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: MailAttachment[];
};

export type MailTransport = {
  /** Hands the message to the SMTP server; throws when it refuses or cannot be reached. */
  deliver(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
};

/** A real SMTP transport for SMTP_URL; without one, there is none and mail is kept in the outbox. */
export function createMailTransport(smtpUrl: string | undefined, from: string): MailTransport | null {
  if (!smtpUrl) return null;
  const transporter = nodemailer.createTransport(smtpUrl);
  return {
    async deliver(mail) {
      const info = await transporter.sendMail({ from, ...mail });
      return { messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}
