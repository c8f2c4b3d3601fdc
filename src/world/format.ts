// The on-disk world (DESIGN.md 9): DIR/corpus.jsonl, DIR/<split>/{train,dev,test}.jsonl, DIR/world.json.
// Serializing is pure; reading validates every line and names file, line and field on error.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asObject, type At, JsonlError, readJsonl, reqId, reqInt, reqString, reqStringArray, toJsonl, writeDirAtomic } from './jsonl.ts';
import { contents } from './passages.ts';
import type { CorpusRecord, Part, Question, SplitQuestions, World, WorldManifest } from './types.ts';
import { PARTS, SPLITS } from './types.ts';

export const MANIFEST = 'world.json';

export function corpusRecords(world: World): CorpusRecord[] {
  return world.passages.map((p) => ({ id: p.id, contents: contents(p.title, p.text) }));
}

/** Every file of a world, by path relative to its directory. */
export function worldFiles(world: World): Map<string, string> {
  const files = new Map<string, string>();
  files.set('corpus.jsonl', toJsonl(corpusRecords(world)));
  for (const split of SPLITS)
    for (const part of PARTS) files.set(`${split}/${part}.jsonl`, toJsonl(world.questions[split][part].map(questionRecord)));
  files.set(MANIFEST, `${JSON.stringify(world.manifest, null, 2)}\n`);
  return files;
}

/** Key order of a question line. */
export function questionRecord(q: Question): Question {
  return {
    id: q.id,
    question: q.question,
    golden_answers: q.golden_answers,
    supporting_ids: q.supporting_ids,
    hops: q.hops,
    family: q.family,
    relations: q.relations,
  };
}

export function isWorldDir(dir: string): boolean {
  return existsSync(join(dir, MANIFEST));
}

export function writeWorld(dir: string, world: World, onFile?: (rel: string) => void): void {
  writeDirAtomic(dir, worldFiles(world), { mayReplace: isWorldDir, onFile });
}

// ---- reading ----

export function validateCorpusRecord(value: unknown, at: At): CorpusRecord {
  const o = asObject(value, at);
  return { id: reqId(o, 'id', at), contents: reqString(o, 'contents', at, { nonEmpty: true }) };
}

export function validateQuestion(value: unknown, at: At): Question {
  const o = asObject(value, at);
  const q: Question = {
    id: reqId(o, 'id', at),
    question: reqString(o, 'question', at, { nonEmpty: true }),
    golden_answers: reqStringArray(o, 'golden_answers', at, { nonEmpty: true }),
    supporting_ids: reqStringArray(o, 'supporting_ids', at),
    hops: reqInt(o, 'hops', at, 1),
    family: reqString(o, 'family', at, { nonEmpty: true }),
    relations: o.relations === undefined ? [] : reqStringArray(o, 'relations', at),
  };
  return q;
}

/** Title and text of wiki-18 contents (`"Title"\ntext`); a line without quotes is taken as the title as is. */
export function splitContents(c: string): { title: string; text: string } {
  const nl = c.indexOf('\n');
  const head = nl < 0 ? c : c.slice(0, nl);
  const text = nl < 0 ? '' : c.slice(nl + 1);
  const title = head.length >= 2 && head.startsWith('"') && head.endsWith('"') ? head.slice(1, -1) : head;
  return { title, text };
}

export interface LoadedWorld {
  manifest: WorldManifest;
  corpus: CorpusRecord[];
  questions: SplitQuestions;
}

export function readWorld(dir: string): LoadedWorld {
  const mpath = join(dir, MANIFEST);
  let manifest: WorldManifest;
  try {
    manifest = JSON.parse(readFileSync(mpath, 'utf8')) as WorldManifest;
  } catch (e) {
    throw new Error(`${mpath}: cannot read the world manifest (${e instanceof Error ? e.message : String(e)})`);
  }
  const corpusPath = join(dir, 'corpus.jsonl');
  const corpus = readJsonl(corpusPath, validateCorpusRecord);
  const ids = new Set<string>();
  corpus.forEach((r, i) => {
    if (ids.has(r.id)) throw new JsonlError(corpusPath, i + 1, 'id', `duplicate id ${r.id}`);
    ids.add(r.id);
  });
  const questions = {} as SplitQuestions;
  for (const split of SPLITS) {
    questions[split] = {} as Record<Part, Question[]>;
    for (const part of PARTS) {
      const p = join(dir, split, `${part}.jsonl`);
      questions[split][part] = existsSync(p)
        ? readJsonl(p, (v, at) => {
            const q = validateQuestion(v, at);
            q.supporting_ids.forEach((id, i) => {
              if (!ids.has(id)) throw new JsonlError(at.file, at.line, `supporting_ids[${i}]`, `passage ${id} is not in ${corpusPath}`);
            });
            return q;
          })
        : [];
    }
  }
  return { manifest, corpus, questions };
}
