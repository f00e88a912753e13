/**
 * Weighted Jaccard over word sets: words are interned to integers, each carries an inverse document
 * frequency weight, and similarity is sum(weights shared) / sum(weights in either). Rare words such as a
 * company or model name dominate, common ones ("model", "launch") barely count.
 */
export interface WordIndex {
  /** Each document's word ids, sorted ascending. */
  docs: Int32Array[];
  /** Weight of each word id. */
  weights: Float64Array;
  /** Number of documents each word id occurs in. */
  documentFrequency: Int32Array;
}

// Name-like words weigh this many times an ordinary word of the same rarity.
const NAME_WEIGHT = 6;

/**
 * Interns every document's words and weighs each word by ln(1 + n/df)² (squared so rare words dominate
 * harder), times NAME_WEIGHT when it appears in `names`.
 */
export function buildWordIndex(
  documents: readonly (readonly string[])[],
  names: ReadonlySet<string> = new Set(),
): WordIndex {
  const ids = new Map<string, number>();
  const frequency: number[] = [];
  const docs = documents.map((words) => {
    const out: number[] = [];
    for (const word of new Set(words)) {
      let id = ids.get(word);
      if (id === undefined) {
        id = ids.size;
        ids.set(word, id);
        frequency.push(0);
      }
      frequency[id] = (frequency[id] ?? 0) + 1;
      out.push(id);
    }
    return Int32Array.from(out.sort((a, b) => a - b));
  });
  const total = documents.length;
  const weights = new Float64Array(frequency.length);
  for (const [word, id] of ids) {
    const idf = Math.log(1 + total / (frequency[id] ?? 1));
    weights[id] = idf * idf * (names.has(word) ? NAME_WEIGHT : 1);
  }
  return { docs, weights, documentFrequency: Int32Array.from(frequency) };
}

/** Weighted Jaccard of two sorted word-id arrays; 0 when both are empty. */
export function weightedJaccard(a: Int32Array, b: Int32Array, weights: Float64Array): number {
  let shared = 0;
  let either = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      const w = weights[x] as number;
      shared += w;
      either += w;
      i++;
      j++;
    } else if (x < y) {
      either += weights[x] as number;
      i++;
    } else {
      either += weights[y] as number;
      j++;
    }
  }
  for (; i < a.length; i++) either += weights[a[i] as number] as number;
  for (; j < b.length; j++) either += weights[b[j] as number] as number;
  return either === 0 ? 0 : shared / either;
}
