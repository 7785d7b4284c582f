/**
 * A random id for clientId/opId. crypto.randomUUID exists only in secure contexts (https,
 * localhost); a page served over plain http on a LAN address still has getRandomValues.
 */
export function randomId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
