/* jsonschema.h — validate cJSON values against the JSON Schemas that MCP
 * servers publish (a tool's inputSchema before a task runs, its
 * outputSchema against structuredContent in results).
 *
 * Supported (draft-07 and 2020-12 as MCP servers use them): type (one name
 * or an array; "integer" is a number with no fraction), properties,
 * required, additionalProperties (bool or schema), patternProperties,
 * items (schema, or the draft-07 array form with additionalItems),
 * prefixItems, enum, const, minimum, maximum, exclusiveMinimum and
 * exclusiveMaximum (number form; the draft-04 boolean form too),
 * multipleOf, minLength and maxLength (UTF-8 code points), pattern,
 * minItems, maxItems, uniqueItems, minProperties, maxProperties, anyOf,
 * oneOf, allOf, not, and $ref to the same document ("#", "#/definitions/x",
 * "#/$defs/x", any JSON pointer with ~0 ~1 and %XX escapes, a "$anchor",
 * or a URI equal to the root "$id"). Boolean schemas true/false work
 * anywhere a schema does. Everything else (format, default, title,
 * description, $schema, $id, unknown keywords) is ignored.
 *
 * Patterns are ECMAScript regexes; they are translated to POSIX ERE for
 * regcomp (\d \w \s and their negations, (?:), lazy quantifiers, \uXXXX).
 * A pattern that cannot be translated or that regcomp rejects (lookaround,
 * back references, \p{...}) is skipped and treated as matching, so an
 * unusual pattern never makes a valid value fail; so is one that would
 * make regcomp build over about 4,000 nodes, counted repetitions
 * multiplying ("(a{1000}){1000}" would take gigabytes).
 *
 * Recursion is bounded: instances nested deeper than 64 levels, and more
 * than 64 $refs followed without descending into the instance (a $ref
 * loop such as {"$ref":"#"}), are reported as errors, never a hang.
 *
 * Thread-safe: no static mutable state; nothing is allocated while
 * validating apart from compiled patterns and the error message. */
#ifndef MCPDECK_JSONSCHEMA_H
#define MCPDECK_JSONSCHEMA_H

#include <cjson/cJSON.h>

/* Validate instance against schema. Returns 0 if valid; else -1 and, when
 * errmsg is not NULL, a malloc'd *errmsg with the first error as
 * "<path>: <what was wrong>". The path starts with root_name ("args",
 * "structuredContent"; NULL means "$") and continues in dotted form:
 * "args.files[2].name: expected string, got number",
 * "args: missing required property 'message'",
 * "args.mode: 'fast' is not one of: \"slow\", \"medium\"",
 * "args: unknown property 'mesage' (allowed: message)".
 * A failed anyOf/oneOf names the closest branch's own error:
 * "args.x: does not match any of the 2 allowed schemas; closest is #2:
 * args.x.n: expected integer, got number 1.5" (or, when every branch
 * wanted another type, "args.x: expected string or null, got number").
 * A broken schema (a subschema that is not an object or boolean, an
 * unknown type name, a $ref that cannot be resolved, a keyword with a value
 * of the wrong kind) is an error naming the schema location:
 * "args.a: invalid schema at #/properties/a: cannot resolve $ref '#/x'".
 * Work is bounded whatever the two hold (both may come from a server):
 * past 500,000 schemas visited, or 20 million members looked up by name,
 * enum values compared and patterns tried, validation fails with an
 * error saying so. */
int jsonschema_validate(const cJSON *schema, const cJSON *instance, const char *root_name,
                        char **errmsg);

/* Add to the object instance each property of the schema's top-level
 * "properties" (following a root $ref and a $ref on the property) that is
 * missing from instance and has a "default"; the default is deep-copied.
 * Existing members are never touched. Returns how many were added (0 when
 * schema or instance is not an object). Bounded like validation: past 20
 * million lookups (a schema of tens of thousands of properties over an
 * instance as big) the remaining properties get no default. */
int jsonschema_apply_defaults(const cJSON *schema, cJSON *instance);

#endif
