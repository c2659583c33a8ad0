/** HTML escaping for the pages lode writes (diff report, datasheet, lineage graph). Data is untrusted. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * esc makes any string safe as HTML text or as a quoted attribute value.
 * C0 control characters (other than tab and newline) become their visible
 * Unicode "control pictures", since browsers would drop or replace them.
 */
export function esc(s: string): string {
  return String(s)
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => String.fromCharCode(c === '\u007f' ? 0x2421 : 0x2400 + c.charCodeAt(0)));
}
