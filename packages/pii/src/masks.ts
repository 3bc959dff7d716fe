/** `+86 138****8000` style: keeps country code, first 3 and last 4 digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, "");
  if (digits.length <= 7) return "*".repeat(digits.length);
  return `${digits.slice(0, digits.length - 8)}****${digits.slice(-4)}`;
}

/** `z***@example.com`. */
export function maskEmail(email: string): string {
  const at = email.indexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/** `1101**********1234`: region prefix and last 4 characters. */
export function maskNationalId(id: string): string {
  if (id.length <= 8) return "*".repeat(id.length);
  return `${id.slice(0, 4)}${"*".repeat(id.length - 8)}${id.slice(-4)}`;
}

/** `张*` / `J*** D***`. */
export function maskName(name: string): string {
  return name
    .split(/\s+/)
    .map((w) => (w.length <= 1 ? w : `${[...w][0]}${"*".repeat(Math.max(1, [...w].length - 1))}`))
    .join(" ");
}
