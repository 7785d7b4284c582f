import nodemailer from "nodemailer";

/** One message as a transport sends it. */
export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** Stable per mail (from its natural key), so a receiving server can drop a repeat. */
  messageId: string;
}

/** Where mail leaves the system: SMTP (nodemailer). Without one configured, mail stays in the outbox table. */
export interface MailTransport {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** An SMTP transport from a URL such as `smtps://user:pass@smtp.example.com:465`. */
export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    async send(message) {
      await transporter.sendMail({ from: message.from, to: message.to, subject: message.subject, text: message.text, messageId: message.messageId });
    },
    close() {
      transporter.close();
    },
  };
}
