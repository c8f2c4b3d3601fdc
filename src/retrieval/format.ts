// Retrieved passages as the Actor reads them: Search-R1's `_passages2string` and observation wrapper, exactly.
//
// Search-R1 (search_r1/llm_agent/generation.py):
//   for idx, doc_item in enumerate(retrieval_result):
//       content = doc_item['document']['contents']
//       title = content.split("\n")[0]
//       text = "\n".join(content.split("\n")[1:])
//       format_reference += f"Doc {idx+1}(Title: {title}) {text}\n"
// and a search turn appends f'\n\n<information>{search_results.strip()}</information>\n\n'.
//
// Note what "exactly" implies: the title is the whole first line of `contents`, and wiki-18 (and our corpus)
// writes it in double quotes, so Search-R1's model reads `Doc 1(Title: "Aruba") Aruba is ...`: the quotes stay.
// There is no space between "Doc 1" and "(Title:". Every document ends with "\n"; strip() removes the last one.
// `splitPassage` gives the unquoted title for display.

/** Search-R1's `_passages2string` over passage `contents` strings ("\"Title\"\ntext"), in rank order. */
export function passagesToString(contents: readonly string[]): string {
  let s = '';
  contents.forEach((c, idx) => {
    const lines = c.split('\n');
    const title = lines[0];
    const text = lines.slice(1).join('\n');
    s += `Doc ${idx + 1}(Title: ${title}) ${text}\n`;
  });
  return s;
}

/** Python's str.isspace() characters, for an exact `str.strip()`. */
const PY_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

export function pyStrip(s: string): string {
  return s.replace(PY_SPACE, '');
}

/** The observation a search turn inserts: `\n\n<information>{passages.strip()}</information>\n\n`. */
export function informationBlock(contents: readonly string[]): string {
  return `\n\n<information>${pyStrip(passagesToString(contents))}</information>\n\n`;
}

/** Title (without the wiki-18 quotes) and text of `"Title"\ntext`; a first line without quotes is the title as is. */
export function splitPassage(contents: string): { title: string; text: string } {
  const nl = contents.indexOf('\n');
  const head = nl < 0 ? contents : contents.slice(0, nl);
  const text = nl < 0 ? '' : contents.slice(nl + 1);
  const title = head.length >= 2 && head.startsWith('"') && head.endsWith('"') ? head.slice(1, -1) : head;
  return { title, text };
}
