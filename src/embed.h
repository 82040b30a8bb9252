/* embed.h — text → vector, for the memory store.
 *
 * Two embedders behind one handle:
 *
 * hashing (embed_hashing_new): feature hashing, local and instant. Each
 *   text is lower-cased (ASCII letters; UTF-8 bytes kept as they are) and
 *   split into words on every ASCII byte that is not a letter or digit.
 *   Each word adds weight 1.0 to one bucket, and each of its character
 *   3-grams and 4-grams (over the word padded with '^' and '$') adds 0.5;
 *   the bucket is FNV-1a (64-bit) of the feature mod dim, the sign comes
 *   from a second, differently seeded FNV-1a. The sum is L2-normalised.
 *   Deterministic across runs and machines (no randomness, no locale).
 *   Good for: lexical similarity, shared identifiers and file names,
 *   typos and inflections (the n-grams overlap). Not for: synonyms,
 *   paraphrase, meaning across different words or languages.
 *
 * openai (embed_openai_new): any OpenAI-compatible POST /embeddings
 *   (Ollama, OpenAI, vLLM, LM Studio). Blocking libcurl requests.
 *
 * An embedder is not thread-safe; use one per thread. */
#ifndef MCPDECK_EMBED_H
#define MCPDECK_EMBED_H

#include <stddef.h>

struct embedder;

/* The hashing embedder with dim buckets (dim <= 0: 384). Owned. */
struct embedder *embed_hashing_new(int dim);
/* An OpenAI-compatible /v1/embeddings client. base_url like
 * "http://localhost:11434/v1" (".../embeddings" is appended); the bearer
 * key is read from the environment variable key_env at each request
 * (key_env NULL or unset: no Authorization header); model is the model
 * id; batch is the number of texts per request (<= 0: 64). Owned; NULL
 * when base_url or model is missing. No request is made here. */
struct embedder *embed_openai_new(const char *base_url, const char *key_env, const char *model,
                                  int batch);
void embed_free(struct embedder *e);   /* NULL-safe */

/* A stable id stored with the vectors, so vectors of different
 * embedders never mix: "hashing-384-v1", "openai:<model>@<base_url>".
 * Borrowed; lives as long as e. */
const char *embed_id(const struct embedder *e);
/* The dimension: fixed for hashing; 0 for openai until the first answer. */
int embed_dim(const struct embedder *e);

/* Embed n texts (UTF-8, NUL-terminated) into *out: n * dim floats, each
 * row L2-normalised, malloc'd, caller frees. *dim is set. Blocking:
 * hashing is pure CPU; openai does one libcurl request per batch, with up
 * to 4 retries on transport errors, 429 and 5xx (exponential backoff from
 * 500 ms, or the server's Retry-After, capped at 30 s) — run it on a
 * worker thread or in a one-shot CLI. Returns 0, or -1 with *errmsg
 * (caller frees; *out NULL). n == 0 succeeds with *out NULL. A hashing
 * text without any word (empty, only punctuation) gives an all-zero row,
 * which vecindex_put() refuses. */
int embed_texts(struct embedder *e, const char *const *texts, size_t n, float **out, int *dim,
                char **errmsg);

#endif
