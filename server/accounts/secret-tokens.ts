import { createHash, randomBytes } from "node:crypto";

/** A fresh single-use token (sent by mail) and the sha256 the database keeps instead of it. */
export function newSecretToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashSecretToken(token) };
}

/** The stored form of a token: a forged or altered token simply finds no row. */
export function hashSecretToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
