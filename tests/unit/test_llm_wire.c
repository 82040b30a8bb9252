/* test_llm_wire.c — the OpenAI Chat Completions and Anthropic Messages
 * wire formats: requests built from the neutral conversation, complete
 * answers, error bodies, and streams fed through the real SSE parser at
 * many chunk sizes. Samples follow the providers' published formats.
 *
 * JSON in this file is written with single quotes for readability; q()
 * turns every ' into " (so no sample contains an apostrophe). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_wire.h"
#include "sse.h"
#include "util.h"

static char *q(const char *s)
{
    char *out = xstrdup(s);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static cJSON *qjson(const char *s)
{
    char *t = q(s);
    cJSON *j = cJSON_Parse(t);
    if (!j)
        fail_msg("bad test JSON: %s", t);
    free(t);
    return j;
}

/* Fail with both documents printed unless a and b are equal JSON. */
static void assert_json_equal(const cJSON *got, const char *want_q)
{
    cJSON *want = qjson(want_q);
    if (!cJSON_Compare(got, want, 1)) {
        char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);
        print_error("got  %s\nwant %s\n", g, w);
        cJSON_free(g);
        cJSON_free(w);
        cJSON_Delete(want);
        fail();
    }
    cJSON_Delete(want);
}

static void assert_contains(const char *s, const char *part)
{
    if (!s || !strstr(s, part))
        fail_msg("'%s' does not contain '%s'", s ? s : "(null)", part);
}

/* === requests === */

struct req_case {
    const char *name;
    enum llm_dialect d;
    const char *messages;
    const char *tools;           /* or NULL */
    int max_tokens;
    double temperature;
    int stream;
    const char *want;            /* the body, or NULL for an error */
    const char *err;             /* part of the error */
};

static const struct req_case req_cases[] = {
    {"openai system and user", LLM_DIALECT_OPENAI,
     "[{'role':'system','content':'Be brief.'},{'role':'user','content':'Hi'}]", NULL, 100, 0.2,
     0,
     "{'model':'m1','messages':[{'role':'system','content':'Be brief.'},"
     "{'role':'user','content':'Hi'}],'max_tokens':100,'temperature':0.2}",
     NULL},
    {"openai tool round trip, streamed", LLM_DIALECT_OPENAI,
     "[{'role':'user','content':'Read README'},"
     " {'role':'assistant','content':'','tool_calls':[{'id':'call_1','name':'fs__read_file',"
     "   'arguments':{'path':'README.md'}}]},"
     " {'role':'tool','tool_call_id':'call_1','content':'# mcpdeck'},"
     " {'role':'assistant','content':'It is a README.'},"
     " {'role':'user','content':'Thanks'}]",
     "[{'name':'fs__read_file','description':'Read a file','input_schema':"
     "   {'$schema':'http://json-schema.org/draft-07/schema#','type':'object',"
     "    'properties':{'path':{'type':'string'}},'required':['path']}},"
     " {'name':'git__status'}]",
     256, -1, 1,
     "{'model':'m1','messages':[{'role':'user','content':'Read README'},"
     " {'role':'assistant','content':null,'tool_calls':[{'id':'call_1','type':'function',"
     "   'function':{'name':'fs__read_file','arguments':'{\\'path\\':\\'README.md\\'}'}}]},"
     " {'role':'tool','content':'# mcpdeck','tool_call_id':'call_1'},"
     " {'role':'assistant','content':'It is a README.'},"
     " {'role':'user','content':'Thanks'}],"
     "'tools':[{'type':'function','function':{'name':'fs__read_file','description':'Read a file',"
     "   'parameters':{'type':'object','properties':{'path':{'type':'string'}},"
     "   'required':['path']}}},"
     " {'type':'function','function':{'name':'git__status',"
     "   'parameters':{'type':'object','properties':{}}}}],"
     "'max_tokens':256,'stream':true,'stream_options':{'include_usage':true}}",
     NULL},
    {"openai text alongside calls, no arguments", LLM_DIALECT_OPENAI,
     "[{'role':'user','content':'x'},{'role':'assistant','content':'Let me look.',"
     "  'tool_calls':[{'id':'a','name':'t'}]},{'role':'tool','tool_call_id':'a','content':''}]",
     NULL, 10, -1, 0,
     "{'model':'m1','messages':[{'role':'user','content':'x'},{'role':'assistant',"
     " 'content':'Let me look.','tool_calls':[{'id':'a','type':'function',"
     " 'function':{'name':'t','arguments':'{}'}}]},"
     " {'role':'tool','content':'','tool_call_id':'a'}],'max_tokens':10}",
     NULL},
    {"anthropic system on top", LLM_DIALECT_ANTHROPIC,
     "[{'role':'system','content':'Be brief.'},{'role':'user','content':'Hi'}]", NULL, 100, 0.5,
     0,
     "{'model':'m1','max_tokens':100,'system':'Be brief.',"
     " 'messages':[{'role':'user','content':'Hi'}],'temperature':0.5}",
     NULL},
    {"anthropic tool round trip, results merged", LLM_DIALECT_ANTHROPIC,
     "[{'role':'system','content':'S'},"
     " {'role':'user','content':'Look at both'},"
     " {'role':'assistant','content':'Reading.','tool_calls':["
     "   {'id':'toolu_1','name':'fs__read_file','arguments':{'path':'a'}},"
     "   {'id':'toolu_2','name':'fs__read_file','arguments':{'path':'b'}}]},"
     " {'role':'tool','tool_call_id':'toolu_1','content':'A'},"
     " {'role':'tool','tool_call_id':'toolu_2','content':'no such file','is_error':true},"
     " {'role':'user','content':'And now?'}]",
     "[{'name':'fs__read_file','description':'Read','input_schema':{'$schema':'x',"
     "  'anyOf':[{'required':['path']}],'properties':{'path':{'type':'string'}}}},"
     " {'name':'empty','input_schema':{}}]",
     512, -1, 1,
     "{'model':'m1','max_tokens':512,'system':'S','messages':["
     " {'role':'user','content':'Look at both'},"
     " {'role':'assistant','content':[{'type':'text','text':'Reading.'},"
     "   {'type':'tool_use','id':'toolu_1','name':'fs__read_file','input':{'path':'a'}},"
     "   {'type':'tool_use','id':'toolu_2','name':'fs__read_file','input':{'path':'b'}}]},"
     " {'role':'user','content':["
     "   {'type':'tool_result','tool_use_id':'toolu_1','content':'A'},"
     "   {'type':'tool_result','tool_use_id':'toolu_2','content':'no such file','is_error':true},"
     "   {'type':'text','text':'And now?'}]}],"
     "'tools':[{'name':'fs__read_file','description':'Read','input_schema':"
     "   {'properties':{'path':{'type':'string'}},'type':'object'}},"
     " {'name':'empty','input_schema':{'type':'object','properties':{}}}],"
     "'stream':true}",
     NULL},
    {"anthropic only tool calls, empty texts dropped", LLM_DIALECT_ANTHROPIC,
     "[{'role':'user','content':'go'},"
     " {'role':'assistant','content':'','tool_calls':[{'id':'t1','name':'x','arguments':{}}]},"
     " {'role':'tool','tool_call_id':'t1','content':''},"
     " {'role':'assistant','content':''},"
     " {'role':'user','content':'more'}]",
     NULL, 5, -1, 0,
     "{'model':'m1','max_tokens':5,'messages':[{'role':'user','content':'go'},"
     " {'role':'assistant','content':[{'type':'tool_use','id':'t1','name':'x','input':{}}]},"
     " {'role':'user','content':[{'type':'tool_result','tool_use_id':'t1'},"
     "   {'type':'text','text':'more'}]}]}",
     NULL},
    {"anthropic tool results ahead of a user text", LLM_DIALECT_ANTHROPIC,
     "[{'role':'user','content':'go'},"
     " {'role':'assistant','tool_calls':[{'id':'t1','name':'x'}]},"
     " {'role':'user','content':'note'},"
     " {'role':'tool','tool_call_id':'t1','content':'r'}]",
     NULL, 5, -1, 0,
     "{'model':'m1','max_tokens':5,'messages':[{'role':'user','content':'go'},"
     " {'role':'assistant','content':[{'type':'tool_use','id':'t1','name':'x','input':{}}]},"
     " {'role':'user','content':[{'type':'tool_result','tool_use_id':'t1','content':'r'},"
     "   {'type':'text','text':'note'}]}]}",
     NULL},
    {"anthropic consecutive user messages merged", LLM_DIALECT_ANTHROPIC,
     "[{'role':'user','content':'one'},{'role':'user','content':'two'}]", NULL, 5, -1, 0,
     "{'model':'m1','max_tokens':5,'messages':[{'role':'user','content':["
     " {'type':'text','text':'one'},{'type':'text','text':'two'}]}]}",
     NULL},
    /* conversations that cannot be expressed */
    {"tool result without a call", LLM_DIALECT_OPENAI,
     "[{'role':'user','content':'x'},{'role':'tool','tool_call_id':'nope','content':'r'}]", NULL,
     5, -1, 0, NULL, "messages[1]: tool_call_id 'nope' matches no earlier tool call"},
    {"tool result without a call (anthropic)", LLM_DIALECT_ANTHROPIC,
     "[{'role':'user','content':'x'},{'role':'tool','content':'r'}]", NULL, 5, -1, 0, NULL,
     "matches no earlier tool call"},
    {"system not first", LLM_DIALECT_ANTHROPIC,
     "[{'role':'user','content':'x'},{'role':'system','content':'s'}]", NULL, 5, -1, 0, NULL,
     "messages[1]: a system message may appear first only"},
    {"unknown role", LLM_DIALECT_OPENAI, "[{'role':'developer','content':'x'}]", NULL, 5, -1, 0,
     NULL, "unknown role 'developer'"},
    {"no role", LLM_DIALECT_OPENAI, "[{'content':'x'}]", NULL, 5, -1, 0, NULL,
     "messages[0] has no role"},
    {"messages not an array", LLM_DIALECT_OPENAI, "{'role':'user'}", NULL, 5, -1, 0, NULL,
     "must be an array"},
    {"tool call without a name", LLM_DIALECT_OPENAI,
     "[{'role':'assistant','content':'','tool_calls':[{'id':'c'}]}]", NULL, 5, -1, 0, NULL,
     "a tool call needs an id, a name"},
    {"arguments not an object", LLM_DIALECT_ANTHROPIC,
     "[{'role':'assistant','tool_calls':[{'id':'c','name':'n','arguments':[1]}]}]", NULL, 5, -1,
     0, NULL, "object arguments"},
    {"no max_tokens", LLM_DIALECT_ANTHROPIC, "[{'role':'user','content':'x'}]", NULL, 0, -1, 0,
     NULL, "max_tokens"},
    {"tool without a name", LLM_DIALECT_OPENAI, "[{'role':'user','content':'x'}]",
     "[{'description':'d'}]", 5, -1, 0, NULL, "a tool has no name"},
    {"anthropic nothing to send", LLM_DIALECT_ANTHROPIC, "[{'role':'system','content':'s'}]",
     NULL, 5, -1, 0, NULL, "no user or assistant message"},
};

static void test_requests(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(req_cases); i++) {
        const struct req_case *c = &req_cases[i];
        cJSON *msgs = qjson(c->messages);
        cJSON *tools = c->tools ? qjson(c->tools) : NULL;
        struct llm_wire_req r = {"m1", msgs, tools, c->max_tokens, c->temperature, c->stream};
        char *err = NULL;
        char *body = llm_wire_request(c->d, &r, &err);
        print_message("request: %s\n", c->name);
        if (c->want) {
            if (!body)
                fail_msg("%s: %s", c->name, err);
            cJSON *got = cJSON_Parse(body);
            assert_non_null(got);
            assert_json_equal(got, c->want);
            cJSON_Delete(got);
        } else {
            assert_null(body);
            assert_contains(err, c->err);
        }
        free(body);
        free(err);
        cJSON_Delete(msgs);
        cJSON_Delete(tools);
    }
}

static void test_paths(void **state)
{
    assert_string_equal(llm_wire_path(LLM_DIALECT_OPENAI), "/chat/completions");
    assert_string_equal(llm_wire_path(LLM_DIALECT_ANTHROPIC), "/v1/messages");
}

/* === complete answers === */

struct resp_case {
    const char *name;
    enum llm_dialect d;
    const char *body;            /* q() applied unless raw */
    int raw;
    int rc;
    const char *text;
    const char *calls;           /* neutral tool calls */
    enum llm_stop stop;
    const char *stop_raw;        /* NULL: none */
    int64_t tin, tout;
    const char *model, *id;
    const char *err;
};

static const struct resp_case resp_cases[] = {
    {"openai text", LLM_DIALECT_OPENAI,
     "{'id':'chatcmpl-1','object':'chat.completion','created':1700000000,'model':'gpt-4o-mini',"
     " 'choices':[{'index':0,'message':{'role':'assistant','content':'Hello there.'},"
     " 'logprobs':null,'finish_reason':'stop'}],"
     " 'usage':{'prompt_tokens':12,'completion_tokens':3,'total_tokens':15}}",
     0, 0, "Hello there.", "[]", LLM_STOP_END, "stop", 12, 3, "gpt-4o-mini", "chatcmpl-1", NULL},
    {"openai tool calls, null content", LLM_DIALECT_OPENAI,
     "{'id':'chatcmpl-2','model':'openai/gpt-4o','choices':[{'index':0,'message':{"
     " 'role':'assistant','content':null,'tool_calls':["
     "  {'id':'call_a','type':'function','function':{'name':'fs__read_file',"
     "   'arguments':'{\\'path\\': \\'src/main.c\\'}'}},"
     "  {'id':'call_b','type':'function','function':{'name':'git__status','arguments':''}}]},"
     " 'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':80,'completion_tokens':40}}",
     0, 0, "",
     "[{'id':'call_a','name':'fs__read_file','arguments':{'path':'src/main.c'}},"
     " {'id':'call_b','name':'git__status','arguments':{}}]",
     LLM_STOP_TOOL_USE, "tool_calls", 80, 40, "openai/gpt-4o", "chatcmpl-2", NULL},
    {"openai calls with finish_reason stop", LLM_DIALECT_OPENAI,
     "{'model':'llama3.1','choices':[{'message':{'role':'assistant','content':'',"
     " 'tool_calls':[{'id':'call_x','type':'function','function':{'name':'t',"
     " 'arguments':{'n':1}}}]},'finish_reason':'stop'}]}",
     0, 0, "", "[{'id':'call_x','name':'t','arguments':{'n':1}}]", LLM_STOP_TOOL_USE, "stop", -1,
     -1, "llama3.1", NULL, NULL},
    {"openai length", LLM_DIALECT_OPENAI,
     "{'choices':[{'message':{'role':'assistant','content':'Once upon'},"
     " 'finish_reason':'length'}]}",
     0, 0, "Once upon", "[]", LLM_STOP_MAX_TOKENS, "length", -1, -1, NULL, NULL, NULL},
    {"openai content filter", LLM_DIALECT_OPENAI,
     "{'choices':[{'message':{'role':'assistant','content':null},"
     " 'finish_reason':'content_filter'}]}",
     0, 0, "", "[]", LLM_STOP_OTHER, "content_filter", -1, -1, NULL, NULL, NULL},
    {"openai function_call", LLM_DIALECT_OPENAI,
     "{'choices':[{'message':{'content':'x'},'finish_reason':'function_call'}]}", 0, 0, "x", "[]",
     LLM_STOP_TOOL_USE, "function_call", -1, -1, NULL, NULL, NULL},
    {"openai malformed JSON", LLM_DIALECT_OPENAI, "{\"choices\": [}", 1, -1, NULL, NULL, 0, NULL,
     -1, -1, NULL, NULL, "malformed JSON at offset 13"},
    {"openai empty body", LLM_DIALECT_OPENAI, "", 1, -1, NULL, NULL, 0, NULL, -1, -1, NULL,
     NULL, "empty response body"},
    {"openai no choices", LLM_DIALECT_OPENAI, "{'id':'x','choices':[]}", 0, -1, NULL, NULL, 0,
     NULL, -1, -1, NULL, NULL, "no choices in the answer"},
    {"openai error in a 200", LLM_DIALECT_OPENAI,
     "{'error':{'message':'Provider returned error','code':502}}", 0, -1, NULL, NULL, 0, NULL, -1,
     -1, NULL, NULL, "the provider returned an error: Provider returned error"},
    {"openai malformed arguments", LLM_DIALECT_OPENAI,
     "{'choices':[{'message':{'tool_calls':[{'id':'c','type':'function','function':{"
     " 'name':'fs__write','arguments':'{\\'path\\': '}}]},'finish_reason':'tool_calls'}]}",
     0, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL, "malformed arguments for tool 'fs__write'"},
    {"openai arguments not an object", LLM_DIALECT_OPENAI,
     "{'choices':[{'message':{'tool_calls':[{'id':'c','type':'function','function':{"
     " 'name':'t','arguments':'[1,2]'}}]},'finish_reason':'tool_calls'}]}",
     0, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL, "for tool 't' are not a JSON object"},
    {"openai content parts", LLM_DIALECT_OPENAI,
     "{'choices':[{'message':{'content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]},"
     " 'finish_reason':'stop'}]}",
     0, 0, "ab", "[]", LLM_STOP_END, "stop", -1, -1, NULL, NULL, NULL},
    /* counts no int64_t holds (converting them was undefined): as if none came */
    {"openai absurd usage", LLM_DIALECT_OPENAI,
     "{'choices':[{'message':{'content':'x'},'finish_reason':'stop'}],"
     " 'usage':{'prompt_tokens':1e30,'completion_tokens':1.5e19}}",
     0, 0, "x", "[]", LLM_STOP_END, "stop", -1, -1, NULL, NULL, NULL},
    {"anthropic text", LLM_DIALECT_ANTHROPIC,
     "{'id':'msg_01','type':'message','role':'assistant','model':'claude-sonnet-4-5',"
     " 'content':[{'type':'text','text':'Hi! '},{'type':'text','text':'Done.'}],"
     " 'stop_reason':'end_turn','stop_sequence':null,"
     " 'usage':{'input_tokens':10,'output_tokens':5}}",
     0, 0, "Hi! Done.", "[]", LLM_STOP_END, "end_turn", 10, 5, "claude-sonnet-4-5", "msg_01",
     NULL},
    {"anthropic tool use, cached prompt", LLM_DIALECT_ANTHROPIC,
     "{'id':'msg_02','type':'message','role':'assistant','model':'claude-haiku-4-5',"
     " 'content':[{'type':'thinking','thinking':'hmm','signature':'s'},"
     "  {'type':'text','text':'Checking.'},"
     "  {'type':'tool_use','id':'toolu_01','name':'fs__read_file','input':{'path':'a.c'}},"
     "  {'type':'tool_use','id':'toolu_02','name':'git__log','input':{}}],"
     " 'stop_reason':'tool_use',"
     " 'usage':{'input_tokens':20,'cache_creation_input_tokens':100,"
     "  'cache_read_input_tokens':1000,'output_tokens':60}}",
     0, 0, "Checking.",
     "[{'id':'toolu_01','name':'fs__read_file','arguments':{'path':'a.c'}},"
     " {'id':'toolu_02','name':'git__log','arguments':{}}]",
     LLM_STOP_TOOL_USE, "tool_use", 1120, 60, "claude-haiku-4-5", "msg_02", NULL},
    {"anthropic max_tokens", LLM_DIALECT_ANTHROPIC,
     "{'content':[{'type':'text','text':'Long'}],'stop_reason':'max_tokens'}", 0, 0, "Long", "[]",
     LLM_STOP_MAX_TOKENS, "max_tokens", -1, -1, NULL, NULL, NULL},
    {"anthropic stop_sequence", LLM_DIALECT_ANTHROPIC,
     "{'content':[],'stop_reason':'stop_sequence'}", 0, 0, "", "[]", LLM_STOP_END,
     "stop_sequence", -1, -1, NULL, NULL, NULL},
    {"anthropic refusal", LLM_DIALECT_ANTHROPIC, "{'content':[],'stop_reason':'refusal'}", 0, 0,
     "", "[]", LLM_STOP_OTHER, "refusal", -1, -1, NULL, NULL, NULL},
    {"anthropic pause_turn", LLM_DIALECT_ANTHROPIC,
     "{'content':[{'type':'text','text':'x'}],'stop_reason':'pause_turn'}", 0, 0, "x", "[]",
     LLM_STOP_OTHER, "pause_turn", -1, -1, NULL, NULL, NULL},
    {"anthropic error body", LLM_DIALECT_ANTHROPIC,
     "{'type':'error','error':{'type':'overloaded_error','message':'Overloaded'}}", 0, -1, NULL,
     NULL, 0, NULL, -1, -1, NULL, NULL, "the provider returned an error: Overloaded"},
    {"anthropic malformed JSON", LLM_DIALECT_ANTHROPIC, "{\"content\": [1, 2", 1, -1, NULL, NULL,
     0, NULL, -1, -1, NULL, NULL, "malformed JSON at offset"},
    {"anthropic no content", LLM_DIALECT_ANTHROPIC, "{'id':'msg','stop_reason':'end_turn'}", 0,
     -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL, "no content in the answer"},
    {"anthropic input not an object", LLM_DIALECT_ANTHROPIC,
     "{'content':[{'type':'tool_use','id':'t','name':'n','input':'x'}],'stop_reason':'tool_use'}",
     0, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL, "for tool 'n' are not a JSON object"},
};

static void test_responses(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(resp_cases); i++) {
        const struct resp_case *c = &resp_cases[i];
        char *body = c->raw ? xstrdup(c->body) : q(c->body);
        struct llm_result r;
        char *err = NULL;
        print_message("response: %s\n", c->name);
        int rc = llm_wire_response(c->d, body, strlen(body), &r, &err);
        if (rc != c->rc)
            fail_msg("%s: rc %d, err %s", c->name, rc, err ? err : "-");
        if (rc == 0) {
            assert_string_equal(r.text, c->text);
            assert_json_equal(r.tool_calls, c->calls);
            assert_int_equal(r.stop, c->stop);
            if (c->stop_raw)
                assert_string_equal(r.stop_raw, c->stop_raw);
            else
                assert_null(r.stop_raw);
            assert_int_equal(r.tokens_in, c->tin);
            assert_int_equal(r.tokens_out, c->tout);
            if (c->model)
                assert_string_equal(r.model, c->model);
            else
                assert_null(r.model);
            if (c->id)
                assert_string_equal(r.id, c->id);
            else
                assert_null(r.id);
        } else {
            assert_contains(err, c->err);
            assert_null(r.text);
            assert_null(r.tool_calls);
        }
        llm_result_fini(&r);
        assert_null(r.text);
        free(err);
        free(body);
    }
    llm_result_fini(NULL);
}

/* The offset names the first byte the parser could not take. */
static void test_malformed_offset(void **state)
{
    const char *body = "{\"id\": \"x\", \"choices\": [{\"message\": nope}]}";
    struct llm_result r;
    char *err = NULL;
    assert_int_equal(llm_wire_response(LLM_DIALECT_OPENAI, body, strlen(body), &r, &err), -1);
    size_t off = (size_t)(strstr(body, "nope") - body);
    char want[64];
    snprintf(want, sizeof want, "malformed JSON at offset %zu", off);
    assert_string_equal(err, want);
    free(err);
    llm_result_fini(&r);
}

/* === error bodies === */

struct err_case {
    enum llm_dialect d;
    long status;
    const char *body;            /* raw */
    const char *want;
};

static const struct err_case err_cases[] = {
    {LLM_DIALECT_OPENAI, 429,
     "{\"error\": {\"message\": \"Rate limit reached for gpt-4o\", \"type\": \"requests\","
     " \"param\": null, \"code\": \"rate_limit_exceeded\"}}",
     "429: Rate limit reached for gpt-4o"},
    {LLM_DIALECT_OPENAI, 401,
     "{\"error\": {\"message\": \"Incorrect API key provided.\\nSee the docs.\","
     " \"type\": \"invalid_request_error\", \"code\": \"invalid_api_key\"}}",
     "401: Incorrect API key provided. See the docs."},
    {LLM_DIALECT_ANTHROPIC, 529,
     "{\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": "
     "\"Overloaded\"}, \"request_id\": \"req_1\"}",
     "529: Overloaded"},
    {LLM_DIALECT_OPENAI, 400, "{\"detail\": \"model not found\"}", "400: model not found"},
    {LLM_DIALECT_OPENAI, 404, "{\"error\": \"model 'x' not found\"}", "404: model 'x' not found"},
    {LLM_DIALECT_OPENAI, 502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\n</html>\n",
     "502: <html> <head><title>502 Bad Gateway</title></head> </html>"},
    {LLM_DIALECT_ANTHROPIC, 500, "", "500: empty response body"},
    {LLM_DIALECT_ANTHROPIC, 503, "  \n ", "503: empty response body"},
};

static void test_error_bodies(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(err_cases); i++) {
        const struct err_case *c = &err_cases[i];
        char *m = llm_wire_error(c->d, c->status, c->body, strlen(c->body));
        assert_string_equal(m, c->want);
        free(m);
    }
    /* a long body is cut (at a character boundary) and marked */
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 300; i++)
        buf_puts(&b, "\xc3\xa9");   /* é */
    char *m = llm_wire_error(LLM_DIALECT_OPENAI, 500, b.data, b.len);
    assert_true(strlen(m) <= strlen("500: ") + 200 + 3);
    assert_string_equal(m + strlen(m) - 3, "...");
    assert_true(((strlen(m) - strlen("500: ") - 3) % 2) == 0);
    free(m);
    buf_fini(&b);
}

/* === streams === */

struct stream_case {
    const char *name;
    enum llm_dialect d;
    const char *sse;             /* the raw event stream, q() applied */
    int event_rc;                /* -1: some event is refused */
    int rc;                      /* of llm_stream_finish */
    const char *text;
    const char *calls;
    enum llm_stop stop;
    const char *stop_raw;
    int64_t tin, tout;
    const char *model, *id;
    const char *err;
};

#define OAI(x)                                                                          \
    "data: {'id':'chatcmpl-9','object':'chat.completion.chunk','model':'gpt-4o'," x "}\n\n"

static const struct stream_case stream_cases[] = {
    {"openai tool call index past any int: as if it had none", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':1e30,'id':'call_X',"
         "'type':'function','function':{'name':'f','arguments':'{}'}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{},'finish_reason':'tool_calls'}]")
     "data: [DONE]\n\n",
     0, 0, "", "[{'id':'call_X','name':'f','arguments':{}}]", LLM_STOP_TOOL_USE, "tool_calls",
     -1, -1, "gpt-4o", "chatcmpl-9", NULL},
    {"openai text, usage chunk, [DONE]", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'role':'assistant','content':''},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'content':'Hel'},'finish_reason':null}],'usage':null")
     ": OPENROUTER PROCESSING\n\n"
     OAI("'choices':[{'index':1,'delta':{'content':'other choice'},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'content':'lo!'},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{},'finish_reason':'stop'}]")
     OAI("'choices':[],'usage':{'prompt_tokens':9,'completion_tokens':2,'total_tokens':11}")
     "data: [DONE]\n\n",
     0, 0, "Hello!", "[]", LLM_STOP_END, "stop", 9, 2, "gpt-4o", "chatcmpl-9", NULL},
    {"openai two tool calls, arguments split anywhere", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'role':'assistant','content':null,'tool_calls':["
         "{'index':0,'id':'call_A','type':'function','function':{'name':'fs__read_file',"
         "'arguments':''}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'function':"
         "{'arguments':'{\\'pa'}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':1,'id':'call_B','type':'function',"
         "'function':{'name':'git__diff','arguments':'{\\'staged\\':'}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'function':"
         "{'arguments':'th\\': \\'sr'}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':1,'function':"
         "{'arguments':' true}'}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'function':"
         "{'arguments':'c/a.c\\'}'}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{},'finish_reason':'tool_calls'}]")
     OAI("'choices':[],'usage':{'prompt_tokens':50,'completion_tokens':21}")
     "data: [DONE]\n\n",
     0, 0, "",
     "[{'id':'call_A','name':'fs__read_file','arguments':{'path':'src/a.c'}},"
     " {'id':'call_B','name':'git__diff','arguments':{'staged':true}}]",
     LLM_STOP_TOOL_USE, "tool_calls", 50, 21, "gpt-4o", "chatcmpl-9", NULL},
    {"openai empty arguments, no usage, no [DONE]", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'id':'c1','type':'function',"
         "'function':{'name':'git__status','arguments':''}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{},'finish_reason':'tool_calls'}]"),
     0, 0, "", "[{'id':'c1','name':'git__status','arguments':{}}]", LLM_STOP_TOOL_USE,
     "tool_calls", -1, -1, "gpt-4o", "chatcmpl-9", NULL},
    {"openai tool calls without index", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'id':'c1','type':'function',"
         "'function':{'name':'a','arguments':'{\\'x\\''}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'function':{'arguments':': 1}'}}]},"
         "'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'id':'c2','type':'function',"
         "'function':{'name':'b','arguments':'{}'}}]},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{},'finish_reason':'tool_calls'}]"),
     0, 0, "", "[{'id':'c1','name':'a','arguments':{'x':1}},{'id':'c2','name':'b','arguments':{}}]",
     LLM_STOP_TOOL_USE, "tool_calls", -1, -1, "gpt-4o", "chatcmpl-9", NULL},
    {"openai after [DONE] nothing counts", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'content':'ok'},'finish_reason':'length'}]")
     "data: [DONE]\n\n"
     "data: {'choices':[{'index':0,'delta':{'content':'late'}}]}\n\n"
     "data: not json\n\n",
     0, 0, "ok", "[]", LLM_STOP_MAX_TOKENS, "length", -1, -1, "gpt-4o", "chatcmpl-9", NULL},
    {"openai in-stream error", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'content':'par'},'finish_reason':null}]")
     "data: {'error':{'message':'Upstream provider overloaded','code':502}}\n\n",
     -1, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL,
     "the provider sent an error in the stream: Upstream provider overloaded"},
    {"openai truncated", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'content':'Hel'},'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{'content':'lo'},'finish_reason':null}]"),
     0, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL,
     "the stream ended before the answer was complete"},
    {"openai truncated before any chunk", LLM_DIALECT_OPENAI, "", 0, -1, NULL, NULL, 0, NULL, -1,
     -1, NULL, NULL, "ended before the answer was complete"},
    {"openai arguments that do not assemble", LLM_DIALECT_OPENAI,
     OAI("'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'id':'c1','type':'function',"
         "'function':{'name':'fs__write','arguments':'{\\'path\\': \\'x'}}]},"
         "'finish_reason':null}]")
     OAI("'choices':[{'index':0,'delta':{},'finish_reason':'tool_calls'}]") "data: [DONE]\n\n",
     0, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL, "malformed arguments for tool 'fs__write'"},
    {"openai malformed chunk", LLM_DIALECT_OPENAI, "data: {'choices': [\n\n", -1, -1, NULL, NULL,
     0, NULL, -1, -1, NULL, NULL, "malformed stream chunk: malformed JSON at offset"},
    {"anthropic text", LLM_DIALECT_ANTHROPIC,
     "event: message_start\n"
     "data: {'type':'message_start','message':{'id':'msg_1','type':'message','role':'assistant',"
     "'content':[],'model':'claude-sonnet-4-5','stop_reason':null,'stop_sequence':null,"
     "'usage':{'input_tokens':25,'output_tokens':1}}}\n\n"
     "event: content_block_start\n"
     "data: {'type':'content_block_start','index':0,'content_block':{'type':'text','text':''}}\n\n"
     "event: ping\ndata: {'type': 'ping'}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hello'}}"
     "\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':' you'}}"
     "\n\n"
     "event: content_block_stop\ndata: {'type':'content_block_stop','index':0}\n\n"
     "event: message_delta\n"
     "data: {'type':'message_delta','delta':{'stop_reason':'end_turn','stop_sequence':null},"
     "'usage':{'output_tokens':15}}\n\n"
     "event: message_stop\ndata: {'type':'message_stop'}\n\n",
     0, 0, "Hello you", "[]", LLM_STOP_END, "end_turn", 25, 15, "claude-sonnet-4-5", "msg_1",
     NULL},
    {"anthropic text then tool_use in pieces", LLM_DIALECT_ANTHROPIC,
     "event: message_start\n"
     "data: {'type':'message_start','message':{'id':'msg_2','model':'claude-opus-4-1',"
     "'usage':{'input_tokens':400,'cache_read_input_tokens':600,'output_tokens':2}}}\n\n"
     "event: content_block_start\n"
     "data: {'type':'content_block_start','index':0,'content_block':{'type':'text','text':''}}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':0,'delta':{'type':'text_delta',"
     "'text':'Let me check.'}}\n\n"
     "event: content_block_stop\ndata: {'type':'content_block_stop','index':0}\n\n"
     "event: content_block_start\n"
     "data: {'type':'content_block_start','index':1,'content_block':{'type':'tool_use',"
     "'id':'toolu_9','name':'fs__read_file','input':{}}}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':1,'delta':{'type':'input_json_delta',"
     "'partial_json':''}}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':1,'delta':{'type':'input_json_delta',"
     "'partial_json':'{\\'path\\': \\'READ'}}\n\n"
     "event: ping\ndata: {'type': 'ping'}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':1,'delta':{'type':'input_json_delta',"
     "'partial_json':'ME.md\\', \\'max'}}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':1,'delta':{'type':'input_json_delta',"
     "'partial_json':'\\': 10}'}}\n\n"
     "event: content_block_stop\ndata: {'type':'content_block_stop','index':1}\n\n"
     "event: content_block_start\n"
     "data: {'type':'content_block_start','index':2,'content_block':{'type':'tool_use',"
     "'id':'toolu_10','name':'git__status','input':{}}}\n\n"
     "event: content_block_stop\ndata: {'type':'content_block_stop','index':2}\n\n"
     "event: message_delta\n"
     "data: {'type':'message_delta','delta':{'stop_reason':'tool_use','stop_sequence':null},"
     "'usage':{'output_tokens':89}}\n\n"
     "event: message_stop\ndata: {'type':'message_stop'}\n\n",
     0, 0, "Let me check.",
     "[{'id':'toolu_9','name':'fs__read_file','arguments':{'path':'README.md','max':10}},"
     " {'id':'toolu_10','name':'git__status','arguments':{}}]",
     LLM_STOP_TOOL_USE, "tool_use", 1000, 89, "claude-opus-4-1", "msg_2", NULL},
    {"anthropic error event", LLM_DIALECT_ANTHROPIC,
     "event: message_start\n"
     "data: {'type':'message_start','message':{'id':'msg_3','model':'m','usage':{}}}\n\n"
     "event: error\n"
     "data: {'type':'error','error':{'type':'overloaded_error','message':'Overloaded'}}\n\n",
     -1, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL,
     "the provider sent an error in the stream: Overloaded"},
    {"anthropic truncated", LLM_DIALECT_ANTHROPIC,
     "event: message_start\n"
     "data: {'type':'message_start','message':{'id':'msg_4','model':'m','usage':{}}}\n\n"
     "event: content_block_start\n"
     "data: {'type':'content_block_start','index':0,'content_block':{'type':'text','text':''}}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hi'}}"
     "\n\n"
     "event: message_delta\n"
     "data: {'type':'message_delta','delta':{'stop_reason':'end_turn'},'usage':{'output_tokens':2}}"
     "\n\n",
     0, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL,
     "the stream ended before the answer was complete"},
    {"anthropic tool input that does not assemble", LLM_DIALECT_ANTHROPIC,
     "event: content_block_start\n"
     "data: {'type':'content_block_start','index':0,'content_block':{'type':'tool_use',"
     "'id':'toolu_1','name':'fs__write','input':{}}}\n\n"
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':0,'delta':{'type':'input_json_delta',"
     "'partial_json':'{\\'path\\': '}}\n\n"
     "event: message_delta\ndata: {'type':'message_delta','delta':{'stop_reason':'tool_use'}}\n\n"
     "event: message_stop\ndata: {'type':'message_stop'}\n\n",
     0, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL, "malformed arguments for tool 'fs__write'"},
    {"anthropic input delta for no tool_use", LLM_DIALECT_ANTHROPIC,
     "event: content_block_delta\n"
     "data: {'type':'content_block_delta','index':3,'delta':{'type':'input_json_delta',"
     "'partial_json':'{}'}}\n\n",
     -1, -1, NULL, NULL, 0, NULL, -1, -1, NULL, NULL, "content block 3"},
    {"anthropic malformed event", LLM_DIALECT_ANTHROPIC,
     "event: content_block_delta\ndata: {'type':\n\n", -1, -1, NULL, NULL, 0, NULL, -1, -1, NULL,
     NULL, "malformed stream event 'content_block_delta'"},
};

struct feed {
    struct llm_stream *s;
    int rc;
    char *err;
    struct buf deltas;
    int ndeltas;
};

static void on_delta(void *payload, const char *text, size_t len)
{
    struct feed *f = payload;
    assert_true(len > 0);
    buf_append(&f->deltas, text, len);
    f->ndeltas++;
}

static int on_event(void *payload, const struct sse_event *ev)
{
    struct feed *f = payload;
    f->rc = llm_stream_event(f->s, ev->type, ev->data, ev->data_len, &f->err);
    return f->rc < 0;   /* the gateway stops reading at an error */
}

static void run_stream_case(const struct stream_case *c, size_t chunk)
{
    char *text = q(c->sse);
    size_t len = strlen(text);
    struct feed f = {0};
    buf_init(&f.deltas);
    f.s = llm_stream_new(c->d, on_delta, &f);
    struct sse_parser p;
    sse_init(&p, 1 << 20);
    for (size_t off = 0; off < len && f.rc == 0; off += chunk)
        sse_feed(&p, text + off, len - off < chunk ? len - off : chunk, on_event, &f);
    sse_fini(&p);
    if (f.rc != c->event_rc)
        fail_msg("%s (chunk %zu): event rc %d (%s)", c->name, chunk, f.rc, f.err ? f.err : "-");
    if (f.rc < 0)
        assert_contains(f.err, c->err);
    struct llm_result r;
    char *err = NULL;
    int rc = llm_stream_finish(f.s, &r, &err);
    if (rc != c->rc)
        fail_msg("%s (chunk %zu): finish rc %d (%s)", c->name, chunk, rc, err ? err : "-");
    if (rc == 0) {
        assert_string_equal(r.text, c->text);
        /* every delta reached the callback, and nothing else did */
        assert_string_equal(f.deltas.data ? f.deltas.data : "", c->text);
        assert_json_equal(r.tool_calls, c->calls);
        assert_int_equal(r.stop, c->stop);
        assert_string_equal(r.stop_raw, c->stop_raw);
        assert_int_equal(r.tokens_in, c->tin);
        assert_int_equal(r.tokens_out, c->tout);
        assert_string_equal(r.model, c->model);
        assert_string_equal(r.id, c->id);
    } else {
        assert_contains(err, c->err);
        assert_null(r.text);
    }
    llm_result_fini(&r);
    free(err);
    free(f.err);
    buf_fini(&f.deltas);
    llm_stream_free(f.s);
    free(text);
}

static void test_streams(void **state)
{
    static const size_t chunks[] = {1, 2, 7, 64, 1 << 20};
    for (size_t i = 0; i < ARRAY_LEN(stream_cases); i++) {
        print_message("stream: %s\n", stream_cases[i].name);
        for (size_t k = 0; k < ARRAY_LEN(chunks); k++)
            run_stream_case(&stream_cases[i], chunks[k]);
    }
}

/* Deltas reach the callback as they arrive, before the stream ends. */
static void test_stream_deltas_arrive_early(void **state)
{
    struct feed f = {0};
    buf_init(&f.deltas);
    f.s = llm_stream_new(LLM_DIALECT_OPENAI, on_delta, &f);
    char *chunk = q("{'choices':[{'index':0,'delta':{'content':'Hi'},'finish_reason':null}]}");
    char *err = NULL;
    assert_int_equal(llm_stream_event(f.s, "message", chunk, strlen(chunk), &err), 0);
    assert_int_equal(f.ndeltas, 1);
    assert_string_equal(f.deltas.data, "Hi");
    /* no finish_reason yet: not an answer */
    struct llm_result r;
    assert_int_equal(llm_stream_finish(f.s, &r, &err), -1);
    assert_contains(err, "ended before");
    free(err);
    free(chunk);
    buf_fini(&f.deltas);
    llm_stream_free(f.s);
    llm_stream_free(NULL);
}

/* After an error event, later events and finish report that error. */
static void test_stream_error_sticks(void **state)
{
    struct llm_stream *s = llm_stream_new(LLM_DIALECT_ANTHROPIC, NULL, NULL);
    char *ev = q("{'type':'error','error':{'type':'api_error','message':'Internal'}}");
    char *stop = q("{'type':'message_stop'}");
    char *err = NULL;
    assert_int_equal(llm_stream_event(s, "error", ev, strlen(ev), &err), -1);
    assert_string_equal(err, "the provider sent an error in the stream: Internal");
    free(err);
    err = NULL;
    assert_int_equal(llm_stream_event(s, "message_stop", stop, strlen(stop), &err), -1);
    assert_contains(err, "Internal");
    free(err);
    err = NULL;
    struct llm_result r;
    assert_int_equal(llm_stream_finish(s, &r, &err), -1);
    assert_contains(err, "Internal");
    free(err);
    free(ev);
    free(stop);
    llm_stream_free(s);
}

/* An answer may ask for at most 128 tool calls, whole or streamed, in
 * either dialect; one more fails the answer, saying so. */
static void test_tool_call_limit(void **state)
{
    (void)state;
    const char *want = "the answer asks for more than 128 tool calls";
    for (int n = 128; n <= 129; n++) {
        for (int d = 0; d < 2; d++) {
            enum llm_dialect dl = d ? LLM_DIALECT_ANTHROPIC : LLM_DIALECT_OPENAI;
            struct buf b;
            buf_init(&b);
            buf_puts(&b, d ? "{\"type\":\"message\",\"content\":["
                           : "{\"choices\":[{\"message\":{\"role\":\"assistant\","
                             "\"tool_calls\":[");
            for (int i = 0; i < n; i++)
                buf_printf(&b, d ? "%s{\"type\":\"tool_use\",\"id\":\"t%d\",\"name\":\"x\","
                                   "\"input\":{}}"
                                 : "%s{\"id\":\"t%d\",\"type\":\"function\",\"function\":"
                                   "{\"name\":\"x\",\"arguments\":\"{}\"}}",
                           i ? "," : "", i);
            buf_puts(&b, d ? "],\"stop_reason\":\"tool_use\"}"
                           : "]},\"finish_reason\":\"tool_calls\"}]}");
            struct llm_result r;
            char *err = NULL;
            int rc = llm_wire_response(dl, b.data, b.len, &r, &err);
            if (n == 128) {
                if (rc != 0)
                    fail_msg("dialect %d, 128 calls: %s", d, err);
                assert_int_equal(cJSON_GetArraySize(r.tool_calls), 128);
                llm_result_fini(&r);
            } else {
                assert_int_equal(rc, -1);
                assert_string_equal(err, want);
                free(err);
            }
            buf_fini(&b);

            /* streamed: a call a chunk (OpenAI), a block an event (Anthropic) */
            struct llm_stream *s = llm_stream_new(dl, NULL, NULL);
            int failed = 0;
            err = NULL;
            for (int i = 0; i < n && !failed; i++) {
                buf_init(&b);
                if (d)
                    buf_printf(&b, "{\"type\":\"content_block_start\",\"index\":%d,"
                                   "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t%d\","
                                   "\"name\":\"x\",\"input\":{}}}", i, i);
                else
                    buf_printf(&b, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":"
                                   "[{\"index\":%d,\"id\":\"t%d\",\"function\":{\"name\":"
                                   "\"x\",\"arguments\":\"{}\"}}]}}]}", i, i);
                failed = llm_stream_event(s, d ? "content_block_start" : "message", b.data, b.len,
                                          &err) < 0;
                buf_fini(&b);
            }
            if (n == 128) {
                if (failed)
                    fail_msg("dialect %d, 128 streamed calls: %s", d, err);
            } else {
                assert_true(failed);
                assert_string_equal(err, want);
                free(err);
            }
            llm_stream_free(s);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_tool_call_limit),
        cmocka_unit_test(test_malformed_offset),
        cmocka_unit_test(test_error_bodies),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_stream_deltas_arrive_early),
        cmocka_unit_test(test_stream_error_sticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
