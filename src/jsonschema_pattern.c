/* jsonschema_pattern.c — JSON Schema "pattern" values are ECMAScript
 * regular expressions; regcomp speaks POSIX ERE. This translates what has
 * a faithful ERE equivalent (\\d \\w \\s and negations, (?:...), lazy
 * quantifiers, \\xHH and \\uXXXX escapes, literal braces) and refuses the
 * rest (lookaround, back references, \\p{...}), which the validator then
 * treats as matching (see jsonschema.h). Thread-safe. */
#include "jsonschema_int.h"
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* === Patterns: ECMAScript to POSIX ERE === */

int jsonschema_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Read n hex digits at p; -1 if they are not all there. */
static long read_hex(const char *p, int n)
{
    long v = 0;

    for (int i = 0; i < n; i++) {
        int h = jsonschema_hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static void put_utf8(struct buf *b, long cp)
{
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (char)(0xC0 | (cp >> 6)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_putc(b, (char)(0xE0 | (cp >> 12)));
        buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static bool ere_special(int ch)
{
    return ch && strchr(".[]{}()\\*+?^$|", ch) != NULL;
}

/* A literal character escape (\n, \t, \xHH, \uXXXX, \/, \.): sets *cp and
 * returns the escape's length after the backslash, or 0 if p is no such
 * escape. NUL and surrogates are refused. */
static int literal_escape(const char *p, long *cp)
{
    static const char ctl[] = "n\nt\tr\rf\fv\v";

    for (size_t i = 0; ctl[i]; i += 2) {
        if (*p == ctl[i]) {
            *cp = ctl[i + 1];
            return 1;
        }
    }
    if (*p == 'x' && (*cp = read_hex(p + 1, 2)) >= 0)
        return *cp == 0 ? 0 : 3;
    if (*p == 'u' && (*cp = read_hex(p + 1, 4)) >= 0)
        return (*cp >= 0xD800 && *cp <= 0xDFFF) || *cp == 0 ? 0 : 5;
    if (ispunct((unsigned char)*p)) {
        *cp = (unsigned char)*p;
        return 1;
    }
    return 0;
}

/* A character class [...] starting at p (just past '['); appends the ERE
 * form and returns the input length consumed, or -1 if unsupported. */
static int translate_class(const char *p, struct buf *out)
{
    const char *start = p;
    bool neg = false, rbracket = false, lbracket = false, caret = false, hyphen = false;
    struct buf body;

    buf_init(&body);
    if (*p == '^') {
        neg = true;
        p++;
    }
    if (*p == ']')
        goto fail;   /* [] and [^] */
    while (*p && *p != ']') {
        long lo;
        const char *cls = NULL;
        bool escaped = *p == '\\';

        if (escaped) {
            p++;
            switch (*p) {
            case 'd': cls = "0-9"; break;
            case 'w': cls = "0-9A-Za-z_"; break;
            case 's': cls = "[:space:]"; break;
            case 'b': lo = '\b'; break;
            default: {
                int n = literal_escape(p, &lo);
                if (n == 0)
                    goto fail;
                p += n - 1;
            }
            }
            p++;
        } else {
            lo = (unsigned char)*p++;
        }
        if (cls) {
            buf_puts(&body, cls);
            continue;
        }
        if (*p == '-' && p[1] && p[1] != ']') {
            long hi;
            p++;
            if (*p == '\\') {
                int n = literal_escape(p + 1, &hi);
                if (n == 0 || p[1] == 'b')
                    goto fail;
                p += 1 + n;
            } else {
                hi = (unsigned char)*p++;
            }
            if (lo >= 0x80 || hi >= 0x80 || hi < lo || strchr("]^-[", (int)lo) ||
                strchr("]^-[", (int)hi))
                goto fail;
            buf_printf(&body, "%c-%c", (char)lo, (char)hi);
            continue;
        }
        if (escaped && lo >= 0x80)
            goto fail;   /* a non-ASCII escape: bytes or not depends on the locale */
        switch (lo) {
        case ']': rbracket = true; break;
        case '[': lbracket = true; break;
        case '^': caret = true; break;
        case '-': hyphen = true; break;
        default: buf_putc(&body, (char)lo);
        }
    }
    if (*p != ']')
        goto fail;
    if (!neg && caret && !rbracket && !body.len && !lbracket) {
        if (!hyphen)
            goto fail;   /* "[^]" would be read as a negation */
        buf_puts(&body, "-");   /* "[-^]" */
        hyphen = false;
    }
    buf_putc(out, '[');
    if (neg)
        buf_putc(out, '^');
    if (rbracket)
        buf_putc(out, ']');
    if (body.len)
        buf_append(out, body.data, body.len);
    if (lbracket)
        buf_putc(out, '[');
    if (caret)
        buf_putc(out, '^');
    if (hyphen)
        buf_putc(out, '-');
    buf_putc(out, ']');
    buf_fini(&body);
    return (int)(p + 1 - start);
fail:
    buf_fini(&body);
    return -1;
}

/* Length of a {n}, {n,} or {n,m} quantifier at p, else 0. */
static int quantifier_len(const char *p)
{
    const char *q = p + 1;

    if (!isdigit((unsigned char)*q))
        return 0;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == ',') {
        q++;
        while (isdigit((unsigned char)*q))
            q++;
    }
    return *q == '}' ? (int)(q + 1 - p) : 0;
}

/* Translate an ECMAScript pattern to POSIX ERE. Returns 0, or -1 when it
 * uses something ERE has no equivalent for. */
static int translate_pattern(const char *p, struct buf *out)
{
    bool after_quant = false;

    while (*p) {
        bool quant = false;
        long cp;
        int n;

        /* "a+*" is an ECMAScript syntax error; stacked quantifiers also
         * make regcomp's closure computation explode ("a?????+++++") */
        if (after_quant && (*p == '*' || *p == '+' || *p == '?' ||
                            (*p == '{' && quantifier_len(p) > 0)))
            return -1;

        switch (*p) {
        case '\\':
            p++;
            switch (*p) {
            case 'd': buf_puts(out, "[0-9]"); p++; break;
            case 'D': buf_puts(out, "[^0-9]"); p++; break;
            case 'w': buf_puts(out, "[0-9A-Za-z_]"); p++; break;
            case 'W': buf_puts(out, "[^0-9A-Za-z_]"); p++; break;
            case 's': buf_puts(out, "[[:space:]]"); p++; break;
            case 'S': buf_puts(out, "[^[:space:]]"); p++; break;
            case 'b': buf_puts(out, "\\b"); p++; break;
            case 'B': buf_puts(out, "\\B"); p++; break;
            default:
                n = literal_escape(p, &cp);
                if (n == 0)
                    return -1;
                p += n;
                if (ere_special((int)cp))
                    buf_putc(out, '\\');
                if (cp >= 0x80)
                    buf_putc(out, '(');   /* so a quantifier takes all its bytes */
                put_utf8(out, cp);
                if (cp >= 0x80)
                    buf_putc(out, ')');
            }
            break;
        case '[':
            n = translate_class(p + 1, out);
            if (n < 0)
                return -1;
            p += 1 + n;
            break;
        case '(':
            if (p[1] == '?') {
                if (p[2] != ':')
                    return -1;   /* lookaround, named groups */
                p += 2;
            }
            buf_putc(out, '(');
            p++;
            break;
        case '.':
            buf_puts(out, "[^\n\r]");
            p++;
            break;
        case '{':
            n = quantifier_len(p);
            if (n > 0) {
                buf_append(out, p, (size_t)n);
                quant = true;
            } else {
                buf_puts(out, "\\{");
                n = 1;
            }
            p += n;
            break;
        case '}':
            buf_puts(out, "\\}");
            p++;
            break;
        case '*':
        case '+':
        case '?':
            buf_putc(out, *p++);
            quant = true;
            break;
        default:
            buf_putc(out, *p++);
        }
        if (quant && *p == '?')
            p++;   /* lazy: the same strings match */
        after_quant = quant;
    }
    if (!out->data)
        buf_puts(out, "");
    return 0;
}

/* The end of the bracket expression whose '[' is at p (just past its ']'). */
static const char *bracket_end(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    while (*p && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char close = p[1];
            const char *e = p + 2;
            while (*e && !(e[0] == close && e[1] == ']'))
                e++;
            p = *e ? e + 2 : e;
        } else {
            p++;
        }
    }
    return *p ? p + 1 : p;
}

/* regcomp copies a counted repetition's operand once per count, nested
 * counts multiplying: "(a{1000}){1000}" takes a million nodes, gigabytes
 * from one schema a server sends. An estimate of the nodes, capped; its
 * memory grows faster than the nodes (a 7,000-character alternation takes
 * 19 MB, 21,000 take 150 MB), and real patterns are a few hundred. */
#define ERE_MAX_NODES 4000
#define ERE_MAX_DEPTH 64

static bool ere_too_big(const char *p)
{
    double sum[ERE_MAX_DEPTH + 1];   /* nodes of each open group so far */
    int depth = 0;
    double last = 0;                 /* nodes of the atom a quantifier would take */

    sum[0] = 0;
    while (*p) {
        double atom = 1;
        switch (*p) {
        case '\\':
            p += p[1] ? 2 : 1;
            break;
        case '[':
            p = bracket_end(p);
            break;
        case '(':
            if (depth == ERE_MAX_DEPTH)
                return true;
            sum[++depth] = 0;
            last = 0;
            p++;
            continue;
        case ')':
            if (depth > 0)
                atom = sum[depth--] + 1;
            p++;
            break;
        case '{':
        case '+': {
            /* "x{n,m}" holds m copies of x, "x{n,}" n + 1, "x+" two */
            double copies = 2;
            if (*p == '{') {
                /* only digits here (quantifier_len); doubles cannot overflow */
                char *end;
                double lo = strtod(p + 1, &end), hi = lo + 1;
                if (*end == ',' && isdigit((unsigned char)end[1]))
                    hi = strtod(end + 1, &end);
                else if (*end != ',')
                    hi = lo;
                while (*end && *end != '}')
                    end++;
                p = end;
                copies = hi > lo ? hi : lo;
            }
            p += *p ? 1 : 0;
            sum[depth] += last * (copies - 1) + 1;
            last *= copies;
            if (sum[depth] > ERE_MAX_NODES)
                return true;
            continue;
        }
        case '*':
        case '?':
            sum[depth] += 1;
            p++;
            continue;
        case '|':
            sum[depth] += 1;
            last = 0;
            p++;
            continue;
        default:
            p++;
        }
        sum[depth] += atom;
        last = atom;
        if (sum[depth] > ERE_MAX_NODES)
            return true;
    }
    return false;
}

int jsonschema_pattern_compile(const char *pattern, regex_t *re)
{
    struct buf ere;
    int ok = 0;

    buf_init(&ere);
    if (translate_pattern(pattern, &ere) == 0 && !ere_too_big(ere.data))
        ok = regcomp(re, ere.data, REG_EXTENDED | REG_NOSUB) == 0;
    buf_fini(&ere);
    return ok;
}

/* Does s match pattern (the text of schema node, which keys the cache)?
 * 1 yes, 0 no, -1 when the pattern is unsupported (callers treat that as
 * a match). */
