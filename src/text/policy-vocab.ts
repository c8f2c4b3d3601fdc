// The policy's vocabulary: special tokens, the text normalization and pre-tokenizer the vocabulary is defined
// over, a deterministic builder (word counts over the world's corpus, questions, answers and the prompt and
// reasoning templates) and a versioned, hashed JSON form. The tokenizer itself is policy-tokenizer.ts.
//
// Scheme: word-level with character fallback and UTF-8 byte fallback (never <unk> from text).
// - Normalization (`normalizePolicyText`, NORMALIZATION below): every special tag is set apart by single spaces,
//   every run of whitespace (Python's str.isspace() set, as normalizeAnswer splits on) becomes one space, the
//   ends are trimmed, and lone UTF-16 surrogates become U+FFFD. Nothing else: case, punctuation, accents and
//   Unicode forms are kept, so normalizeAnswer() of a normalized string equals normalizeAnswer() of the original.
// - Pre-tokenizer: the text splits into atoms: a text-level special tag (<think>, <cut_3>, ...), the literal
//   `(Title:` of Search-R1's information blocks, a run of letters and marks (\p{L}\p{M}), one digit (\p{N}: numbers
//   are spelled digit by digit), or any other single code point. Each non-special atom carries a flag "a space
//   precedes it" (SentencePiece's ▁); a special tag counts as followed by a space.
// - Pieces are (flag, text) pairs, stored as strings: " Baku" (space-prefixed) is "Baku" after a space, "Baku" is
//   glued to what precedes it. An atom whose piece is in the vocabulary is one token; a word that is not is spelled
//   by its characters (the first one carrying the flag); a character outside the vocabulary is spelled by its UTF-8
//   bytes (a flagged one preceded by the byte 0x20). So every text round-trips: decode(encode(t)) equals
//   normalizePolicyText(t).
import { PY_WHITESPACE_CLASS } from '../reward/normalize.ts';

export const VOCAB_FORMAT = 'search-r2-policy-vocab';
export const VOCAB_VERSION = 1;
/** Names the normalization + pre-tokenizer rules above; part of the hash, bumped whenever they change. */
export const NORMALIZATION = 'policy-text/1: tag spacing, whitespace collapse, trim, lone surrogates -> U+FFFD; atoms: tag | (Title: | letters+marks | digit | code point';

/** Control tokens: never produced from text; decode() renders them as nothing (<unk> as U+FFFD). */
export const CONTROL_TOKENS = ['<pad>', '<unk>', '<bos>', '<eos>'] as const;
export const TAG_TOKENS = ['<think>', '</think>', '<search>', '</search>', '<information>', '</information>', '<answer>', '</answer>'] as const;
export const PROMPT_TOKENS = ['<actor>', '<judge>', '<trim>'] as const;
/** Largest cut index: at most 4 search steps, so the Trimmer chooses k in 0..4. */
export const MAX_CUT = 4;
export const REFINER_TOKENS = ['<accept>', '<reject>', ...Array.from({ length: MAX_CUT + 1 }, (_, k) => `<cut_${k}>`)] as const;
/** Every special token, in id order (ids 0..SPECIAL_TOKENS.length-1). */
export const SPECIAL_TOKENS: readonly string[] = [...CONTROL_TOKENS, ...TAG_TOKENS, ...PROMPT_TOKENS, ...REFINER_TOKENS];
/** The specials that are recognized in text (everything but the control tokens). */
export const TEXT_SPECIALS: readonly string[] = SPECIAL_TOKENS.slice(CONTROL_TOKENS.length);
/** Byte tokens <0x00>..<0xFF> follow the specials. */
export const BYTE_BASE = SPECIAL_TOKENS.length;
export const PIECE_BASE = BYTE_BASE + 256;
/** Multi-character literals the pre-tokenizer keeps whole (Search-R1's `Doc 1(Title: "T") text`). */
export const LITERAL_ATOMS: readonly string[] = ['(Title:'];
/** Words always in the vocabulary (both flag variants), whatever the counts. */
export const RESERVED_WORDS: readonly string[] = ['Doc', 'Title', 'Question', 'Step'];

export class PolicyVocabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyVocabError';
  }
}

// ---- normalization and pre-tokenization ----

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const SPECIAL_SOURCE = TEXT_SPECIALS.map(escape).join('|');
const SPECIAL_GLOBAL = new RegExp(SPECIAL_SOURCE, 'g');
const WS_RUN = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, 'gu');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The normalized form that decode(encode(text)) returns (see the header). Idempotent. */
export function normalizePolicyText(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replace(SPECIAL_GLOBAL, ' $& ').replace(WS_RUN, ' ').trim();
}

/** One pre-tokenizer atom. `special` is the special token's index in SPECIAL_TOKENS, or -1. */
export interface Atom {
  text: string;
  /** A space precedes it in the normalized text (always false for specials). */
  flag: boolean;
  special: number;
  /** UTF-16 offsets into the text given to `pretokenize`. */
  start: number;
  end: number;
}

const STICKY = new RegExp(
  [
    `(?<ws>[${PY_WHITESPACE_CLASS}]+)`,
    `(?<special>${SPECIAL_SOURCE})`,
    `(?<literal>${LITERAL_ATOMS.map(escape).join('|')})`,
    '(?<word>[\\p{L}\\p{M}]+)',
    '(?<one>[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]|[\\s\\S])',
  ].join('|'),
  'uy',
);
const SPECIAL_INDEX = new Map(SPECIAL_TOKENS.map((t, i) => [t, i]));

/** Splits text into atoms (see the header); lone surrogates are treated as U+FFFD. */
export function pretokenize(text: string): Atom[] {
  const atoms: Atom[] = [];
  let space = false;
  let pos = 0;
  while (pos < text.length) {
    STICKY.lastIndex = pos;
    const m = STICKY.exec(text);
    if (m === null || m.groups === undefined) throw new Error(`pretokenize: no atom at offset ${pos}`); // unreachable: [\s\S]
    const end = pos + m[0].length;
    const g = m.groups;
    if (g.ws !== undefined) {
      space = atoms.length > 0;
    } else if (g.special !== undefined) {
      atoms.push({ text: g.special, flag: false, special: SPECIAL_INDEX.get(g.special) ?? -1, start: pos, end });
      space = true;
    } else {
      let t = m[0];
      if (t.length === 1 && t.charCodeAt(0) >= 0xd800 && t.charCodeAt(0) <= 0xdfff) t = '\uFFFD';
      atoms.push({ text: t, flag: space, special: -1, start: pos, end });
      space = false;
    }
    pos = end;
  }
  return atoms;
}

/** The piece string of an atom: " text" when a space precedes it. */
export function pieceKey(text: string, flag: boolean): string {
  return flag ? ` ${text}` : text;
}

/** Code points of a string. */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

function isWordAtom(a: Atom): boolean {
  return a.special < 0 && !LITERAL_ATOMS.includes(a.text) && codePoints(a.text).length > 1;
}

// ---- the vocabulary ----

export interface PolicyVocab {
  format: typeof VOCAB_FORMAT;
  version: typeof VOCAB_VERSION;
  normalization: string;
  /** "fnv1a64:<16 hex>" over the canonical content (normalization, specials, pieces). */
  hash: string;
  /** SPECIAL_TOKENS; ids 0.. */
  specials: string[];
  /** Pieces in id order from PIECE_BASE (after the 256 byte tokens). */
  pieces: string[];
  /**
   * Entity slots (0 or absent: none). With N slots the ids after the pieces are N groups of four (space-prefixed or
   * glued, capitalized or lowercase): the tokenizer writes a name as the slot of its first appearance in the sequence
   * (policy-tokenizer.ts, "Slots"). Hashed when N > 0.
   */
  slots?: number;
  /** With slots: the lowercase words that are names (sorted); hashed with `slots`. */
  nameWords?: string[];
  /** How the vocabulary was built (informational, not hashed). */
  build?: { maxSize: number; minWordCount: number; minCharCount: number; words: number; chars: number; sourceTexts: number };
}

export interface VocabBuildOptions {
  /** Total ids, specials and bytes included. Default 8000. */
  maxSize?: number;
  /** Words seen fewer times are left to character fallback. Default 2. */
  minWordCount?: number;
  /** Characters seen fewer times are left to byte fallback (printable ASCII is always in). Default 2. */
  minCharCount?: number;
  /** Entity slots (PolicyVocab.slots); default 0. */
  slots?: number;
  /**
   * With slots: the texts names are told by (default: none, so no names): a word is a name when it is written
   * capitalized at least twice as often as in lowercase there (proper nouns of passages).
   */
  nameTexts?: readonly string[];
  /** Words that are never names, besides the forced (template) ones: e.g. the words questions open with. */
  slotExempt?: readonly string[];
}

/** Most entity slots a vocabulary may have. */
export const MAX_SLOTS = 512;

/** FNV-1a, 64-bit, over the UTF-16 code units of a string, as 16 hex digits. */
export function fnv1a64(s: string): string {
  // Two 32-bit halves with BigInt-free arithmetic: the 64-bit prime is 2^40 + 0x1b3.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < s.length; i++) {
    lo = (lo ^ s.charCodeAt(i)) >>> 0;
    // (hi, lo) * 0x100000001b3 mod 2^64 = (hi, lo) * 0x1b3 + (lo << 40)
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    const newHi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    hi = newHi;
    lo = newLo;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

export function vocabHash(normalization: string, specials: readonly string[], pieces: readonly string[], slots = 0, nameWords: readonly string[] = []): string {
  // Without slots the hash is what it was before slots existed, so older vocabularies keep theirs.
  const content: unknown[] = [VOCAB_FORMAT, VOCAB_VERSION, normalization, specials, pieces];
  if (slots > 0) content.push({ slots, nameWords });
  return `fnv1a64:${fnv1a64(JSON.stringify(content))}`;
}

/** Ids per entity slot: space-prefixed or glued, capitalized or lowercase. */
export const IDS_PER_SLOT = 4;

/** Total ids of a vocabulary: specials, bytes, pieces and IDS_PER_SLOT per entity slot. */
export function vocabSize(v: Pick<PolicyVocab, 'pieces' | 'slots'>): number {
  return PIECE_BASE + v.pieces.length + IDS_PER_SLOT * (v.slots ?? 0);
}

const SENTENCE_END = new Set(['.', '!', '?']);

/**
 * The names of `texts` (lowercase, sorted): words of two or more letters written capitalized (first letter
 * uppercase) at least twice as often as in lowercase, not counting words that open a text or a sentence, less
 * `exempt` (compared in lowercase).
 */
export function findNameWords(texts: Iterable<string>, exempt: Iterable<string>): string[] {
  const cap = new Map<string, number>();
  const low = new Map<string, number>();
  for (const text of texts) {
    let prev = '.';
    for (const a of pretokenize(text)) {
      // A sentence's first word is capitalized whatever it is ("Its capital is ..."): it counts for neither form.
      const initial = SENTENCE_END.has(prev);
      prev = a.text;
      if (!isWordAtom(a) || initial) continue;
      const key = a.text.toLowerCase();
      if (key === a.text) low.set(key, (low.get(key) ?? 0) + 1);
      else if (/^\p{Lu}/u.test(a.text)) cap.set(key, (cap.get(key) ?? 0) + 1);
    }
  }
  const skip = new Set([...exempt].map((w) => w.toLowerCase()));
  return [...cap].filter(([k, n]) => n >= 2 * (low.get(k) ?? 0) && !skip.has(k)).map(([k]) => k).sort();
}

/**
 * Builds the vocabulary from `texts` (passage contents, questions, gold answers) and `forced` texts (prompt and
 * reasoning templates: every word and character in them gets a piece, in both flag variants). Deterministic: the
 * result depends on the multiset of texts only, not on their order.
 */
export function buildPolicyVocab(texts: Iterable<string>, forced: readonly string[], opts: VocabBuildOptions = {}): PolicyVocab {
  const maxSize = opts.maxSize ?? 8000;
  const slots = opts.slots ?? 0;
  if (!Number.isInteger(slots) || slots < 0 || slots > MAX_SLOTS) throw new PolicyVocabError(`policy vocab: slots must be an integer in 0..${MAX_SLOTS}, got ${slots}`);
  const minWordCount = opts.minWordCount ?? 2;
  const minCharCount = opts.minCharCount ?? 2;
  const words = new Map<string, number>();
  const chars = new Map<string, number>();
  let sourceTexts = 0;
  for (const text of texts) {
    sourceTexts++;
    for (const a of pretokenize(text)) {
      if (a.special >= 0) continue;
      for (const c of codePoints(a.text)) chars.set(c, (chars.get(c) ?? 0) + 1);
      if (isWordAtom(a)) {
        const k = pieceKey(a.text, a.flag);
        words.set(k, (words.get(k) ?? 0) + 1);
      }
    }
  }
  const charSet = new Set<string>();
  for (let c = 0x21; c < 0x7f; c++) charSet.add(String.fromCharCode(c));
  for (const [c, n] of chars) if (n >= minCharCount) charSet.add(c);
  const forcedWords = new Set<string>(RESERVED_WORDS);
  for (const text of forced)
    for (const a of pretokenize(text)) {
      if (a.special >= 0) continue;
      for (const c of codePoints(a.text)) charSet.add(c);
      if (isWordAtom(a)) forcedWords.add(a.text);
    }
  const byCodePoint = (a: string, b: string): number => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0);
  const pieces: string[] = [];
  const have = new Set<string>();
  const add = (p: string): void => {
    if (!have.has(p)) {
      have.add(p);
      pieces.push(p);
    }
  };
  for (const c of [...charSet].sort(byCodePoint)) {
    add(pieceKey(c, true));
    add(pieceKey(c, false));
  }
  for (const lit of LITERAL_ATOMS) {
    add(pieceKey(lit, false));
    add(pieceKey(lit, true));
  }
  const nChars = pieces.length;
  for (const w of [...forcedWords].sort()) {
    add(pieceKey(w, true));
    add(pieceKey(w, false));
  }
  if (PIECE_BASE + pieces.length > maxSize)
    throw new PolicyVocabError(`policy vocab: maxSize ${maxSize} is too small for the ${SPECIAL_TOKENS.length} specials, 256 bytes, ${nChars} character pieces and ${pieces.length - nChars} forced words`);
  const ranked = [...words].filter(([k, n]) => n >= minWordCount && !have.has(k)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k] of ranked) {
    if (PIECE_BASE + pieces.length >= maxSize) break;
    add(k);
  }
  const specials = [...SPECIAL_TOKENS];
  const nameWords = slots > 0 ? findNameWords(opts.nameTexts ?? [], [...forcedWords, ...(opts.slotExempt ?? [])]) : [];
  return {
    format: VOCAB_FORMAT,
    version: VOCAB_VERSION,
    normalization: NORMALIZATION,
    hash: vocabHash(NORMALIZATION, specials, pieces, slots, nameWords),
    specials,
    pieces,
    ...(slots > 0 ? { slots, nameWords } : {}),
    build: { maxSize, minWordCount, minCharCount, words: pieces.length - nChars, chars: charSet.size, sourceTexts },
  };
}

// ---- JSON ----

export function serializePolicyVocab(v: PolicyVocab): string {
  return `${JSON.stringify({
    format: v.format,
    version: v.version,
    normalization: v.normalization,
    hash: v.hash,
    size: vocabSize(v),
    specials: v.specials,
    ...(v.slots ? { slots: v.slots, nameWords: v.nameWords ?? [] } : {}),
    ...(v.build ? { build: v.build } : {}),
    pieces: v.pieces,
  })}\n`;
}

const WS_ANY = new RegExp(`[${PY_WHITESPACE_CLASS}]`, 'u');

/** Parses and checks a vocabulary file; every problem is a PolicyVocabError naming what is wrong. */
export function parsePolicyVocab(json: string, source = 'policy vocab'): PolicyVocab {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch (e) {
    throw new PolicyVocabError(`${source}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new PolicyVocabError(`${source}: expected a JSON object`);
  const r = o as Record<string, unknown>;
  if (r.format !== VOCAB_FORMAT) throw new PolicyVocabError(`${source}: format is ${JSON.stringify(r.format)}, expected "${VOCAB_FORMAT}" (not a policy vocabulary?)`);
  if (r.version !== VOCAB_VERSION) throw new PolicyVocabError(`${source}: version ${JSON.stringify(r.version)} is not supported (this build reads version ${VOCAB_VERSION})`);
  if (r.normalization !== NORMALIZATION)
    throw new PolicyVocabError(`${source}: built for normalization ${JSON.stringify(r.normalization)}, this build uses ${JSON.stringify(NORMALIZATION)}`);
  if (!Array.isArray(r.specials) || r.specials.length !== SPECIAL_TOKENS.length || r.specials.some((s, i) => s !== SPECIAL_TOKENS[i]))
    throw new PolicyVocabError(`${source}: specials differ from this build's ${SPECIAL_TOKENS.length} special tokens (${SPECIAL_TOKENS.join(' ')})`);
  if (!Array.isArray(r.pieces)) throw new PolicyVocabError(`${source}: "pieces" must be an array of strings`);
  const seen = new Set<string>();
  r.pieces.forEach((p: unknown, i: number) => {
    if (typeof p !== 'string' || p.length === 0) throw new PolicyVocabError(`${source}: pieces[${i}] must be a non-empty string`);
    const body = p.startsWith(' ') ? p.slice(1) : p;
    if (body.length === 0 || WS_ANY.test(body)) throw new PolicyVocabError(`${source}: pieces[${i}] ${JSON.stringify(p)} has whitespace in it`);
    if (seen.has(p)) throw new PolicyVocabError(`${source}: pieces[${i}] ${JSON.stringify(p)} is a duplicate`);
    seen.add(p);
  });
  const pieces = r.pieces as string[];
  for (const lit of LITERAL_ATOMS) if (!seen.has(lit)) throw new PolicyVocabError(`${source}: the literal piece ${JSON.stringify(lit)} is missing`);
  const slots = r.slots ?? 0;
  if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 0 || slots > MAX_SLOTS)
    throw new PolicyVocabError(`${source}: "slots" must be an integer in 0..${MAX_SLOTS}, got ${JSON.stringify(r.slots)}`);
  const names = r.nameWords ?? [];
  if (!Array.isArray(names) || names.some((w) => typeof w !== 'string' || w.length === 0 || w !== w.toLowerCase()))
    throw new PolicyVocabError(`${source}: "nameWords" must be an array of lowercase words`);
  const nameWords = names as string[];
  if (slots === 0 && nameWords.length > 0) throw new PolicyVocabError(`${source}: "nameWords" is given but "slots" is 0`);
  const ids = vocabSize({ pieces, slots });
  if (typeof r.size === 'number' && r.size !== ids)
    throw new PolicyVocabError(`${source}: size ${r.size} does not match ${ids} ids (specials + 256 bytes + pieces${slots > 0 ? ` + ${IDS_PER_SLOT} per slot` : ''})`);
  const hash = vocabHash(NORMALIZATION, SPECIAL_TOKENS, pieces, slots, nameWords);
  if (r.hash !== hash) throw new PolicyVocabError(`${source}: hash mismatch: the file says ${JSON.stringify(r.hash)}, its content hashes to "${hash}" (edited or corrupted)`);
  const build = typeof r.build === 'object' && r.build !== null ? (r.build as PolicyVocab['build']) : undefined;
  return {
    format: VOCAB_FORMAT, version: VOCAB_VERSION, normalization: NORMALIZATION, hash, specials: [...SPECIAL_TOKENS], pieces,
    ...(slots > 0 ? { slots, nameWords } : {}), ...(build ? { build } : {}),
  };
}
