/** The text of each mail the accounts flows send (plain text: it reads the same in every client). */

export interface MailText {
  subject: string;
  text: string;
  link: string;
}

const footer = "\n\nIf you did not expect this mail, you can ignore it.\n— coachwire";

/** An invitation to join an institution (admin invite or guardian invite). */
export function inviteMail(o: { link: string; institutionName: string; role: string; expiresAt: Date }): MailText {
  return {
    subject: `You are invited to ${o.institutionName} on coachwire`,
    text: `You have been invited to ${o.institutionName} as ${o.role}.\n\nChoose your password here:\n${o.link}\n\nThe link works once, until ${o.expiresAt.toISOString()}.${footer}`,
    link: o.link,
  };
}

/** The confirmation of a self sign-up with a room's join code. */
export function signupMail(o: { link: string; roomName: string; expiresAt: Date }): MailText {
  return {
    subject: "Confirm your coachwire account",
    text: `Someone (hopefully you) signed up with this address to join "${o.roomName}".\n\nConfirm here to create the account and enter the room:\n${o.link}\n\nThe link works once, until ${o.expiresAt.toISOString()}.${footer}`,
    link: o.link,
  };
}

/** Sent instead of a sign-up confirmation when the address already has an account. */
export function alreadyRegisteredMail(o: { link: string }): MailText {
  return {
    subject: "You already have a coachwire account",
    text: `Someone tried to sign up with this address, but it already has an account.\n\nLog in, or reset your password here:\n${o.link}${footer}`,
    link: o.link,
  };
}

/** A password reset the user asked for. */
export function resetMail(o: { link: string; expiresAt: Date }): MailText {
  return {
    subject: "Reset your coachwire password",
    text: `Choose a new password here:\n${o.link}\n\nThe link works once, until ${o.expiresAt.toISOString()}.${footer}`,
    link: o.link,
  };
}

/** The first password of an account an admin created or imported (or the CLI's first admin). */
export function welcomeMail(o: { link: string; institutionName: string; expiresAt: Date }): MailText {
  return {
    subject: `Your coachwire account at ${o.institutionName}`,
    text: `An account has been made for you at ${o.institutionName}.\n\nChoose your password here:\n${o.link}\n\nThe link works once, until ${o.expiresAt.toISOString()}.${footer}`,
    link: o.link,
  };
}
