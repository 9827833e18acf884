/**
 * Control characters (C0, DEL, C1, and the Unicode line and paragraph separators) in text shown to
 * a user: they can break a line in two or drive the terminal, so a name may not hold them and an
 * error line shows them escaped.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;

/** Whether `text` holds a control character. */
export function hasControlChar(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/** `text` with every control character written as an escape (`\n`, `\t`, `\x1b`, `\u2028`), so it prints on one line. */
export function escapeControlChars(text: string): string {
  return text.replace(CONTROL, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default: {
        const n = c.charCodeAt(0);
        return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
      }
    }
  });
}
