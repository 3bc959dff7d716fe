/** Removes email addresses and phone numbers from provider error texts before they are stored or logged. */
export function redactContacts(text: string): string {
  return text.replace(/[^\s<>"'@,;:]+@[^\s<>"',;:]+/g, "[email]").replace(/\+?\d[\d -]{6,}\d/g, "[number]");
}
