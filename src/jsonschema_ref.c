/* jsonschema_ref.c — resolving "$ref" inside one schema document: JSON
 * pointers ("#/definitions/x", "#/$defs/x", "#"; ~0 ~1 and %XX escapes),
 * "$anchor" names, and the root's own "$id". Thread-safe. */
#include "jsonschema_int.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* === $ref === */

#define ANCHOR_DEPTH_MAX 512   /* as deep as the validator follows a schema */

static bool id_matches(const cJSON *root, const char *uri, size_t len)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "$id");
    size_t n;

    if (!cJSON_IsString(id) || len == 0)
        return false;
    n = strlen(id->valuestring);
    if (n > 0 && id->valuestring[n - 1] == '#')
        n--;
    return n == len && memcmp(id->valuestring, uri, len) == 0;
}

static const cJSON *find_anchor(const cJSON *s, const char *name, int depth, long long *work)
{
    *work += 1;
    if (depth > ANCHOR_DEPTH_MAX || !(cJSON_IsObject(s) || cJSON_IsArray(s)))
        return NULL;
    if (cJSON_IsObject(s)) {
        *work += 2LL * cJSON_GetArraySize(s);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(s, "$anchor");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "$id");
        if (cJSON_IsString(a) && strcmp(a->valuestring, name) == 0)
            return s;
        if (cJSON_IsString(id) && id->valuestring[0] == '#' &&
            strcmp(id->valuestring + 1, name) == 0)
            return s;
    }
    for (const cJSON *e = s->child; e; e = e->next) {
        const cJSON *hit = find_anchor(e, name, depth + 1, work);
        if (hit)
            return hit;
    }
    return NULL;
}

/* Decode one URI-fragment JSON-pointer token (p..end) into tok. */
static bool decode_token(const char *p, const char *end, char *tok, size_t size)
{
    size_t n = 0;

    while (p < end) {
        int ch = (unsigned char)*p++;
        if (ch == '%' && end - p >= 2 && jsonschema_hexval(p[0]) >= 0 && jsonschema_hexval(p[1]) >= 0) {
            ch = jsonschema_hexval(p[0]) * 16 + jsonschema_hexval(p[1]);
            p += 2;
        }
        if (n + 1 >= size)
            return false;
        tok[n++] = (char)ch;
    }
    tok[n] = '\0';
    /* ~1 and ~0 are undone after percent-decoding (RFC 6901 section 6). */
    char *w = tok;
    for (const char *r = tok; *r; r++) {
        if (r[0] == '~' && (r[1] == '0' || r[1] == '1')) {
            *w++ = r[1] == '0' ? '~' : '/';
            r++;
        } else if (r[0] == '~') {
            return false;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return true;
}

const cJSON *jsonschema_ref_resolve(const cJSON *root, const char *ref, long long *work)
{
    const char *hash = strchr(ref, '#');
    const cJSON *cur = root;
    char tok[256];

    if (!hash)
        return id_matches(root, ref, strlen(ref)) ? root : NULL;
    if (hash != ref && !id_matches(root, ref, (size_t)(hash - ref)))
        return NULL;
    const char *p = hash + 1;
    if (*p && *p != '/') {
        if (!decode_token(p, p + strlen(p), tok, sizeof tok))
            return NULL;
        return find_anchor(root, tok, 0, work);
    }
    while (*p == '/') {
        const char *end = strchr(p + 1, '/');
        if (!end)
            end = p + strlen(p);
        if (!decode_token(p + 1, end, tok, sizeof tok))
            return NULL;
        p = end;
        *work += 1 + cJSON_GetArraySize(cur);
        if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        } else if (cJSON_IsArray(cur)) {
            char *e;
            long i = strtol(tok, &e, 10);
            if (!isdigit((unsigned char)tok[0]) || *e || i > 1000000)
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)i);
        } else {
            return NULL;
        }
        if (!cur)
            return NULL;
    }
    return cur;
}

