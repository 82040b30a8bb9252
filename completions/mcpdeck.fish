# fish completion for mcpdeck. Install as mcpdeck.fish in a directory of
# $fish_complete_path (make install: $(PREFIX)/share/fish/vendor_completions.d).
#
# Subcommands, their words and options are listed here (`mcpdeck --help` is
# the reference); names that change with the config and the store (servers,
# tools, job ids, namespaces, models) come from `mcpdeck __complete WHAT`,
# which starts no server and prints "name<TAB>description" lines as fish
# wants them. A -c/--config or --data-dir already on the command line is
# passed on to it.

# The subcommand and its positional words before the cursor, one a line
# (option values are skipped; "--" after the subcommand counts as a word).
function __mcpdeck_words
    set -l valued -c --config --data-dir --format -o --output --timeout --concurrency \
        --metrics-file --log-level --log-file --theme --batch --type --cap --server --tool \
        --args --model --ns --namespace --meta --ttl --mode --filter --min-score -k --k \
        --limit --status --count --http --serve-http --spec
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    set -l out
    for w in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if test (count $out) -gt 0; and test "x$w" = x--
            set -a out $w
            continue
        end
        if string match -q -- '-?*' $w
            contains -- $w $valued; and set skip 1
            continue
        end
        set -a out $w
    end
    set -q out[1]; and printf '%s\n' $out
end

# __mcpdeck_is N [REGEX...]: N words so far (see __mcpdeck_words), the
# first ones matching REGEX... in order ("." matches any word).
function __mcpdeck_is
    set -l w (__mcpdeck_words)
    test (count $w) -eq $argv[1]; or return 1
    set -e argv[1]
    set -l k 1
    for re in $argv
        string match -qr -- "^($re)\$" $w[$k]; or return 1
        set k (math $k + 1)
    end
end

# __mcpdeck_in CMD [SUB]: the subcommand is CMD (and its first word SUB).
function __mcpdeck_in
    set -l w (__mcpdeck_words)
    test "$w[1]" = $argv[1]; or return 1
    set -q argv[2]; or return 0
    test "$w[2]" = $argv[2]
end

# The word N of __mcpdeck_words.
function __mcpdeck_word
    set -l w (__mcpdeck_words)
    set -q w[$argv[1]]; and printf '%s\n' $w[$argv[1]]
end

# The value given to option $argv[1] before the cursor.
function __mcpdeck_opt
    set -l tokens (commandline -opc)
    set -l i (contains -i -- $argv[1] $tokens); or return
    set -q tokens[(math $i + 1)]; and printf '%s\n' $tokens[(math $i + 1)]
end

# __mcpdeck_dyn WHAT [ARG]: what `mcpdeck __complete WHAT [ARG]` prints.
function __mcpdeck_dyn
    set -l tokens (commandline -opc)
    set -l g
    set -l n (count $tokens)
    for i in (seq 2 (math $n - 1))
        switch $tokens[$i]
            case -c --config --data-dir
                set -a g $tokens[$i] (string replace -r '^~/' "$HOME/" -- $tokens[(math $i + 1)])
        end
    end
    set -l bin (string replace -r '^~/' "$HOME/" -- $tokens[1])
    command $bin $g __complete $argv 2>/dev/null
end

complete -c mcpdeck -f

# global options
complete -c mcpdeck -s h -l help -d 'print the usage'
complete -c mcpdeck -s V -l version -d 'print the version'
complete -c mcpdeck -s c -l config -r -F -d 'config file (YAML, .mcp.json, mcp.json)'
complete -c mcpdeck -l data-dir -x -a '(__fish_complete_directories)' -d 'where the database lives'
complete -c mcpdeck -n 'not __mcpdeck_in jobs' -l format -x -a '(__mcpdeck_dyn formats)' -d 'batch report format'
complete -c mcpdeck -n '__mcpdeck_in jobs' -l format -x -a 'text json md' -d 'output format'
complete -c mcpdeck -s o -l output -r -F -d 'write the batch report to FILE'
complete -c mcpdeck -l dry-run -d 'check the batch and print the plan; run nothing'
complete -c mcpdeck -l fail-fast -d 'stop the batch at the first failed task'
complete -c mcpdeck -l timeout -x -d 'cancel what is unfinished after DUR (e.g. 10m)'
complete -c mcpdeck -l resume -d 'continue an interrupted batch'
complete -c mcpdeck -l stream -d 'print model answers as they stream'
complete -c mcpdeck -l json -d 'print JSON'
complete -c mcpdeck -l concurrency -x -d 'jobs run at once'
complete -c mcpdeck -l metrics-file -r -F -d 'rewrite Prometheus metrics to PATH'
complete -c mcpdeck -l serve-http -x -d 'TUI: also serve MCP over HTTP on ADDR:PORT'
complete -c mcpdeck -l log-level -x -a '(__mcpdeck_dyn log-levels)' -d 'log level'
complete -c mcpdeck -l log-file -r -F -d 'the JSON-lines log'
complete -c mcpdeck -l theme -x -a '(__mcpdeck_dyn themes)' -d 'TUI colours'
complete -c mcpdeck -l ascii -d 'TUI: ASCII borders and glyphs'
complete -c mcpdeck -l batch -r -F -d 'run a task file headless'

# subcommands
complete -c mcpdeck -n '__mcpdeck_is 0' -a call -d 'call one tool, print its text'
complete -c mcpdeck -n '__mcpdeck_is 0' -a servers -d 'list, check and manage servers'
complete -c mcpdeck -n '__mcpdeck_is 0' -a run -d 'route one task to the best server and run it'
complete -c mcpdeck -n '__mcpdeck_is 0' -a jobs -d 'the job store'
complete -c mcpdeck -n '__mcpdeck_is 0' -a read -d 'read a resource'
complete -c mcpdeck -n '__mcpdeck_is 0' -a prompt -d 'get a prompt'
complete -c mcpdeck -n '__mcpdeck_is 0' -a complete -d 'completion/complete for a prompt argument'
complete -c mcpdeck -n '__mcpdeck_is 0' -a subscribe -d 'print resource updates'
complete -c mcpdeck -n '__mcpdeck_is 0' -a conformance -d 'client mode for the MCP conformance suite'
complete -c mcpdeck -n '__mcpdeck_is 0' -a memory -d 'the memory store'
complete -c mcpdeck -n '__mcpdeck_is 0' -a metrics -d 'Prometheus text of the queue, health and breakers'
complete -c mcpdeck -n '__mcpdeck_is 0' -a serve -d 'be an MCP server for other clients'

# servers
complete -c mcpdeck -n '__mcpdeck_is 1 servers' -a 'list check caps tools log add remove enable disable restart resources templates prompts'
complete -c mcpdeck -n '__mcpdeck_is 2 servers "tools|log|remove|enable|disable|restart|resources|templates|prompts"' -a '(__mcpdeck_dyn servers)'
complete -c mcpdeck -n '__mcpdeck_is 3 servers add' -a '-- --spec'
complete -c mcpdeck -n '__mcpdeck_is 4 servers add . --' -a '(__fish_complete_command)'
complete -c mcpdeck -n '__mcpdeck_in servers add; and test (count (__mcpdeck_words)) -ge 5; and string match -q -- -- (__mcpdeck_word 4)' -F

# jobs
complete -c mcpdeck -n '__mcpdeck_is 1 jobs' -a 'list show cancel retry result priority'
complete -c mcpdeck -n '__mcpdeck_is 2 jobs "show|cancel|retry|result|priority"' -k -a '(__mcpdeck_dyn jobs)'
complete -c mcpdeck -n '__mcpdeck_in jobs' -l status -x -a '(__mcpdeck_dyn statuses)' -d 'only jobs in these states'
complete -c mcpdeck -n '__mcpdeck_in jobs' -l limit -x -d 'at most N jobs'

# memory
complete -c mcpdeck -n '__mcpdeck_is 1 memory' -a 'add search get delete list export import reindex stats sync'
complete -c mcpdeck -n '__mcpdeck_is 2 memory import' -F
complete -c mcpdeck -n '__mcpdeck_in memory' -l ns -x -a '(__mcpdeck_dyn namespaces)' -d 'namespace'
complete -c mcpdeck -n '__mcpdeck_in memory add' -l meta -x -d 'metadata JSON'
complete -c mcpdeck -n '__mcpdeck_in memory add' -l ttl -x -d 'expire after DUR'
complete -c mcpdeck -n '__mcpdeck_in memory search' -s k -x -d 'results'
complete -c mcpdeck -n '__mcpdeck_in memory search' -l mode -x -a '(__mcpdeck_dyn modes)' -d 'search mode'
complete -c mcpdeck -n '__mcpdeck_in memory search' -l filter -x -d 'metadata filter JSON'
complete -c mcpdeck -n '__mcpdeck_in memory search' -l min-score -x -d 'lowest score kept'
complete -c mcpdeck -n '__mcpdeck_in memory list' -l limit -x -d 'at most N entries'
complete -c mcpdeck -n '__mcpdeck_in memory reindex' -l all -d 're-embed every entry'

# call, read, prompt, complete, subscribe
complete -c mcpdeck -n '__mcpdeck_is 1 "call|read|prompt|complete|subscribe"' -a '(__mcpdeck_dyn servers)'
complete -c mcpdeck -n '__mcpdeck_is 2 call' -a '(__mcpdeck_dyn tools (__mcpdeck_word 2))'
complete -c mcpdeck -n '__mcpdeck_in subscribe' -l count -x -d 'stop after N updates'

# run
complete -c mcpdeck -n '__mcpdeck_in run' -l type -x -a '(__mcpdeck_dyn task-types)' -d 'task type'
complete -c mcpdeck -n '__mcpdeck_in run' -l cap -x -a '(__mcpdeck_dyn capabilities)' -d 'required capability'
complete -c mcpdeck -n '__mcpdeck_in run' -l server -x -a '(__mcpdeck_dyn servers)' -d 'run on this server'
complete -c mcpdeck -n '__mcpdeck_in run' -l tool -x -a '(__mcpdeck_dyn tools (__mcpdeck_opt --server))' -d 'call this tool'
complete -c mcpdeck -n '__mcpdeck_in run' -l args -x -d 'tool arguments JSON'
complete -c mcpdeck -n '__mcpdeck_in run' -l model -x -a '(__mcpdeck_dyn models)' -d 'model or alias'
complete -c mcpdeck -n '__mcpdeck_in run' -l heavy -d 'prefer heavy servers'
complete -c mcpdeck -n '__mcpdeck_in run' -l light -d 'prefer light servers'
complete -c mcpdeck -n '__mcpdeck_in run' -l explain -d 'print why the route was chosen'

# metrics, serve
complete -c mcpdeck -n '__mcpdeck_in metrics' -l no-check -d 'skip the health round'
complete -c mcpdeck -n '__mcpdeck_in serve' -l http -x -d 'listen on ADDR:PORT instead of stdio'
