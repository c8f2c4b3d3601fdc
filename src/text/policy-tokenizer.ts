// The policy tokenizer: word-level with character and byte fallback over a PolicyVocab (see policy-vocab.ts for
// the scheme, the normalization and why). encode() never emits <unk>; decode(encode(t)) === normalize(t) for every
// string t, and decode() always returns normalized text.
//
// Why word-level + fallback rather than BPE: one token per word for the words the Actor writes (prompt, reasoning,
// queries) and for ~93% of passage words on the default world, which keeps per-token credit (advantages painted on
// tokens) readable; the vocabulary is a frequency count, deterministic and instant to build; a rare name is spelled
// by the same characters wherever it occurs (question, passage, query, answer), which is what copying needs. The
// price, measured on the default world (8000 ids): 1.32 tokens per pre-tokenizer atom on passages against about
// 1.12 for an 8k BPE trained on the same corpus, i.e. ~18% longer information blocks; 9% of passage words are
// spelled out, and no text ever needs <unk> (bytes cover what the characters do not).
//
// Slots (a vocabulary with `slots` N > 0): a name (a word whose lowercase form is one of the vocabulary's nameWords,
// the proper nouns of the passages) is written as an entity slot instead of its piece or its spelling: the first
// name of a sequence is @0, the next new one @1, and so on (N at most; later new names fall back to pieces). Each
// slot has four ids: space-prefixed or glued, and capitalized (the form the sequence first capitalized it in) or
// lowercase ("serbia" in a lowercased question, "Serbia" in the passage: one slot). The SlotMap of the sequence
// (passed to encode and decode, one per sequence however many calls build it) holds the names. A name the policy
// has only read (a held-out country in a passage) is then written with the same ids as every name it was trained
// to copy: an answer is "the slot the passage gave it", not an id no demonstration ever wrote (entity anonymization,
// as in Hermann et al. 2015's reading-comprehension data). decode(encode(t, m), m) === normalize(t) for a shared map
// m (a capitalization other than the slot's first is written by pieces); without a map a slot decodes as "@k".
import {
  BYTE_BASE, CONTROL_TOKENS, codePoints, IDS_PER_SLOT, normalizePolicyText, parsePolicyVocab, PIECE_BASE, pieceKey, type PolicyVocab,
  pretokenize, serializePolicyVocab, SPECIAL_TOKENS, MAX_CUT, vocabSize,
} from './policy-vocab.ts';

/** Ids of the special tokens (fixed by SPECIAL_TOKENS' order). */
export interface SpecialIds {
  pad: number;
  unk: number;
  bos: number;
  eos: number;
  think: number;
  thinkEnd: number;
  search: number;
  searchEnd: number;
  information: number;
  informationEnd: number;
  answer: number;
  answerEnd: number;
  actor: number;
  judge: number;
  trim: number;
  accept: number;
  reject: number;
  /** <cut_0> .. <cut_MAX_CUT>. */
  cut: readonly number[];
}

const sid = (t: string): number => {
  const i = SPECIAL_TOKENS.indexOf(t);
  if (i < 0) throw new Error(`no special token ${t}`);
  return i;
};

export const SPECIAL_IDS: SpecialIds = Object.freeze({
  pad: sid('<pad>'),
  unk: sid('<unk>'),
  bos: sid('<bos>'),
  eos: sid('<eos>'),
  think: sid('<think>'),
  thinkEnd: sid('</think>'),
  search: sid('<search>'),
  searchEnd: sid('</search>'),
  information: sid('<information>'),
  informationEnd: sid('</information>'),
  answer: sid('<answer>'),
  answerEnd: sid('</answer>'),
  actor: sid('<actor>'),
  judge: sid('<judge>'),
  trim: sid('<trim>'),
  accept: sid('<accept>'),
  reject: sid('<reject>'),
  cut: Object.freeze(Array.from({ length: MAX_CUT + 1 }, (_, k) => sid(`<cut_${k}>`))),
});

/** Token ids with the UTF-16 span `[starts[i], ends[i])` of the input text each one came from. */
export interface EncodedText {
  ids: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
}

/** How much of a text needed fallback. */
export interface FallbackStats {
  tokens: number;
  /** Non-special atoms (words, digits, punctuation). */
  atoms: number;
  /** Multi-character word atoms, and those not in the vocabulary (spelled by characters/bytes). */
  words: number;
  spelledWords: number;
  /** Atoms with at least one byte token (a character outside the vocabulary). */
  byteAtoms: number;
  /** Tokens that spell an out-of-vocabulary atom (character or byte pieces). */
  fallbackTokens: number;
  byteTokens: number;
  /** Always 0: encode never emits <unk>. */
  unkTokens: number;
}

const utf8 = new TextEncoder();
const WORD = /^[\p{L}\p{M}]{2,}$/u;
/** A word atom of two or more code points (letters and marks). */
const isWord = (t: string): boolean => WORD.test(t) && codePoints(t).length > 1;

/**
 * The names of one sequence's entity slots, in order of first appearance. A name is kept as its capitalized form
 * once the sequence has written it capitalized, else in lowercase (`names`); its key is the lowercase form. One
 * per sequence: the prompt, every observation and every decode of that sequence share it.
 */
export class SlotMap {
  private readonly keys: string[] = [];
  private readonly caps: (string | undefined)[] = [];
  private readonly index = new Map<string, number>();

  /** `names`: a map's `names` (capitalized form where known, else lowercase). */
  constructor(names: readonly string[] = []) {
    for (const n of names) {
      const k = this.add(n.toLowerCase());
      if (n !== this.keys[k]) this.caps[k] = n;
    }
  }

  /** Per slot: its capitalized form where the sequence has one, else its lowercase key. */
  get names(): string[] {
    return this.keys.map((k, i) => this.caps[i] ?? k);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The slot of lowercase `key`, given the next free one when new and fewer than `limit` are taken; undefined when full. */
  slotFor(key: string, limit: number): number | undefined {
    const k = this.index.get(key);
    if (k !== undefined || this.keys.length >= limit) return k;
    return this.add(key);
  }

  /** Slot k's lowercase key, or undefined. */
  key(k: number): string | undefined {
    return this.keys[k];
  }

  /** Slot k's capitalized form: the first the sequence wrote, else the key with its first letter uppercased. */
  capital(k: number): string | undefined {
    const key = this.keys[k];
    if (key === undefined) return undefined;
    return this.caps[k] ?? key.charAt(0).toUpperCase() + key.slice(1);
  }

  /** Records `form` as slot k's capitalized form when it has none; whether `form` is (now) that form. */
  claimCapital(k: number, form: string): boolean {
    if (this.caps[k] === undefined) this.caps[k] = form;
    return this.caps[k] === form;
  }

  private add(key: string): number {
    if (this.index.has(key)) throw new Error(`SlotMap: ${JSON.stringify(key)} is in the map twice`);
    this.index.set(key, this.keys.length);
    this.keys.push(key);
    this.caps.push(undefined);
    return this.keys.length - 1;
  }

  clone(): SlotMap {
    return new SlotMap(this.names);
  }
}

export class PolicyTokenizer {
  readonly vocab: PolicyVocab;
  readonly size: number;
  readonly hash: string;
  readonly special: SpecialIds = SPECIAL_IDS;
  /**
   * Entity slots (0: none); slot k is the ids slotBase + 4k + v, v = 0 " @k", 1 "@k" (glued), +2 for the
   * lowercase form.
   */
  readonly slots: number;
  readonly slotBase: number;
  private readonly pieceId = new Map<string, number>();
  private readonly nameWords: ReadonlySet<string>;
  /** What each id adds to the decoded text (before the final normalization); '' for control tokens. */
  private readonly decodeText: string[];
  private readonly byteCache = new Map<string, number[]>();

  constructor(vocab: PolicyVocab) {
    this.vocab = vocab;
    this.size = vocabSize(vocab);
    this.hash = vocab.hash;
    this.decodeText = new Array<string>(this.size);
    SPECIAL_TOKENS.forEach((t, i) => {
      this.decodeText[i] = (CONTROL_TOKENS as readonly string[]).includes(t) ? (t === '<unk>' ? '\uFFFD' : '') : ` ${t} `;
    });
    for (let b = 0; b < 256; b++) this.decodeText[BYTE_BASE + b] = '';
    vocab.pieces.forEach((p, i) => {
      this.pieceId.set(p, PIECE_BASE + i);
      this.decodeText[PIECE_BASE + i] = p;
    });
    this.slots = vocab.slots ?? 0;
    this.slotBase = PIECE_BASE + vocab.pieces.length;
    this.nameWords = new Set(vocab.nameWords ?? []);
    for (let k = 0; k < this.slots; k++)
      for (let v = 0; v < IDS_PER_SLOT; v++) this.decodeText[this.slotBase + IDS_PER_SLOT * k + v] = `${v % 2 === 0 ? ' ' : ''}@${k}`;
  }

  /** Whether a word is a name (written as a slot when the vocabulary has slots): see the header. */
  isName(word: string): boolean {
    return this.nameWords.has(word.toLowerCase());
  }

  /** Whether `id` is an entity slot. */
  isSlot(id: number): boolean {
    return id >= this.slotBase && id < this.size;
  }

  /**
   * The map as it stood after `parts` (a prefix of a sequence written with `names`): slots are given in order of
   * first appearance, so the slots a prefix uses are 0..m-1 for the highest m it holds.
   */
  prefixSlots(names: readonly string[], ...parts: ArrayLike<number>[]): SlotMap {
    let m = 0;
    for (const ids of parts) for (let i = 0; i < ids.length; i++) if (this.isSlot(ids[i])) m = Math.max(m, this.slotOf(ids[i]) + 1);
    if (m > names.length) throw new RangeError(`prefixSlots: the ids use slot @${m - 1}, the map names ${names.length}`);
    return new SlotMap(names.slice(0, m));
  }

  /** The slot index of a slot id (see isSlot). */
  slotOf(id: number): number {
    if (!this.isSlot(id)) throw new RangeError(`slotOf: id ${id} is not an entity slot`);
    return Math.floor((id - this.slotBase) / IDS_PER_SLOT);
  }

  /** The text slot id `id` adds with map `slots` (space included), or null when the map has no such slot. */
  slotText(id: number, slots: SlotMap | undefined): string | null {
    const k = this.slotOf(id);
    const v = (id - this.slotBase) % IDS_PER_SLOT;
    const name = v >= 2 ? slots?.key(k) : slots?.capital(k);
    if (name === undefined) return null;
    return v % 2 === 0 ? ` ${name}` : name;
  }

  static fromJSON(json: string, source?: string): PolicyTokenizer {
    return new PolicyTokenizer(parsePolicyVocab(json, source));
  }

  toJSON(): string {
    return serializePolicyVocab(this.vocab);
  }

  /** The text decode(encode(text)) gives back (policy-vocab.ts: normalizePolicyText). */
  normalize(text: string): string {
    return normalizePolicyText(text);
  }

  /**
   * Token ids of `text`. With slots, names take slots from `slots` (the sequence's map, extended in place); without
   * one a fresh map serves this text alone, which is right only when the text is the whole sequence.
   */
  encode(text: string, slots?: SlotMap): Int32Array {
    return this.encodeWithOffsets(text, slots).ids;
  }

  /** Ids plus, for each, the span of `text` it encodes (byte and character pieces of one atom share its span). */
  encodeWithOffsets(text: string, slots: SlotMap = new SlotMap()): EncodedText {
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const push = (id: number, s: number, e: number): void => {
      ids.push(id);
      starts.push(s);
      ends.push(e);
    };
    for (const a of pretokenize(text)) {
      if (a.special >= 0) {
        push(a.special, a.start, a.end);
        continue;
      }
      if (this.slots > 0 && isWord(a.text) && this.isName(a.text)) {
        const key = a.text.toLowerCase();
        const k = slots.slotFor(key, this.slots);
        // Lowercase as the key, or the slot's capitalized form; another capitalization is spelled by pieces.
        if (k !== undefined && (a.text === key || slots.claimCapital(k, a.text))) {
          push(this.slotBase + IDS_PER_SLOT * k + (a.flag ? 0 : 1) + (a.text === key ? 2 : 0), a.start, a.end);
          continue;
        }
      }
      const whole = this.pieceId.get(pieceKey(a.text, a.flag));
      if (whole !== undefined) {
        push(whole, a.start, a.end);
        continue;
      }
      let first = true;
      let at = a.start;
      for (const c of codePoints(a.text)) {
        const end = Math.min(a.end, at + c.length);
        const id = this.pieceId.get(pieceKey(c, first && a.flag));
        if (id !== undefined) push(id, at, end);
        else {
          if (first && a.flag) push(BYTE_BASE + 0x20, at, at);
          for (const b of this.bytesOf(c)) push(b, at, end);
        }
        first = false;
        at = end;
      }
    }
    return { ids: Int32Array.from(ids), starts: Int32Array.from(starts), ends: Int32Array.from(ends) };
  }

  private bytesOf(c: string): number[] {
    let ids = this.byteCache.get(c);
    if (!ids) {
      ids = Array.from(utf8.encode(c), (b) => BYTE_BASE + b);
      this.byteCache.set(c, ids);
    }
    return ids;
  }

  /**
   * Normalized text of the ids; control tokens (<pad> <bos> <eos>) render as nothing, <unk> as U+FFFD, an entity
   * slot as its name in `slots` (the sequence's map) or, when the map has none, as "@k".
   */
  decode(ids: ArrayLike<number>, slots?: SlotMap): string {
    let out = '';
    let bytes: number[] = [];
    const flush = (): void => {
      if (bytes.length > 0) {
        out += new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes));
        bytes = [];
      }
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new RangeError(`decode: id ${id} at position ${i} is outside the vocabulary (0..${this.size - 1})`);
      if (id >= BYTE_BASE && id < PIECE_BASE) {
        bytes.push(id - BYTE_BASE);
        continue;
      }
      flush();
      if (id >= this.slotBase) {
        const t = this.slotText(id, slots);
        if (t !== null) {
          out += t;
          continue;
        }
      }
      out += this.decodeText[id];
    }
    flush();
    return normalizePolicyText(out);
  }

  /** A display form of one token: specials as written, bytes as <0xAB>, pieces with ▁ for a leading space. */
  tokenText(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new RangeError(`tokenText: id ${id} is outside the vocabulary (0..${this.size - 1})`);
    if (id < BYTE_BASE) return SPECIAL_TOKENS[id];
    if (id < PIECE_BASE) return `<0x${(id - BYTE_BASE).toString(16).toUpperCase().padStart(2, '0')}>`;
    if (id >= this.slotBase) {
      // Slots: @k capitalized, @k_lc lowercase.
      const v = (id - this.slotBase) % IDS_PER_SLOT;
      return `${v % 2 === 0 ? '\u2581' : ''}@${this.slotOf(id)}${v >= 2 ? '_lc' : ''}`;
    }
    const p = this.vocab.pieces[id - PIECE_BASE];
    return p.startsWith(' ') ? `\u2581${p.slice(1)}` : p;
  }

  isSpecial(id: number): boolean {
    return id >= 0 && id < BYTE_BASE;
  }

  isByte(id: number): boolean {
    return id >= BYTE_BASE && id < PIECE_BASE;
  }

  /** The id of a piece (" word" for the space-prefixed form), or undefined. */
  pieceToId(piece: string): number | undefined {
    return this.pieceId.get(piece);
  }

  /** Counts of fallback use over a text (the [unk]/fallback rate). */
  fallbackStats(text: string): FallbackStats {
    const s: FallbackStats = { tokens: 0, atoms: 0, words: 0, spelledWords: 0, byteAtoms: 0, fallbackTokens: 0, byteTokens: 0, unkTokens: 0 };
    for (const a of pretokenize(text)) {
      if (a.special >= 0) {
        s.tokens++;
        continue;
      }
      s.atoms++;
      const cps = codePoints(a.text);
      const isWord = cps.length > 1;
      if (isWord) s.words++;
      if (this.pieceId.has(pieceKey(a.text, a.flag))) {
        s.tokens++;
        continue;
      }
      if (isWord) s.spelledWords++;
      let n = 0;
      let nb = 0;
      cps.forEach((c, i) => {
        if (this.pieceId.has(pieceKey(c, i === 0 && a.flag))) n++;
        else {
          const b = this.bytesOf(c).length + (i === 0 && a.flag ? 1 : 0);
          n += b;
          nb += b;
        }
      });
      if (nb > 0) s.byteAtoms++;
      s.tokens += n;
      s.fallbackTokens += n;
      s.byteTokens += nb;
    }
    return s;
  }
}

export function addFallbackStats(a: FallbackStats, b: FallbackStats): FallbackStats {
  return {
    tokens: a.tokens + b.tokens,
    atoms: a.atoms + b.atoms,
    words: a.words + b.words,
    spelledWords: a.spelledWords + b.spelledWords,
    byteAtoms: a.byteAtoms + b.byteAtoms,
    fallbackTokens: a.fallbackTokens + b.fallbackTokens,
    byteTokens: a.byteTokens + b.byteTokens,
    unkTokens: a.unkTokens + b.unkTokens,
  };
}
