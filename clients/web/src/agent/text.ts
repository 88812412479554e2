// Sizes of text once JSON-escaped and UTF-8 encoded (an upper bound), and where to split it so
// that every event stays under the protocol's size limit (the Java SDK's rules).

function charBytes(c: number): number {
  if (c === 0x22 || c === 0x5c) return 2; // " and \ are escaped
  if (c < 0x20) return 6;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdfff) return 2; // half of a 4-byte pair
  return 3;
}

export function encodedBytes(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = from; i < to; i++) n += charBytes(s.charCodeAt(i));
  return n;
}

/** The end of the longest chunk from `at` within `budget` bytes, never inside a surrogate pair. */
export function splitPoint(s: string, at: number, budget: number): number {
  let n = 0;
  let i = at;
  while (i < s.length) {
    const b = charBytes(s.charCodeAt(i));
    if (n + b > budget) break;
    n += b;
    i++;
  }
  if (i === at) i = Math.min(s.length, at + 1);
  const prev = s.charCodeAt(i - 1);
  if (i < s.length && i > at + 1 && prev >= 0xd800 && prev <= 0xdbff) i--;
  return i;
}

/** Splits text into chunks of at most `budget` encoded bytes. */
export function splitText(s: string, budget: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < s.length;) {
    const end = splitPoint(s, at, budget);
    out.push(s.slice(at, end));
    at = end;
  }
  return out;
}
