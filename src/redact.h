/* redact.h — keep secrets out of logs, the database and results.
 *
 * Secrets come from the environment. Config registers every value it
 * expands into a server's env or headers (redact_add_env) and the names
 * listed under `secrets:`; startup may also register every variable whose
 * name looks secret (redact_scan_environ). Every string the engine stores
 * or logs then passes through redact_text (or redact_json for documents),
 * which replaces, with "[REDACTED]":
 *
 *   - every registered secret value, wherever it appears;
 *   - header values of Authorization, Proxy-Authorization, api-key,
 *     x-api-key, Cookie and Set-Cookie, as "Name: value" (to the end of the
 *     line, a quote or a backslash) and as a quoted JSON member
 *     ("authorization": "...", also inside an escaped JSON string); an auth
 *     scheme word is kept: "Authorization: Bearer [REDACTED]";
 *   - "Bearer <token>" and "Basic <base64>" where the word after the scheme
 *     looks like a credential (see redact.c), so "Basic usage" stays;
 *   - the values of URL query parameters token, access_token, refresh_token,
 *     api_key, apikey, key, secret, password, sig, signature and auth after
 *     '?' or '&' (up to '&', '#', whitespace, a quote or a backslash);
 *   - the password of URL userinfo: scheme://user:[REDACTED]@host.
 *
 * Registration is guarded by a lock and may happen from any thread, but is
 * meant for startup; redaction takes the same lock for reading, so any
 * thread may redact at any time. */
#ifndef MCPDECK_REDACT_H
#define MCPDECK_REDACT_H

#include <stddef.h>

struct cJSON;

#define REDACT_MARK "[REDACTED]"

/* Values shorter than this are not registered: redacting "1" or "true"
 * everywhere would destroy ordinary text and hide nothing worth hiding. */
#define REDACT_MIN_SECRET 6

/* Register a literal secret value (copied). Returns 1 when it was added,
 * 0 when it was ignored: NULL, shorter than REDACT_MIN_SECRET bytes, or
 * already registered. */
int redact_add(const char *value);

/* Register the value of environment variable name, if it is set (same
 * rules and return as redact_add). */
int redact_add_env(const char *name);

/* Register the values of every environment variable whose NAME looks
 * secret: it contains KEY, TOKEN, SECRET, PASSWORD, PASSWD or CREDENTIAL,
 * or starts with AUTH, ignoring case (OPENROUTER_API_KEY, GITHUB_TOKEN,
 * AUTH_HEADER; not PATH or SSH_AUTH_SOCK). Returns how many were added. */
int redact_scan_environ(void);

/* 1 when an environment variable name looks secret by the rule above. */
int redact_env_name_is_secret(const char *name);

/* The environment for a child process (a stdio server, a shell command):
 * ours without the secrets — names that look secret, and the nhide names
 * in hide ("NAME" or "NAME=...") — then the nextra "K=V" entries of extra,
 * which replace ours of the same name. What else it inherits (PATH, HOME,
 * proxies, locale) it needs to run at all. NULL-terminated; free the array
 * only (its strings are environ's and extra's). With hidden, the names
 * left out are appended there, separated by ", " (names only). */
struct buf;
char **redact_child_env(char *const *hide, size_t nhide, char *const *extra, size_t nextra,
                        struct buf *hidden);

/* 1 when a JSON member or log field named key always holds a secret:
 * the header names above, and access_token, refresh_token, api_key,
 * apikey, client_secret, secret, password, passwd (ignoring case). The
 * generic query names key, token, sig, signature and auth are NOT on this
 * list: as JSON members they usually name ordinary data (a map's "key", a
 * tokenizer's "token"). */
int redact_key_is_secret(const char *key);

/* A malloc'd, NUL-terminated copy of s[0..len) with every secret replaced
 * by REDACT_MARK; *outlen (if not NULL) gets its length. s may hold NUL
 * bytes; s NULL is taken as "". Cost: one memmem pass per registered
 * secret, a few memchr/memmem passes for the trigger characters and words
 * (':' '=' "bearer" "basic"), a look-behind of at most 64 bytes at each
 * ':' and '=', and one copy; text with nothing to redact allocates
 * nothing else. Any thread. */
char *redact_text(const char *s, size_t len, size_t *outlen);

/* redact_text over a NUL-terminated string. NULL in, NULL out. */
char *redact_string(const char *s);

/* Redact a cJSON tree in place: every string value goes through
 * redact_text, every member name too, and the value of a member whose
 * key passes redact_key_is_secret (a string or a number) becomes
 * REDACT_MARK. Returns how many names and values changed (0 for NULL, and
 * 0 when run again over its own output). Any thread. */
int redact_json(struct cJSON *j);

/* Whether redact_json(j) would change anything, without copying the tree
 * (an answer with nothing to redact is passed on as it is). Any thread. */
int redact_json_needed(const struct cJSON *j);

/* Forget every registered secret (tests). */
void redact_reset(void);

#endif
