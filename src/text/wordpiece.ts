// BERT's WordPiece tokenizer, as HF transformers' BertTokenizer does it (uncased by default), for E5 encoders:
//   1. special tokens ([CLS], [SEP], ...) written verbatim in the text are kept whole;
//   2. BasicTokenizer: clean the text (drop NUL, U+FFFD and control characters, every whitespace -> ' '), put
//      spaces around CJK ideographs, NFC, lowercase, strip accents (NFD, drop Mn), split on whitespace and on
//      punctuation (ASCII 33-47, 58-64, 91-96, 123-126 and Unicode P*), each punctuation mark its own word;
//   3. WordPiece: greedy longest-match-first per word with the '##' continuation prefix; a word longer than 100
//      characters, or one that cannot be covered by vocabulary pieces, becomes a single [UNK].
// Special ids are looked up by token string, never assumed. Runs in Node and the browser: loaders take the
// file's text or bytes, callers do the I/O.

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** BasicTokenizer / BertNormalizer switches. */
export interface NormalizerOptions {
  /** Drop NUL, U+FFFD and control characters; map every whitespace to ' '. */
  cleanText: boolean;
  /** Put spaces around CJK ideographs so each is its own word. */
  handleChineseChars: boolean;
  lowercase: boolean;
  /** NFD and drop combining marks (Mn). BERT's default follows `lowercase`. */
  stripAccents: boolean;
}

/** bert-base-uncased / E5: everything on. */
export const BERT_UNCASED: Readonly<NormalizerOptions> = Object.freeze({
  cleanText: true,
  handleChineseChars: true,
  lowercase: true,
  stripAccents: true,
});

// ---- character classes (BERT's _is_whitespace, _is_control, _is_punctuation, _is_chinese_char) -------------

const RE_C = /^\p{C}$/u;
const RE_ZS = /^\p{Zs}$/u;
const RE_P = /^\p{P}$/u;
const RE_MN = /\p{Mn}/gu;
const RE_NON_ASCII = /[^\x00-\x7f]/;

/** BERT's _is_punctuation: the ASCII non-alphanumerics 33-47, 58-64, 91-96, 123-126, and Unicode P*. */
export function isBertPunctuation(cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return cp >= 128 && RE_P.test(String.fromCodePoint(cp));
}

/** BERT's _is_whitespace: space, \t, \n, \r and Unicode Zs. */
export function isBertWhitespace(cp: number): boolean {
  if (cp === 32 || cp === 9 || cp === 10 || cp === 13) return true;
  return cp >= 128 && RE_ZS.test(String.fromCodePoint(cp));
}

/** BERT's _is_control: Unicode C* except \t, \n, \r. */
export function isBertControl(cp: number): boolean {
  if (cp === 9 || cp === 10 || cp === 13) return false;
  if (cp < 32 || cp === 127) return true;
  return cp >= 128 && RE_C.test(String.fromCodePoint(cp));
}

/** BERT's _is_chinese_char: the CJK Unified Ideographs blocks and their compatibility blocks. */
export function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Python's str.isspace(), which whitespace_tokenize splits on. */
function isSplitSpace(cp: number): boolean {
  return (
    (cp >= 9 && cp <= 13) ||
    (cp >= 28 && cp <= 32) ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

// Clean-pass classes.
const KEEP = 0;
const DROP = 1;
const SPACE = 2;
const CJK = 3;
// Split-pass classes.
const WORD = 0;
const SEP = 1;
const PUNCT = 2;

const cleanCache = new Map<number, number>();
const splitCache = new Map<number, number>();

function cleanClass(cp: number): number {
  let k = cleanCache.get(cp);
  if (k === undefined) {
    k = cp === 0 || cp === 0xfffd || isBertControl(cp) ? DROP : isBertWhitespace(cp) ? SPACE : isCjkIdeograph(cp) ? CJK : KEEP;
    if (cp >= 128) cleanCache.set(cp, k);
  }
  return k;
}

function splitClass(cp: number): number {
  let k = splitCache.get(cp);
  if (k === undefined) {
    k = isSplitSpace(cp) ? SEP : isBertPunctuation(cp) ? PUNCT : WORD;
    if (cp >= 128) splitCache.set(cp, k);
  }
  return k;
}

const ASCII_SPLIT = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_SPLIT[c] = splitClass(c);

/** BERT's _clean_text and _tokenize_chinese_chars, in one pass. */
function cleanText(text: string, opts: NormalizerOptions): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c >= 32 && c < 127) {
      i++;
      continue;
    }
    const cp = c < 0xd800 || c > 0xdbff ? c : (text.codePointAt(i) as number);
    const w = cp > 0xffff ? 2 : 1;
    let k = cleanClass(cp);
    if (!opts.cleanText && (k === DROP || k === SPACE)) k = KEEP;
    if (!opts.handleChineseChars && k === CJK) k = KEEP;
    if (k !== KEEP) {
      out += text.slice(last, i);
      if (k === SPACE) out += ' ';
      else if (k === CJK) out += ` ${text.slice(i, i + w)} `;
      last = i + w;
    }
    i += w;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** The text BasicTokenizer splits: cleaned, CJK spaced, NFC, lowercased, accents stripped (per `opts`). */
export function normalizeBert(text: string, opts: NormalizerOptions = BERT_UNCASED): string {
  let t = opts.cleanText || opts.handleChineseChars ? cleanText(text, opts) : text;
  const nonAscii = RE_NON_ASCII.test(t);
  if (nonAscii) t = t.normalize('NFC');
  if (opts.lowercase) t = t.toLowerCase();
  if (opts.stripAccents && nonAscii) t = t.normalize('NFD').replace(RE_MN, '');
  return t;
}

/** Split normalized text on whitespace and punctuation (every punctuation mark its own word). */
function splitWords(t: string, out: string[]): void {
  let start = -1;
  for (let i = 0; i < t.length; ) {
    const c = t.charCodeAt(i);
    let k: number;
    let w = 1;
    if (c < 128) k = ASCII_SPLIT[c];
    else {
      const cp = c < 0xd800 || c > 0xdbff ? c : (t.codePointAt(i) as number);
      w = cp > 0xffff ? 2 : 1;
      k = splitClass(cp);
    }
    if (k === WORD) {
      if (start < 0) start = i;
    } else {
      if (start >= 0) {
        out.push(t.slice(start, i));
        start = -1;
      }
      if (k === PUNCT) out.push(t.slice(i, i + w));
    }
    i += w;
  }
  if (start >= 0) out.push(t.slice(start));
}

/** HF's BasicTokenizer.tokenize (no never_split handling; the tokenizer does that first). */
export function basicTokenize(text: string, opts: NormalizerOptions = BERT_UNCASED): string[] {
  const out: string[] = [];
  splitWords(normalizeBert(text, opts), out);
  return out;
}

// ---- the tokenizer -----------------------------------------------------------------------------------------

export interface WordPieceConfig {
  normalizer: NormalizerOptions;
  /** '##' for BERT. */
  continuingSubwordPrefix: string;
  /** Words with more characters (code points) become [UNK]; 100 for BERT. */
  maxInputCharsPerWord: number;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  /** Optional: only reported as `maskId` when the vocabulary has it. */
  maskToken: string;
  /**
   * Strings kept whole (one id each) where they occur verbatim in the input, as HF does with special and added
   * tokens. Default: whichever of the five tokens above are in the vocabulary.
   */
  neverSplit?: readonly string[];
}

export const DEFAULT_WORDPIECE_CONFIG: Readonly<WordPieceConfig> = Object.freeze({
  normalizer: BERT_UNCASED,
  continuingSubwordPrefix: '##',
  maxInputCharsPerWord: 100,
  unkToken: '[UNK]',
  clsToken: '[CLS]',
  sepToken: '[SEP]',
  padToken: '[PAD]',
  maskToken: '[MASK]',
});

/** One encoded text: [CLS] tokens [SEP], unpadded. */
export interface Encoding {
  ids: Int32Array;
  /** All ones (the text has no padding); here for symmetry with BatchEncoding. */
  attentionMask: Int32Array;
  /** ids.length. */
  length: number;
  /** True when tokens were cut to fit maxLen. */
  truncated: boolean;
}

/** A padded batch, row-major [batch, seqLen]. */
export interface BatchEncoding {
  batch: number;
  seqLen: number;
  /** Token ids, padded with the [PAD] id. */
  ids: Int32Array;
  /** 1 for real tokens (including [CLS] and [SEP]), 0 for padding. */
  attentionMask: Int32Array;
  /** Real tokens per row. */
  lengths: Int32Array;
  /** Rows whose tokens were cut to fit maxLen. */
  truncated: number;
}

export type Padding = 'longest' | 'max_length';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

const WORD_CACHE_LIMIT = 100_000;

export class WordPieceTokenizer {
  /** Token of each id (one per vocab.txt line). */
  readonly tokens: readonly string[];
  readonly config: Readonly<WordPieceConfig>;
  /** Names the vocabulary in errors (a file, a URL). */
  readonly source: string;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number | undefined;
  private readonly vocab = new Map<string, number>();
  private readonly maxPieceChars: number;
  private readonly specialRe: RegExp | undefined;
  private readonly wordCache = new Map<string, readonly number[]>();

  /**
   * `tokens[id]` is the token of that id. Duplicate tokens: the last id wins the lookup, as in HF's load_vocab.
   * Throws TokenizerError (naming `source`) when a needed special token is missing.
   */
  constructor(tokens: readonly string[], config: Partial<WordPieceConfig> = {}, source = 'vocabulary') {
    this.source = source;
    const cfg: WordPieceConfig = { ...DEFAULT_WORDPIECE_CONFIG, ...config };
    this.config = cfg;
    if (tokens.length === 0) throw new TokenizerError(`${source}: the vocabulary is empty`);
    if (cfg.continuingSubwordPrefix.length === 0) throw new TokenizerError(`${source}: the continuing-subword prefix is empty`);
    if (!Number.isSafeInteger(cfg.maxInputCharsPerWord) || cfg.maxInputCharsPerWord < 1) {
      throw new TokenizerError(`${source}: max_input_chars_per_word must be a positive integer, got ${cfg.maxInputCharsPerWord}`);
    }
    this.tokens = tokens;
    let maxPiece = 1;
    const prefix = cfg.continuingSubwordPrefix;
    for (let id = 0; id < tokens.length; id++) {
      const t = tokens[id];
      this.vocab.set(t, id);
      const n = codePointLength(t.startsWith(prefix) ? t.slice(prefix.length) : t);
      if (n > maxPiece) maxPiece = n;
    }
    this.maxPieceChars = maxPiece;
    const need = (field: string, token: string): number => {
      const id = this.vocab.get(token);
      if (id === undefined) {
        throw new TokenizerError(`${source}: the ${field} '${token}' is not in the vocabulary (${tokens.length} tokens); a BERT vocabulary needs [PAD], [UNK], [CLS] and [SEP]`);
      }
      return id;
    };
    this.unkId = need('unk_token', cfg.unkToken);
    this.clsId = need('cls_token', cfg.clsToken);
    this.sepId = need('sep_token', cfg.sepToken);
    this.padId = need('pad_token', cfg.padToken);
    this.maskId = this.vocab.get(cfg.maskToken);
    const never = cfg.neverSplit ?? [cfg.unkToken, cfg.clsToken, cfg.sepToken, cfg.padToken, cfg.maskToken].filter((t) => this.vocab.has(t));
    for (const t of never) {
      if (!this.vocab.has(t)) throw new TokenizerError(`${source}: the added/special token '${t}' is not in the vocabulary`);
    }
    const atoms = [...new Set(never)].filter((t) => t.length > 0).sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.specialRe = atoms.length > 0 ? new RegExp(`(${atoms.map(escapeRegExp).join('|')})`) : undefined;
  }

  /** From vocab.txt: one token per line, id = line index ('\r\n' endings tolerated, a final newline optional). */
  static fromVocabTxt(input: string | Uint8Array, source = 'vocab.txt', config: Partial<WordPieceConfig> = {}): WordPieceTokenizer {
    const text = decodeText(input, source);
    if (text.trim().length === 0) throw new TokenizerError(`${source}: the file is empty`);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const tokens = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    return new WordPieceTokenizer(tokens, config, source);
  }

  /** From a HF tokenizers `tokenizer.json` (text, bytes or the parsed object) of a WordPiece (BERT) model. */
  static fromTokenizerJson(input: string | Uint8Array | object, source = 'tokenizer.json'): WordPieceTokenizer {
    return parseTokenizerJson(input, source);
  }

  /** Number of ids (vocab.txt lines); the model's embedding table must have this many rows. */
  get size(): number {
    return this.tokens.length;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new TokenizerError(`${this.source}: token id ${id} is out of range [0, ${this.tokens.length})`);
    }
    return this.tokens[id];
  }

  /** WordPiece ids of one BasicTokenizer word (appended to `out`). */
  private wordIds(word: string, out: number[]): void {
    const cached = this.wordCache.get(word);
    if (cached) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids = this.wordPiece(word);
    if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
    this.wordCache.set(word, ids);
    for (const id of ids) out.push(id);
  }

  private wordPiece(word: string): number[] {
    const { maxInputCharsPerWord, continuingSubwordPrefix: prefix } = this.config;
    // Character (code point) boundaries in code units.
    let bounds: number[] | undefined;
    if (/[\ud800-\udfff]/.test(word)) {
      bounds = [];
      for (let i = 0; i < word.length; ) {
        bounds.push(i);
        const c = word.charCodeAt(i);
        i += c >= 0xd800 && c <= 0xdbff && i + 1 < word.length && (word.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      }
      bounds.push(word.length);
    }
    const n = bounds ? bounds.length - 1 : word.length;
    if (n > maxInputCharsPerWord) return [this.unkId];
    const at = (k: number): number => (bounds ? bounds[k] : k);
    const ids: number[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxPieceChars);
      let found = -1;
      while (end > start) {
        const sub = word.slice(at(start), at(end));
        const id = this.vocab.get(start > 0 ? prefix + sub : sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) return [this.unkId];
      ids.push(found);
      start = end;
    }
    return ids;
  }

  /** Ids of `text` without [CLS]/[SEP]. */
  private textIds(text: string): number[] {
    const out: number[] = [];
    const pieces = this.specialRe ? text.split(this.specialRe) : [text];
    // With a capturing group, odd indices are the special tokens themselves.
    for (let p = 0; p < pieces.length; p++) {
      if (p % 2 === 1) {
        out.push(this.vocab.get(pieces[p]) as number);
        continue;
      }
      if (pieces[p].length === 0) continue;
      const words: string[] = [];
      splitWords(normalizeBert(pieces[p], this.config.normalizer), words);
      for (const w of words) this.wordIds(w, out);
    }
    return out;
  }

  /** BasicTokenizer words of `text` (special tokens kept whole). */
  basicTokenize(text: string): string[] {
    const out: string[] = [];
    const pieces = this.specialRe ? text.split(this.specialRe) : [text];
    for (let p = 0; p < pieces.length; p++) {
      if (p % 2 === 1) out.push(pieces[p]);
      else if (pieces[p].length > 0) splitWords(normalizeBert(pieces[p], this.config.normalizer), out);
    }
    return out;
  }

  /** WordPiece tokens of `text` (as strings), without [CLS]/[SEP]: HF's tokenizer.tokenize(text). */
  tokenize(text: string): string[] {
    return this.textIds(text).map((id) => this.tokens[id]);
  }

  /** [CLS] tokens [SEP], the tokens cut so that the whole fits in maxLen (>= 2). */
  encode(text: string, maxLen: number): Encoding {
    checkMaxLen(maxLen, this.source);
    const body = this.textIds(text);
    const keep = Math.min(body.length, maxLen - 2);
    const ids = new Int32Array(keep + 2);
    ids[0] = this.clsId;
    for (let i = 0; i < keep; i++) ids[i + 1] = body[i];
    ids[keep + 1] = this.sepId;
    return { ids, attentionMask: new Int32Array(keep + 2).fill(1), length: keep + 2, truncated: keep < body.length };
  }

  /**
   * Encode a batch, padded with [PAD] to the longest row ('longest', HF's padding=True) or to maxLen
   * ('max_length').
   */
  encodeBatch(texts: readonly string[], maxLen: number, padding: Padding = 'longest'): BatchEncoding {
    checkMaxLen(maxLen, this.source);
    const rows = texts.map((t) => this.encode(t, maxLen));
    const batch = rows.length;
    const seqLen = padding === 'max_length' ? maxLen : rows.reduce((m, r) => Math.max(m, r.length), 0);
    const ids = new Int32Array(batch * seqLen).fill(this.padId);
    const attentionMask = new Int32Array(batch * seqLen);
    const lengths = new Int32Array(batch);
    let truncated = 0;
    rows.forEach((r, b) => {
      ids.set(r.ids, b * seqLen);
      attentionMask.fill(1, b * seqLen, b * seqLen + r.length);
      lengths[b] = r.length;
      if (r.truncated) truncated++;
    });
    return { batch, seqLen, ids, attentionMask, lengths, truncated };
  }

  /**
   * Ids back to text: tokens joined by spaces, '##' pieces glued to the previous token, then HF's
   * clean_up_tokenization (" ." -> ".", " n't" -> "n't", ...) unless `cleanup` is false. Like HF,
   * skipSpecialTokens (default true) drops [CLS], [SEP], [PAD], [MASK] and [UNK].
   */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean; cleanup?: boolean } = {}): string {
    const skip = opts.skipSpecialTokens ?? true;
    const specials = new Set([this.clsId, this.sepId, this.padId, this.unkId, this.maskId]);
    const prefix = this.config.continuingSubwordPrefix;
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (skip && specials.has(id)) continue;
      const t = this.idToToken(id);
      if (t.startsWith(prefix) && s.length > 0) s += t.slice(prefix.length);
      else s += (s.length > 0 ? ' ' : '') + t;
    }
    if (opts.cleanup ?? true) {
      s = s
        .replaceAll(' .', '.')
        .replaceAll(' ?', '?')
        .replaceAll(' !', '!')
        .replaceAll(' ,', ',')
        .replaceAll(" ' ", "'")
        .replaceAll(" n't", "n't")
        .replaceAll(" 'm", "'m")
        .replaceAll(" 's", "'s")
        .replaceAll(" 've", "'ve")
        .replaceAll(" 're", "'re");
    }
    return s;
  }

  /** The vocabulary as vocab.txt text (one token per line, trailing newline). */
  toVocabTxt(): string {
    return vocabToText(this.tokens);
  }

  /** A HF tokenizers `tokenizer.json` for this tokenizer (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] $A [SEP]). */
  toTokenizerJson(): string {
    const c = this.config;
    const vocab: Record<string, number> = {};
    this.tokens.forEach((t, id) => {
      vocab[t] = id;
    });
    const specials = [...new Set(c.neverSplit ?? [c.padToken, c.unkToken, c.clsToken, c.sepToken, c.maskToken])]
      .filter((t) => this.vocab.has(t))
      .map((t) => this.vocab.get(t) as number)
      .sort((a, b) => a - b);
    const tok = (t: string): { id: string; ids: number[]; tokens: string[] } => ({ id: t, ids: [this.vocab.get(t) as number], tokens: [t] });
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specials.map((id) => ({
        id,
        content: this.tokens[id],
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: {
        type: 'BertNormalizer',
        clean_text: c.normalizer.cleanText,
        handle_chinese_chars: c.normalizer.handleChineseChars,
        strip_accents: c.normalizer.stripAccents,
        lowercase: c.normalizer.lowercase,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: c.clsToken, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: c.sepToken, type_id: 0 } }],
        pair: [
          { SpecialToken: { id: c.clsToken, type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: c.sepToken, type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: c.sepToken, type_id: 1 } },
        ],
        special_tokens: { [c.clsToken]: tok(c.clsToken), [c.sepToken]: tok(c.sepToken) },
      },
      decoder: { type: 'WordPiece', prefix: c.continuingSubwordPrefix, cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: c.unkToken,
        continuing_subword_prefix: c.continuingSubwordPrefix,
        max_input_chars_per_word: c.maxInputCharsPerWord,
        vocab,
      },
    };
    return JSON.stringify(json, null, 2);
  }
}

function checkMaxLen(maxLen: number, source: string): void {
  if (!Number.isSafeInteger(maxLen) || maxLen < 2) {
    throw new TokenizerError(`${source}: maxLen must be an integer >= 2 (room for [CLS] and [SEP]), got ${maxLen}`);
  }
}

/** vocab.txt text for a token list; throws if a token cannot be written on one line. */
export function vocabToText(tokens: readonly string[]): string {
  for (let i = 0; i < tokens.length; i++) {
    if (/[\n\r]/.test(tokens[i])) throw new TokenizerError(`vocab.txt: token ${i} (${JSON.stringify(tokens[i])}) contains a line break`);
  }
  return tokens.join('\n') + '\n';
}

function decodeText(input: string | Uint8Array, source: string): string {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new TokenizerError(`${source}: not UTF-8 text (is it the right file?)`);
    }
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Check that a tokenizer fits a model whose embedding table has `modelVocab` rows (the model config's
 * vocab_size). Throws a TokenizerError naming both.
 */
export function checkTokenizerFitsModel(tok: WordPieceTokenizer, modelVocab: number, modelSource: string): void {
  if (tok.size !== modelVocab) {
    throw new TokenizerError(
      `tokenizer ${tok.source} does not match model ${modelSource}: the tokenizer has ${tok.size} tokens but the model's vocab_size is ${modelVocab}`,
    );
  }
}

// ---- tokenizer.json ------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseTokenizerJson(input: string | Uint8Array | object, source: string): WordPieceTokenizer {
  const bad = (field: string, what: string): never => {
    throw new TokenizerError(`${source}: field '${field}' ${what}`);
  };
  let root: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = decodeText(input, source);
    try {
      root = JSON.parse(text);
    } catch (e) {
      throw new TokenizerError(`${source}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isObj(root)) throw new TokenizerError(`${source}: the top level is not a JSON object`);

  const model = root.model;
  if (!isObj(model)) bad('model', 'is missing or not an object');
  const m = model as Json;
  if (m.type !== undefined && m.type !== 'WordPiece') {
    bad('model.type', `is ${JSON.stringify(m.type)}; only WordPiece (BERT / E5) tokenizers are supported`);
  }
  if (m.type === undefined && m.merges !== undefined) bad('model.type', 'is missing and the model has merges (a BPE model?); only WordPiece is supported');
  const vocabObj = m.vocab;
  if (!isObj(vocabObj)) bad('model.vocab', 'is missing or not an object of token -> id');
  const byId = new Map<number, string>();
  for (const [token, id] of Object.entries(vocabObj as Json)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) bad(`model.vocab[${JSON.stringify(token)}]`, `is ${JSON.stringify(id)}, not a non-negative integer id`);
    const other = byId.get(id as number);
    if (other !== undefined) bad('model.vocab', `gives id ${id} to both ${JSON.stringify(other)} and ${JSON.stringify(token)}`);
    byId.set(id as number, token);
  }
  if (byId.size === 0) bad('model.vocab', 'is empty');
  const unk = m.unk_token ?? '[UNK]';
  if (typeof unk !== 'string') bad('model.unk_token', 'is not a string');
  const prefix = m.continuing_subword_prefix ?? '##';
  if (typeof prefix !== 'string' || prefix.length === 0) bad('model.continuing_subword_prefix', 'is not a non-empty string');
  const maxChars = m.max_input_chars_per_word ?? 100;
  if (typeof maxChars !== 'number' || !Number.isSafeInteger(maxChars) || maxChars < 1) bad('model.max_input_chars_per_word', `is ${JSON.stringify(maxChars)}, not a positive integer`);

  // Added tokens: must agree with model.vocab where both name a token; may extend it.
  const neverSplit: string[] = [];
  const added = root.added_tokens ?? [];
  if (!Array.isArray(added)) bad('added_tokens', 'is not a list');
  (added as unknown[]).forEach((a, i) => {
    const f = `added_tokens[${i}]`;
    if (!isObj(a)) bad(f, 'is not an object');
    const { id, content } = a as Json;
    if (typeof content !== 'string' || content.length === 0) bad(`${f}.content`, 'is not a non-empty string');
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) bad(`${f}.id`, `is ${JSON.stringify(id)}, not a non-negative integer`);
    const vid = (vocabObj as Json)[content as string];
    if (typeof vid === 'number' && vid !== id) bad(`${f}.id`, `gives ${JSON.stringify(content)} id ${id} but model.vocab gives it ${vid}`);
    const other = byId.get(id as number);
    if (other !== undefined && other !== content) bad(`${f}.id`, `gives id ${id} to ${JSON.stringify(content)} but model.vocab gives it to ${JSON.stringify(other)}`);
    byId.set(id as number, content as string);
    neverSplit.push(content as string);
  });
  const size = Math.max(...byId.keys()) + 1;
  if (byId.size !== size) {
    let missing = 0;
    while (byId.has(missing)) missing++;
    bad('model.vocab', `ids are not contiguous: ${size} ids expected (0..${size - 1}) but only ${byId.size} are given; id ${missing} is missing`);
  }
  const tokens: string[] = new Array<string>(size);
  for (const [id, t] of byId) tokens[id] = t;

  // Normalizer.
  let normalizer: NormalizerOptions;
  const n = root.normalizer;
  if (n === null || n === undefined) {
    normalizer = { cleanText: false, handleChineseChars: false, lowercase: false, stripAccents: false };
  } else {
    if (!isObj(n)) bad('normalizer', 'is not an object');
    const nn = n as Json;
    if (nn.type !== 'BertNormalizer') bad('normalizer.type', `is ${JSON.stringify(nn.type)}; only BertNormalizer is supported`);
    const flag = (k: string, dflt: boolean): boolean => {
      const v = nn[k];
      if (v === undefined) return dflt;
      if (typeof v !== 'boolean') bad(`normalizer.${k}`, `is ${JSON.stringify(v)}, not true/false`);
      return v as boolean;
    };
    const lowercase = flag('lowercase', true);
    const sa = nn.strip_accents;
    if (sa !== undefined && sa !== null && typeof sa !== 'boolean') bad('normalizer.strip_accents', `is ${JSON.stringify(sa)}, not true/false/null`);
    normalizer = {
      cleanText: flag('clean_text', true),
      handleChineseChars: flag('handle_chinese_chars', true),
      lowercase,
      stripAccents: typeof sa === 'boolean' ? sa : lowercase,
    };
  }

  const pre = root.pre_tokenizer;
  if (!isObj(pre) || pre.type !== 'BertPreTokenizer') {
    bad('pre_tokenizer', `is ${JSON.stringify(isObj(pre) ? pre.type : pre)}; only BertPreTokenizer is supported`);
  }

  // Post-processor: which tokens wrap a single sequence.
  let cls = '[CLS]';
  let sep = '[SEP]';
  const post = root.post_processor;
  const idOf = (t: string): number | undefined => {
    const i = tokens.indexOf(t);
    return i < 0 ? undefined : i;
  };
  if (isObj(post)) {
    if (post.type === 'TemplateProcessing') {
      const single = post.single;
      if (!Array.isArray(single)) bad('post_processor.single', 'is not a list');
      const names = (single as unknown[]).map((s, i) => {
        if (isObj(s) && isObj(s.SpecialToken) && typeof s.SpecialToken.id === 'string') return s.SpecialToken.id;
        if (isObj(s) && isObj(s.Sequence)) return '$A';
        return bad(`post_processor.single[${i}]`, 'is neither a SpecialToken nor a Sequence');
      });
      if (names.length !== 3 || names[1] !== '$A' || names[0] === '$A' || names[2] === '$A') {
        bad('post_processor.single', `is ${names.join(' ')}; expected the BERT form [CLS] $A [SEP]`);
      }
      [cls, sep] = [names[0], names[2]];
      const st = post.special_tokens;
      if (isObj(st)) {
        for (const t of [cls, sep]) {
          const e = st[t];
          if (!isObj(e)) bad(`post_processor.special_tokens`, `has no entry for ${JSON.stringify(t)}`);
          const ids = (e as Json).ids;
          const want = idOf(t);
          if (!Array.isArray(ids) || ids.length !== 1 || ids[0] !== want) {
            bad(`post_processor.special_tokens[${JSON.stringify(t)}].ids`, `is ${JSON.stringify(ids)} but model.vocab gives ${JSON.stringify(t)} id ${want}`);
          }
        }
      }
    } else if (post.type === 'BertProcessing') {
      const pair = (k: 'cls' | 'sep'): string => {
        const v = post[k];
        if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'number') bad(`post_processor.${k}`, 'is not a [token, id] pair');
        const [t, id] = v as [string, number];
        if (idOf(t) !== id) bad(`post_processor.${k}`, `is [${JSON.stringify(t)}, ${id}] but model.vocab gives ${JSON.stringify(t)} id ${idOf(t)}`);
        return t;
      };
      cls = pair('cls');
      sep = pair('sep');
    } else {
      bad('post_processor.type', `is ${JSON.stringify(post.type)}; only TemplateProcessing and BertProcessing are supported`);
    }
  } else if (post !== null && post !== undefined) {
    bad('post_processor', 'is not an object');
  }

  let pad = '[PAD]';
  const padding = root.padding;
  if (isObj(padding)) {
    if (typeof padding.pad_token !== 'string') bad('padding.pad_token', 'is not a string');
    pad = padding.pad_token as string;
    if (typeof padding.pad_id === 'number' && idOf(pad) !== padding.pad_id) {
      bad('padding.pad_id', `is ${padding.pad_id} but model.vocab gives ${JSON.stringify(pad)} id ${idOf(pad)}`);
    }
  }

  for (const [field, t] of [
    ['model.unk_token', unk],
    ['post_processor (cls)', cls],
    ['post_processor (sep)', sep],
    ['padding.pad_token', pad],
  ] as const) {
    if (idOf(t as string) === undefined) bad(field, `names ${JSON.stringify(t)}, which is not in model.vocab`);
  }

  const config: Partial<WordPieceConfig> = {
    normalizer,
    continuingSubwordPrefix: prefix as string,
    maxInputCharsPerWord: maxChars as number,
    unkToken: unk as string,
    clsToken: cls,
    sepToken: sep,
    padToken: pad,
  };
  if (root.added_tokens !== undefined) config.neverSplit = neverSplit;
  return new WordPieceTokenizer(tokens, config, source);
}
