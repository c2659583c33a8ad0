/** HTML escaping and the page shell for the pages lode writes (diff report, datasheet, lineage graph). Data is untrusted. */
import { createHash } from 'node:crypto';

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

/**
 * jsonForScript serialises `value` for an inline `<script type="application/json">`.
 * `<`, `>` and `&` are written as \u escapes, so no data can close the element
 * (`</script>`) or open a comment (`<!--`); U+2028/9 are escaped for old parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * htmlPage is the self-contained document around a page's body: a policy that
 * allows no requests (inline style, data: images, and only `script`, by its
 * hash), the page's data as JSON under `metaId`, then the script.
 */
export function htmlPage(o: { title: string; style: string; script: string; body: string; metaId: string; meta: unknown; colorScheme?: string }): string {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${createHash('sha256').update(o.script).digest('base64')}'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${o.colorScheme ? `<meta name="color-scheme" content="${o.colorScheme}">\n` : ''}<meta name="generator" content="lode">
<title>${esc(o.title)}</title>
<style>${o.style}</style>
</head>
<body>
<main>
${o.body}
</main>
<script type="application/json" id="${o.metaId}">${jsonForScript(o.meta)}</script>
<script>${o.script}</script>
</body>
</html>
`;
}
