// Search-R1's data formats (as FlashRAG ships them): questions `{id, question, golden_answers, ...}` and the
// wiki-18 corpus `{id, contents: "\"Title\"\ntext"}`, both JSON Lines. Export writes a world in them (our
// evidence labels under `metadata`); import reads such files back, validating every line.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readWorld } from './format.ts';
import { asObject, type At, JsonlError, readJsonl, reqId, reqString, reqStringArray, toJsonl, writeDirAtomic } from './jsonl.ts';
import type { CorpusRecord, Question } from './types.ts';
import { PARTS, SPLITS } from './types.ts';

export interface SearchR1Question {
  id: string;
  question: string;
  golden_answers: string[];
  data_source: string;
  metadata: { supporting_ids: string[]; hops: number; family: string; relations: string[] };
}

export const EXPORT_MARKER = 'search-r1-export.json';

export function toSearchR1(q: Question, dataSource: string): SearchR1Question {
  return {
    id: q.id,
    question: q.question,
    golden_answers: q.golden_answers,
    data_source: dataSource,
    metadata: { supporting_ids: q.supporting_ids, hops: q.hops, family: q.family, relations: q.relations },
  };
}

/**
 * Writes OUT/corpus.jsonl and OUT/<split>/<part>.jsonl (non-empty parts only) in Search-R1's formats, plus
 * OUT/search-r1-export.json listing them. Atomic: all or nothing.
 */
export function exportSearchR1(worldDir: string, outDir: string): { questions: number; passages: number; files: string[] } {
  const w = readWorld(worldDir);
  const files = new Map<string, string>();
  files.set('corpus.jsonl', toJsonl(w.corpus.map((r) => ({ id: r.id, contents: r.contents }))));
  let n = 0;
  for (const split of SPLITS)
    for (const part of PARTS) {
      const qs = w.questions[split][part];
      if (qs.length === 0) continue;
      files.set(`${split}/${part}.jsonl`, toJsonl(qs.map((q) => toSearchR1(q, split))));
      n += qs.length;
    }
  const listed = [...files.keys()];
  files.set(EXPORT_MARKER, `${JSON.stringify({ format: 'search-r1', from: w.manifest.format, seed: w.manifest.seed, size: w.manifest.size, sources: w.manifest.sources, files: listed }, null, 2)}\n`);
  writeDirAtomic(outDir, files, { mayReplace: (d) => existsSync(join(d, EXPORT_MARKER)) });
  return { questions: n, passages: w.corpus.length, files: listed };
}

// ---- import ----

export interface ImportedQuestion {
  id: string;
  question: string;
  golden_answers: string[];
  data_source: string | null;
  /** Evidence labels when the file carries ours (metadata.supporting_ids); else empty. */
  supporting_ids: string[];
}

export function validateSearchR1Question(value: unknown, at: At): ImportedQuestion {
  const o = asObject(value, at);
  const question = reqString(o, 'question', at, { nonEmpty: true });
  const golden = reqStringArray(o, 'golden_answers', at, { nonEmpty: true });
  golden.forEach((g, i) => {
    if (g.trim() === '') throw new JsonlError(at.file, at.line, `golden_answers[${i}]`, 'must not be empty');
  });
  const id = o.id === undefined ? `${basename(at.file)}:${at.line}` : reqId(o, 'id', at);
  const data_source = o.data_source === undefined ? null : reqString(o, 'data_source', at);
  let supporting: string[] = [];
  if (o.metadata !== undefined && o.metadata !== null) {
    const m = o.metadata;
    if (typeof m !== 'object' || Array.isArray(m)) throw new JsonlError(at.file, at.line, 'metadata', 'expected an object');
    const mo = m as Record<string, unknown>;
    if (mo.supporting_ids !== undefined) supporting = reqStringArray(mo, 'supporting_ids', { file: at.file, line: at.line }).slice();
  }
  return { id, question, golden_answers: golden, data_source, supporting_ids: supporting };
}

export function validateSearchR1Passage(value: unknown, at: At): CorpusRecord {
  const o = asObject(value, at);
  return { id: reqId(o, 'id', at), contents: reqString(o, 'contents', at, { nonEmpty: true }) };
}

export interface Imported {
  questions: ImportedQuestion[];
  corpus: CorpusRecord[];
}

/**
 * Reads Search-R1 question files and (optionally) a corpus. Checks every line; ids must be unique per file, and
 * when a corpus is given, every metadata.supporting_ids entry must name one of its passages.
 */
export function importSearchR1(opts: { questions: readonly string[]; corpus?: string }): Imported {
  const corpus: CorpusRecord[] = [];
  const ids = new Set<string>();
  if (opts.corpus) {
    const file = opts.corpus;
    readJsonl(file, (v, at) => {
      const r = validateSearchR1Passage(v, at);
      if (ids.has(r.id)) throw new JsonlError(file, at.line, 'id', `duplicate passage id ${r.id}`);
      ids.add(r.id);
      corpus.push(r);
      return r;
    });
  }
  const questions: ImportedQuestion[] = [];
  for (const file of opts.questions) {
    const seen = new Set<string>();
    readJsonl(file, (v, at) => {
      const q = validateSearchR1Question(v, at);
      if (seen.has(q.id)) throw new JsonlError(file, at.line, 'id', `duplicate question id ${q.id}`);
      seen.add(q.id);
      if (opts.corpus)
        q.supporting_ids.forEach((sid, i) => {
          if (!ids.has(sid)) throw new JsonlError(file, at.line, `metadata.supporting_ids[${i}]`, `passage ${sid} is not in ${opts.corpus}`);
        });
      questions.push(q);
      return q;
    });
  }
  return { questions, corpus };
}
