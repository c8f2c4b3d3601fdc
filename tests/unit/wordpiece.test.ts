// WordPiece: HF BertTokenizer's behaviour on hand cases (many mirror transformers' own test_tokenization_bert.py),
// special ids by string, truncation and padding, tokenizer.json / vocab.txt loading and their errors.
import { describe, expect, it } from 'vitest';
import {
  basicTokenize,
  BERT_UNCASED,
  checkTokenizerFitsModel,
  isBertControl,
  isBertPunctuation,
  isBertWhitespace,
  TokenizerError,
  WordPieceTokenizer,
} from '../../src/text/wordpiece.ts';

const cp = (s: string): number => s.codePointAt(0) as number;

/** A BERT-shaped vocab: [PAD]=0, fillers, then [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, then words. */
function bertVocab(words: string[]): string[] {
  const fill = Array.from({ length: 99 }, (_, i) => `[unused${i}]`);
  return ['[PAD]', ...fill, '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
}

const WORDS = ['hello', ',', 'world', '!', 'cafe', 'zurich', 'un', '##aff', '##able', 'want', '##want', '##ed', 'wa', 'runn', '##ing', 'y', "'", 'all', 'how', 'are', 'you', '?', '中', 'abc', '.', 'a', '##a'];
const tok = new WordPieceTokenizer(bertVocab(WORDS), {}, 'test-vocab');
const toks = (ids: ArrayLike<number>): string[] => Array.from(ids, (i) => tok.idToToken(i));

describe('character classes (BERT _is_whitespace / _is_control / _is_punctuation)', () => {
  it('classifies like BERT', () => {
    for (const c of [' ', '\t', '\r', '\n', '\u00a0', '\u3000']) expect(isBertWhitespace(cp(c))).toBe(true);
    for (const c of ['A', '-']) expect(isBertWhitespace(cp(c))).toBe(false);
    expect(isBertControl(cp('\u0005'))).toBe(true);
    expect(isBertControl(cp('\u00ad'))).toBe(true); // soft hyphen, Cf
    for (const c of ['A', ' ', '\t', '\r']) expect(isBertControl(cp(c))).toBe(false);
    for (const c of ['-', '$', '`', '.', '^', '~', '|', '<', '\u2014', '\u2026', '\u00ab', '\u3001']) expect(isBertPunctuation(cp(c))).toBe(true);
    for (const c of ['A', ' ', '\u20ac', '\u00b0', '\u00bd']) expect(isBertPunctuation(cp(c))).toBe(false); // symbols are not P*
  });
});

describe('BasicTokenizer', () => {
  it('lowercases, cleans whitespace and splits punctuation (test_basic_tokenizer_lower)', () => {
    expect(basicTokenize(' \tHeLLo!how  \n Are yoU?  ')).toEqual(['hello', '!', 'how', 'are', 'you', '?']);
    expect(basicTokenize('H\u00e9llo')).toEqual(['hello']);
  });

  it('keeps accents when strip_accents is false (test_basic_tokenizer_lower_strip_accents_false)', () => {
    const opts = { ...BERT_UNCASED, stripAccents: false };
    expect(basicTokenize(' \tHäLLo!how  \n Are yoU?  ', opts)).toEqual(['hällo', '!', 'how', 'are', 'you', '?']);
    expect(basicTokenize('H\u00e9llo', opts)).toEqual(['h\u00e9llo']);
    // NFC first: a decomposed e + U+0301 is the same word as the composed é.
    expect(basicTokenize('He\u0301llo', opts)).toEqual(['h\u00e9llo']);
  });

  it('does nothing to case or accents when both are off (cased models)', () => {
    const cased = { ...BERT_UNCASED, lowercase: false, stripAccents: false };
    expect(basicTokenize(' \tHäLLo!how  \n Are yoU?  ', cased)).toEqual(['HäLLo', '!', 'how', 'Are', 'yoU', '?']);
  });

  it('splits CJK ideographs into single characters (test_chinese), including astral ones', () => {
    expect(basicTokenize('ah\u535A\u63A8zz')).toEqual(['ah', '\u535A', '\u63A8', 'zz']);
    expect(basicTokenize('x\u{20000}\u{20001}y')).toEqual(['x', '\u{20000}', '\u{20001}', 'y']);
    // Kana and Hangul are not CJK ideographs: they stay in words (Hangul decomposes to jamo under NFD).
    expect(basicTokenize('みんな')).toEqual(['みんな']);
    expect(basicTokenize('한국')).toEqual(['\u1112\u1161\u11ab\u1100\u116e\u11a8']);
  });

  it('drops control characters, NUL and U+FFFD; zero-width and soft hyphens vanish inside words', () => {
    expect(basicTokenize('a\u0000b\ufffdc\u200bd\u00ade\u0007f')).toEqual(['abcdef']);
    expect(basicTokenize('\u00ad')).toEqual([]);
  });

  it('splits on every Unicode space and on line/paragraph separators', () => {
    expect(basicTokenize('x\u00a0y\u3000z\u2028w\u2029v\u2003u')).toEqual(['x', 'y', 'z', 'w', 'v', 'u']);
  });

  it('strips accents from Latin, keeps letters without a decomposition', () => {
    expect(basicTokenize('Café Zürich')).toEqual(['cafe', 'zurich']);
    expect(basicTokenize('Ångström Øresund Łódź naïve')).toEqual(['angstrom', 'øresund', 'łodz', 'naive']);
  });

  it('lowercases with Unicode rules (final sigma, dotted I)', () => {
    expect(basicTokenize('ΟΔΟΣ ΟΔΟΣ, ΣΟΦΟΣ')).toEqual(['οδο\u03c2', 'οδο\u03c2', ',', '\u03c3οφο\u03c2']);
    expect(basicTokenize('İstanbul')).toEqual(['istanbul']);
  });

  it('treats ASCII symbols as punctuation but not Unicode symbols', () => {
    expect(basicTokenize('$100 + 5% = ^_^ ~ `x`')).toEqual(['$', '100', '+', '5', '%', '=', '^', '_', '^', '~', '`', 'x', '`']);
    expect(basicTokenize('25°C costs 5€, ½')).toEqual(['25°c', 'costs', '5€', ',', '½']);
    expect(basicTokenize('“quoted” — dash…')).toEqual(['“', 'quoted', '”', '—', 'dash', '…']);
  });
});

describe('WordPiece', () => {
  it('tokenizes "Hello, world!" as [CLS] hello , world ! [SEP]', () => {
    const e = tok.encode('Hello, world!', 512);
    expect(toks(e.ids)).toEqual(['[CLS]', 'hello', ',', 'world', '!', '[SEP]']);
    expect(Array.from(e.ids)).toEqual([101, 104, 105, 106, 107, 102]);
    expect(e.length).toBe(6);
    expect(Array.from(e.attentionMask)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(e.truncated).toBe(false);
  });

  it('strips accents: "Café Zürich" -> cafe zurich', () => {
    expect(tok.tokenize('Café Zürich')).toEqual(['cafe', 'zurich']);
  });

  it('splits greedily, longest match first, with ## continuations', () => {
    expect(tok.tokenize('unaffable')).toEqual(['un', '##aff', '##able']);
    // test_wordpiece_tokenizer
    expect(tok.tokenize('')).toEqual([]);
    expect(tok.tokenize('unwanted running')).toEqual(['un', '##want', '##ed', 'runn', '##ing']);
    expect(tok.tokenize('unwantedX running')).toEqual(['[UNK]', 'runn', '##ing']);
  });

  it('maps unmatchable and over-long words to one [UNK]', () => {
    expect(tok.tokenize("Hello, y'all! How are you 😁 ?")).toEqual(['hello', ',', 'y', "'", 'all', '!', 'how', 'are', 'you', '[UNK]', '?']);
    expect(tok.tokenize('zzz hello')).toEqual(['[UNK]', 'hello']);
    expect(tok.tokenize('a'.repeat(100))).toEqual(['a', ...Array<string>(99).fill('##a')]);
    expect(tok.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
    // test_clean_text: a soft hyphen alone is no word at all.
    expect(['Test', '\u00ad', 'test'].map((t) => tok.tokenize(t))).toEqual([['[UNK]'], [], ['[UNK]']]);
  });

  it('encodes CJK one ideograph at a time', () => {
    expect(tok.tokenize('中国abc')).toEqual(['中', '[UNK]', 'abc']);
  });

  it('keeps special tokens written in the text whole (case-sensitively)', () => {
    expect(toks(tok.encode('[CLS] hello[SEP]x [MASK]', 512).ids)).toEqual(['[CLS]', '[CLS]', 'hello', '[SEP]', '[UNK]', '[MASK]', '[SEP]']);
    expect(tok.tokenize('[cls]')).toEqual(['[UNK]', '[UNK]', '[UNK]']); // "[", "cls", "]" none in this vocab
    expect(tok.basicTokenize('[cls] [UNK]')).toEqual(['[', 'cls', ']', '[UNK]']);
  });

  it('truncates to maxLen keeping [CLS] and [SEP]', () => {
    const e = tok.encode('hello world hello world', 4);
    expect(toks(e.ids)).toEqual(['[CLS]', 'hello', 'world', '[SEP]']);
    expect(e.truncated).toBe(true);
    expect(toks(tok.encode('hello world', 2).ids)).toEqual(['[CLS]', '[SEP]']);
    expect(() => tok.encode('hello', 1)).toThrow(/maxLen must be an integer >= 2/);
    expect(() => tok.encode('hello', 3.5)).toThrow(TokenizerError);
  });

  it('pads batches with the [PAD] id, to the longest row or to maxLen', () => {
    const b = tok.encodeBatch(['hello world', 'hello', ''], 8);
    expect([b.batch, b.seqLen]).toEqual([3, 4]);
    expect(Array.from(b.lengths)).toEqual([4, 3, 2]);
    expect(Array.from(b.ids)).toEqual([101, 104, 106, 102, 101, 104, 102, 0, 101, 102, 0, 0]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0]);
    expect(b.truncated).toBe(0);
    const m = tok.encodeBatch(['hello world hello world'], 5, 'max_length');
    expect([m.seqLen, m.truncated]).toEqual([5, 1]);
    expect(toks(m.ids)).toEqual(['[CLS]', 'hello', 'world', 'hello', '[SEP]']);
    const p = tok.encodeBatch(['hello'], 6, 'max_length');
    expect(Array.from(p.ids)).toEqual([101, 104, 102, 0, 0, 0]);
    expect(tok.encodeBatch([], 8).ids.length).toBe(0);
  });

  it('looks special ids up by string, whatever their numbers', () => {
    const t = new WordPieceTokenizer(['hello', '[SEP]', '[UNK]', '[PAD]', '[CLS]'], {}, 'odd-order');
    expect([t.padId, t.unkId, t.clsId, t.sepId, t.maskId]).toEqual([3, 2, 4, 1, undefined]);
    const b = t.encodeBatch(['hello hello', 'x'], 8);
    expect(Array.from(b.ids)).toEqual([4, 0, 0, 1, 4, 2, 1, 3]);
  });

  it('decodes, gluing ## pieces and skipping specials', () => {
    expect(tok.decode(tok.encode('unaffable, hello world!', 64).ids)).toBe('unaffable, hello world!');
    expect(tok.decode(tok.encode('hello', 64).ids, { skipSpecialTokens: false })).toBe('[CLS] hello [SEP]');
    expect(() => tok.decode([99999])).toThrow(/token id 99999 is out of range \[0, 131\)/);
  });
});

describe('loading vocab.txt', () => {
  it('reads one token per line, id = line index (CRLF and BOM tolerated, final newline optional)', () => {
    const text = bertVocab(WORDS).join('\n') + '\n';
    const t = WordPieceTokenizer.fromVocabTxt(text, 'v.txt');
    expect(t.size).toBe(131);
    expect(Array.from(t.encode('Hello, world!', 16).ids)).toEqual([101, 104, 105, 106, 107, 102]);
    const crlf = WordPieceTokenizer.fromVocabTxt('\ufeff' + bertVocab(WORDS).join('\r\n'), 'crlf.txt');
    expect(crlf.tokens).toEqual(t.tokens);
    const bytes = new TextEncoder().encode(text);
    expect(WordPieceTokenizer.fromVocabTxt(bytes, 'bytes.txt').tokens).toEqual(t.tokens);
    expect(t.toVocabTxt()).toBe(text);
  });

  it('rejects empty files, missing special tokens and binary data, naming the file', () => {
    expect(() => WordPieceTokenizer.fromVocabTxt('', 'models/e5/vocab.txt')).toThrow('models/e5/vocab.txt: the file is empty');
    expect(() => WordPieceTokenizer.fromVocabTxt('[PAD]\n[UNK]\n[SEP]\nhello\n', 'v.txt')).toThrow(
      "v.txt: the cls_token '[CLS]' is not in the vocabulary (4 tokens)",
    );
    expect(() => WordPieceTokenizer.fromVocabTxt('[PAD]\n[CLS]\n[SEP]\n', 'v.txt')).toThrow(/unk_token '\[UNK\]'/);
    expect(() => WordPieceTokenizer.fromVocabTxt(new Uint8Array([0x80, 0xff, 0x00, 0x41]), 'model.onnx')).toThrow(
      'model.onnx: not UTF-8 text (is it the right file?)',
    );
  });
});

/** A minimal bert-base-uncased-shaped tokenizer.json. */
function tokenizerJson(vocab: string[], patch: (j: Record<string, unknown>) => void = () => {}): string {
  const v: Record<string, number> = {};
  vocab.forEach((t, i) => (v[t] = i));
  const id = (t: string): number => vocab.indexOf(t);
  const j: Record<string, unknown> = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: v },
  };
  patch(j);
  return JSON.stringify(j);
}

type J = Record<string, Record<string, unknown>>;

describe('loading tokenizer.json', () => {
  const vocab = bertVocab(WORDS);

  it('gives the same tokenizer as vocab.txt for an uncased BERT file', () => {
    const t = WordPieceTokenizer.fromTokenizerJson(tokenizerJson(vocab), 'e5/tokenizer.json');
    expect(t.size).toBe(vocab.length);
    expect([t.padId, t.unkId, t.clsId, t.sepId, t.maskId]).toEqual([0, 100, 101, 102, 103]);
    for (const s of ['Hello, world!', 'Café Zürich unaffable', '[CLS] x', '中国']) {
      expect(Array.from(t.encode(s, 64).ids)).toEqual(Array.from(tok.encode(s, 64).ids));
    }
    expect(WordPieceTokenizer.fromTokenizerJson(JSON.parse(tokenizerJson(vocab)) as object, 'obj').size).toBe(vocab.length);
  });

  it('honours the normalizer flags (cased, strip_accents)', () => {
    const cased = WordPieceTokenizer.fromTokenizerJson(
      tokenizerJson([...vocab, 'Hello', 'Café'], (j) => {
        (j as J).normalizer.lowercase = false;
      }),
      'cased.json',
    );
    expect(cased.tokenize('Hello hello Café')).toEqual(['Hello', 'hello', 'Café']);
    const keepAccents = WordPieceTokenizer.fromTokenizerJson(
      tokenizerJson([...vocab, 'café'], (j) => {
        (j as J).normalizer.strip_accents = false;
      }),
      'accents.json',
    );
    expect(keepAccents.tokenize('CAFÉ cafe')).toEqual(['café', 'cafe']);
  });

  it('reads BertProcessing and padding.pad_token', () => {
    const t = WordPieceTokenizer.fromTokenizerJson(
      tokenizerJson(vocab, (j) => {
        j.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] };
        j.padding = { strategy: 'BatchLongest', pad_id: 103, pad_type_id: 0, pad_token: '[MASK]' };
      }),
      'bp.json',
    );
    expect([t.clsId, t.sepId, t.padId]).toEqual([101, 102, 103]);
  });

  it('round-trips through toTokenizerJson', () => {
    const again = WordPieceTokenizer.fromTokenizerJson(tok.toTokenizerJson(), 'rt.json');
    expect(again.tokens).toEqual(tok.tokens);
    expect(again.config.normalizer).toEqual(tok.config.normalizer);
    expect(Array.from(again.encode('[MASK] Hello, world!', 64).ids)).toEqual(Array.from(tok.encode('[MASK] Hello, world!', 64).ids));
  });

  const bad: [string, (j: Record<string, unknown>) => void, string][] = [
    ['model.type', (j) => ((j as J).model.type = 'BPE'), `x.json: field 'model.type' is "BPE"; only WordPiece (BERT / E5) tokenizers are supported`],
    ['model missing', (j) => delete j.model, "x.json: field 'model' is missing or not an object"],
    ['vocab missing', (j) => delete (j as J).model.vocab, "x.json: field 'model.vocab' is missing or not an object of token -> id"],
    ['vocab id not an int', (j) => (((j as J).model.vocab as Record<string, unknown>).hello = 'x'), `x.json: field 'model.vocab["hello"]' is "x", not a non-negative integer id`],
    ['duplicate id', (j) => (((j as J).model.vocab as Record<string, unknown>).hello = 105), 'x.json: field \'model.vocab\' gives id 105 to both "hello" and ","'],
    ['gap in ids', (j) => (((j as J).model.vocab as Record<string, unknown>).hello = 500), "x.json: field 'model.vocab' ids are not contiguous: 501 ids expected (0..500) but only 131 are given; id 104 is missing"],
    ['unk not in vocab', (j) => ((j as J).model.unk_token = '<unk>'), `x.json: field 'model.unk_token' names "<unk>", which is not in model.vocab`],
    ['prefix', (j) => ((j as J).model.continuing_subword_prefix = ''), "x.json: field 'model.continuing_subword_prefix' is not a non-empty string"],
    ['max chars', (j) => ((j as J).model.max_input_chars_per_word = 0), "x.json: field 'model.max_input_chars_per_word' is 0, not a positive integer"],
    ['normalizer type', (j) => ((j as J).normalizer.type = 'NFKC'), `x.json: field 'normalizer.type' is "NFKC"; only BertNormalizer is supported`],
    ['normalizer flag', (j) => ((j as J).normalizer.lowercase = 'yes'), `x.json: field 'normalizer.lowercase' is "yes", not true/false`],
    ['pre_tokenizer', (j) => (j.pre_tokenizer = { type: 'Whitespace' }), `x.json: field 'pre_tokenizer' is "Whitespace"; only BertPreTokenizer is supported`],
    ['post_processor type', (j) => ((j as J).post_processor.type = 'RobertaProcessing'), `x.json: field 'post_processor.type' is "RobertaProcessing"; only TemplateProcessing and BertProcessing are supported`],
    ['post_processor shape', (j) => ((j as J).post_processor.single = [{ Sequence: { id: 'A', type_id: 0 } }]), "x.json: field 'post_processor.single' is $A; expected the BERT form [CLS] $A [SEP]"],
    [
      'post_processor ids',
      (j) => (((j as J).post_processor.special_tokens as Record<string, Record<string, unknown>>)['[CLS]'].ids = [2]),
      `x.json: field 'post_processor.special_tokens["[CLS]"].ids' is [2] but model.vocab gives "[CLS]" id 101`,
    ],
    ['added token id', (j) => ((j.added_tokens as Record<string, unknown>[])[2].id = 7), `x.json: field 'added_tokens[2].id' gives "[CLS]" id 7 but model.vocab gives it 101`],
    ['padding id', (j) => (j.padding = { pad_token: '[PAD]', pad_id: 5 }), `x.json: field 'padding.pad_id' is 5 but model.vocab gives "[PAD]" id 0`],
  ];
  for (const [what, patch, message] of bad) {
    it(`rejects a bad file: ${what}`, () => {
      let err: unknown;
      try {
        WordPieceTokenizer.fromTokenizerJson(tokenizerJson(vocab, patch), 'x.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TokenizerError);
      expect((err as Error).message).toBe(message);
    });
  }

  it('rejects text that is not JSON or not an object', () => {
    expect(() => WordPieceTokenizer.fromTokenizerJson('{"model": ', 'https://x/tokenizer.json')).toThrow(/^https:\/\/x\/tokenizer\.json: not valid JSON \(/);
    expect(() => WordPieceTokenizer.fromTokenizerJson('[1, 2]', 't.json')).toThrow('t.json: the top level is not a JSON object');
  });
});

describe('checkTokenizerFitsModel', () => {
  it('names both files when the vocabulary sizes differ', () => {
    expect(() => checkTokenizerFitsModel(tok, 131, 'm.safetensors')).not.toThrow();
    expect(() => checkTokenizerFitsModel(tok, 30522, 'e5-small-v2/model.safetensors')).toThrow(
      "tokenizer test-vocab does not match model e5-small-v2/model.safetensors: the tokenizer has 131 tokens but the model's vocab_size is 30522",
    );
  });
});
