/**
 * Splits a `Job.Args` string into words the way a POSIX shell would, without expanding anything:
 * blanks separate words; '…' keeps everything literally; "…" keeps everything but lets `\` escape
 * `"`, `\`, `$` and a backquote; outside quotes `\` escapes the next character. So
 * `-c "nightly run" -out 'a b'` is `['-c', 'nightly run', '-out', 'a b']`. No globbing and no
 * variables: a job's arguments mean the same whatever the daemon's environment.
 *
 * @returns the words, or `{ error }` saying why the text cannot be split (an unclosed quote).
 */
export function splitArgs(text: string): string[] | { error: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return { error: `unclosed ' quote at character ${i + 1}` };
      word += text.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        word += text[j];
      }
      if (j >= text.length) return { error: `unclosed " quote at character ${i + 1}` };
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < text.length) word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
