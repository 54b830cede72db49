#!/bin/bash
# Source checks the compiler does not make, over every *.c and *.h that git
# tracks (tests and benchmarks included).  One line per problem,
# "FILE:LINE: message"; exits 1 if there is any.
#
#   scripts/checksrc.sh              every check
#   scripts/checksrc.sh --no-format  every check but the clang-format one
#
# 1. Format: `clang-format --dry-run --Werror` with .clang-format.
# 2. Banned functions (the table below).  A line that has to call one
#    says so, and why, on the same line:
#        n = sscanf(line, "X=%d", &x); /* checksrc: allow sscanf - why */
# 3. Function length: at most $max_body lines between a function's
#    braces (kernel style: `{` and `}` alone in column 0), unless
#    scripts/checksrc-allow.txt names the function with its length, which
#    it may not exceed, and a reason.  An entry that is no longer needed
#    (the function is gone or within the budget) is a problem too, so
#    that the list stays true.
# 4. Project headers are included by their name alone ("ll_buf.h", never
#    "private/x.h" or "../x.h"): the include path a target gets from the
#    build decides which headers it may see (HACKING.md, Style, habit 1).
set -u
cd "$(dirname "$0")/.." || exit 1

format=1
for arg in "$@"; do
	case "$arg" in
	--no-format) format=0 ;;
	*)
		echo "usage: $0 [--no-format]" >&2
		exit 2
		;;
	esac
done

max_body=120
allow_file=scripts/checksrc-allow.txt

# NAME SCOPE WHY.  SCOPE "all" bans it everywhere; "prod" bans it in the
# programs and common/ only: number parsers without error reports are
# wrong where the input comes from a peer or a user, but tests/ and bench/
# read numbers their own Xvfb, xdotool or /proc print, where a misreading
# fails the run in plain sight.
banned="
strcpy   all unbounded copy; use snprintf, or memcpy with a checked length
strcat   all unbounded append; use snprintf or a GString
strncpy  all leaves no NUL when it fills the buffer; use snprintf or memcpy
strncat  all its bound is the room left, not the size; use snprintf
sprintf  all unbounded; use snprintf
vsprintf all unbounded; use vsnprintf
gets     all cannot be bounded at all; use fgets or getline
strtok   all hidden static state, not thread-safe; use strtok_r or g_strsplit
atoi    prod no error report, undefined on overflow; use strtol with checks
atol    prod no error report, undefined on overflow; use strtol with checks
atoll   prod no error report, undefined on overflow; use strtoll with checks
atof    prod no error report; use strtod with checks
alloca   all unbounded stack use (what -Wvla forbids for arrays)
system   all runs a shell on its argument; spawn with an argv (g_spawn_*)
popen    all runs a shell on its argument; spawn with an argv (g_spawn_*)
tmpnam   all the name can be taken before it is used; use mkstemp
tempnam  all the name can be taken before it is used; use mkstemp
mktemp   all the name can be taken before it is used; use mkstemp or mkdtemp
rand     all predictable; use ll_random_bytes (tests: g_random_*)
srand    all predictable; use ll_random_bytes (tests: g_random_*)
asctime  all static result, not thread-safe; use strftime
ctime    all static result, not thread-safe; use the _r variant or strftime
gmtime   all static result, not thread-safe; use gmtime_r
localtime all static result, not thread-safe; use localtime_r
pthread_cancel all threads end by being told (HACKING.md habit 7), never cancelled
scanf   prod %d is undefined on overflow, %s unbounded; parse with ll_buf or strtol
fscanf  prod %d is undefined on overflow, %s unbounded; parse with ll_buf or strtol
sscanf  prod %d is undefined on overflow, %s unbounded; parse with ll_buf or strtol
vsscanf prod %d is undefined on overflow, %s unbounded; parse with ll_buf or strtol
"

mapfile -t files < <(git ls-files -- '*.c' '*.h')
problems=0
report() {
	printf '%s\n' "$1"
	problems=$((problems + 1))
}

# 1. Format: one line per file, at its first difference.
if [ "$format" -eq 1 ]; then
	if ! command -v clang-format >/dev/null; then
		report ".clang-format:1: clang-format is not installed (scripts/deps.sh)"
	else
		for f in "${files[@]}"; do
			out=$(clang-format --dry-run --Werror "$f" 2>&1) && continue
			line=$(printf '%s\n' "$out" |
				sed -n 's/^[^:]*:\([0-9]*\):[0-9]*: error:.*/\1/p' |
				head -n 1)
			n=$(printf '%s\n' "$out" | grep -c ': error: ')
			report "$f:${line:-1}: differs from .clang-format in $n places (clang-format -i $f)"
		done
	fi
fi

# 2-4. One pass of awk over the code with comments and literals blanked
# out (line numbers kept), so that a name in a comment or a string is not
# taken for a call.
out=$(awk -v banned="$banned" -v max_body="$max_body" \
	-v allow_file="$allow_file" '
function blank(s, i, c, n, r, q) {
	# Blanks comments, string and character literals of one line;
	# in_comment carries a /* ... */ over lines.
	r = ""
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (in_comment) {
			if (c == "*" && substr(s, i + 1, 1) == "/") {
				in_comment = 0
				i++
			}
			r = r " "
			continue
		}
		if (c == "/" && substr(s, i + 1, 1) == "*") {
			in_comment = 1
			r = r "  "
			i++
			continue
		}
		if (c == "/" && substr(s, i + 1, 1) == "/")
			break
		if (c == "\"" || c == "\x27") {
			q = c
			r = r c
			for (i++; i <= n; i++) {
				c = substr(s, i, 1)
				if (c == "\\") {
					i++
					r = r "  "
					continue
				}
				if (c == q)
					break
				r = r " "
			}
			r = r q
			continue
		}
		r = r c
	}
	return r
}
function fn_name(sig, t) {
	t = sig
	sub(/\(.*/, "", t)
	sub(/.*[^A-Za-z0-9_]/, "", t)
	return t
}
BEGIN {
	nb = split(banned, rows, "\n")
	for (i = 1; i <= nb; i++) {
		if (rows[i] == "")
			continue
		split(rows[i], f, " ")
		why = rows[i]
		sub(/^[^ ]+ +[^ ]+ +/, "", why)
		ban_scope[f[1]] = f[2]
		ban_why[f[1]] = why
		ban_re = ban_re (ban_re == "" ? "" : "|") f[1]
	}
	ban_re = "(^|[^A-Za-z0-9_.>])(" ban_re ")[ \t]*\\("
	while ((getline line < allow_file) > 0) {
		allow_no++
		if (line ~ /^[ \t]*(#|$)/)
			continue
		split(line, f, " ")
		reason = line
		sub(/^[^ ]+ +[^ ]+ +[^ ]+ */, "", reason)
		if (f[3] !~ /^[0-9]+$/ || reason == "") {
			printf "%s:%d: want: FILE FUNCTION LINES REASON\n",
			       allow_file, allow_no
			continue
		}
		key = f[1] " " f[2]
		allow_len[key] = f[3] + 0
		allow_line[key] = allow_no
	}
}
FNR == 1 {
	in_comment = 0
	in_fn = 0
	sig = ""
	tests = (FILENAME ~ /^(tests|bench)\//)
}
{
	raw = $0
	code = blank(raw)

	# 4. includes by name alone
	if (raw ~ /^[ \t]*#[ \t]*include[ \t]*"[^"]*\//)
		printf "%s:%d: include a project header by its name alone; the build decides which headers a target sees\n",
		       FILENAME, FNR

	# 2. banned functions
	rest = code
	while (match(rest, ban_re)) {
		call = substr(rest, RSTART, RLENGTH)
		rest = substr(rest, RSTART + RLENGTH)
		sub(/^[^A-Za-z_]*/, "", call)
		sub(/[ \t]*\($/, "", call)
		if (tests && ban_scope[call] == "prod")
			continue
		if (index(raw, "checksrc: allow " call " ") > 0)
			continue
		printf "%s:%d: %s(): %s\n", FILENAME, FNR, call,
		       ban_why[call]
	}

	# 3. function length
	# a definition starts in column 0 and its name is before the first (
	if (!in_fn && code ~ /^[A-Za-z_]/ && code ~ /\(/)
		sig = code
	if (code ~ /^\{/ && !in_fn && sig != "") {
		in_fn = 1
		start = FNR
		name = fn_name(sig)
		next
	}
	if (code ~ /^\}/ && in_fn) {
		in_fn = 0
		body = FNR - start - 1
		key = FILENAME " " name
		seen[key] = 1
		sig = ""
		if (key in allow_len) {
			if (body > allow_len[key])
				printf "%s:%d: %s() has %d lines, more than the %d of %s:%d\n",
				       FILENAME, start, name, body,
				       allow_len[key], allow_file,
				       allow_line[key]
			else if (body <= max_body)
				printf "%s:%d: %s() has %d lines, within the budget: remove it from %s\n",
				       allow_file, allow_line[key], name, body,
				       allow_file
		} else if (body > max_body) {
			printf "%s:%d: %s() has %d lines, more than %d: split it (or see %s)\n",
			       FILENAME, start, name, body, max_body,
			       allow_file
		}
	}
}
END {
	for (key in allow_len)
		if (!(key in seen))
			printf "%s:%d: no function %s\n", allow_file,
			       allow_line[key], key
}
' "${files[@]}")
if [ -n "$out" ]; then
	while IFS= read -r l; do
		report "$l"
	done <<<"$out"
fi

[ "$problems" -eq 0 ]
